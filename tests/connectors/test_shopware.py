"""The Shopware 6 connector against the test shop: what it reads, what the shop receives.

The shop answers with the published order (see ``examples/shopware6/README.md``).
Tokens are cached across connector instances and renewed before they expire
and once on a 401; the payment moves through the state machine, whose refusal
is permanent; every call also fails in the ways a shop fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bluepaid_plugins.connector import ConnectorContext
from bluepaid_plugins.domain import Customer, EventKind, LineItem, OrderStatus, PaymentEvent, StatusEvent
from bluepaid_plugins.errors import (
    OrderNotFound,
    ShopAuthFailed,
    ShopRefused,
    ShopUnavailable,
    ValidationError,
)
from bluepaid_plugins.http import shop_session
from bluepaid_plugins.money import Money
from bluepaid_plugins.tokens import MemoryTokenCache
from connectors.shopware6 import ShopwareConnector
from connectors.shopware6.orders import TRANSACTION_STATES
from connectors.shopware6.transitions import DEFAULT_ACTIONS, DESTINATIONS, TRANSITIONS
from hub.testing.clock import FrozenClock
from hub.testing.conformance import PRIVATE_TARGET, GivenOrder
from hub.testing.shop_double import ShopDouble
from tests.connectors.shopware_shop import API, BASE_URL, SETTINGS, ShopwareShop, error, example
from tests.connectors.woocommerce_shop import NoOrders

EUR = "EUR"
TOKEN_PATH = f"{API}/oauth/token"


@pytest.fixture
def api() -> Iterator[ShopDouble]:
    double = ShopDouble(BASE_URL)
    with double.running():
        yield double


@pytest.fixture
def shop(api: ShopDouble) -> ShopwareShop:
    return ShopwareShop(api)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def tokens(clock: FrozenClock) -> MemoryTokenCache:
    """One cache for every connector of a test, as the hub lends one per process."""
    return MemoryTokenCache(clock)


MakeConnector = Callable[..., ShopwareConnector]


@pytest.fixture
def make_connector(shop: ShopwareShop, tokens: MemoryTokenCache) -> Iterator[MakeConnector]:
    sessions = []

    def make(mapping: dict[StatusEvent, str | None] | None = None, **changes: Any) -> ShopwareConnector:
        settings = ShopwareConnector.validate_settings({**SETTINGS, **changes})
        http = shop_session()
        sessions.append(http)
        context = ConnectorContext(
            shop="sw", http=http, orders=NoOrders(), status_mapping=mapping or {}, tokens=tokens
        )
        return ShopwareConnector(settings, context)

    yield make
    for http in sessions:
        http.close()


@pytest.fixture
def connector(make_connector: MakeConnector) -> ShopwareConnector:
    return make_connector()


def given(shop: ShopwareShop, ref: str = "10077", status: OrderStatus = OrderStatus.OPEN) -> str:
    items = (LineItem("T-shirt", 2, Decimal("12.50")), LineItem("Mug", 1, Decimal("11.60")))
    customer = Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    return shop.add(GivenOrder(ref, Money.parse("36.60", EUR), status, customer, items))


def event(kind: EventKind, amount: str = "36.60", *, id_trans: str = "BP000000000101") -> PaymentEvent:
    money = Money.parse(amount, EUR)
    refunds = kind in (EventKind.PARTIALLY_REFUNDED, EventKind.REFUNDED)
    return PaymentEvent(
        id=f"ev-{kind.value}-{id_trans}",
        payment_id="p" * 32,
        kind=kind,
        order_ref="10077",
        amount=money,
        paid_total=Money.parse("36.60", EUR),
        refunded_total=money if refunds else Money.from_minor(0, EUR),
        id_trans=id_trans,
        occurred_at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
        test=True,
    )


def writes(api: ShopDouble) -> list[tuple[str, str]]:
    return [(call.method, call.path) for call in api.writes]


def transaction_path(shop: ShopwareShop, action: str) -> str:
    return f"{API}/_action/order_transaction/{shop.transaction('10077')['id']}/state/{action}"


# Reading orders


def test_the_published_order_is_read_with_its_amounts_exact(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    shop.orders["10077"] = example("shopware-order.json")
    order = connector.fetch_order("10077")
    # 395.01 is a JSON number: read digit for digit, never through a float.
    assert (repr(order.total.amount), order.total.currency) == ("Decimal('395.01')", "EUR")
    assert order.status is OrderStatus.OPEN and order.payable
    # The delivery goes to Suriname, the bill to Guadeloupe: pays_liv is the delivery's.
    assert order.customer == Customer("test@example.com", "Max", "Mustermann", "SUR")
    assert order.items == (LineItem("Aerodynamic Bronze Slo-Cooked Prawns", 1, Decimal("395.01")),)
    assert order.secret == "bSMFEC_9bc6HYjzgpnXfCFP3mKAPeK7S"
    assert order.description == "Shopware order 10077"
    # The published order embeds no locale: no language is guessed.
    assert order.language == ""


def test_the_search_asks_for_the_order_number_with_everything_embedded(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop)
    connector.fetch_order("10077")
    (search,) = api.calls_to("POST", f"{API}/search/order")
    criteria = search.json()
    assert criteria["filter"] == [{"type": "equals", "field": "orderNumber", "value": "10077"}]
    assert {"transactions", "currency", "orderCustomer", "lineItems"} <= set(criteria["associations"])
    assert search.headers["accept"] == "application/json"


def test_an_unknown_order_number_is_not_found(shop: ShopwareShop, connector: ShopwareConnector) -> None:
    with pytest.raises(OrderNotFound, match="no order numbered '4711'"):
        connector.fetch_order("4711")


def test_an_order_without_transaction_is_refused_as_unreadable(
    shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop)
    shop.orders["10077"]["transactions"] = []
    with pytest.raises(ShopRefused, match="no payment transaction"):
        connector.fetch_order("10077")


@pytest.mark.parametrize(
    ("order_state", "transaction_state", "status"),
    [
        ("open", "unconfirmed", OrderStatus.OPEN),
        ("in_progress", "in_progress", OrderStatus.OPEN),
        ("open", "cancelled", OrderStatus.FAILED),
        ("cancelled", "open", OrderStatus.CANCELLED),
        ("completed", "paid", OrderStatus.PAID),
        ("open", "paid_partially", OrderStatus.ON_HOLD),
        ("open", "a_plugins_own_state", OrderStatus.ON_HOLD),
    ],
)
def test_the_order_and_payment_states_are_read_together(
    shop: ShopwareShop,
    connector: ShopwareConnector,
    order_state: str,
    transaction_state: str,
    status: OrderStatus,
) -> None:
    given(shop)
    shop.orders["10077"]["stateMachineState"]["technicalName"] = order_state
    shop.transaction("10077")["stateMachineState"]["technicalName"] = transaction_state
    assert connector.fetch_order("10077").status is status


def test_the_newest_transaction_is_the_payment(shop: ShopwareShop, connector: ShopwareConnector) -> None:
    given(shop)
    first = shop.orders["10077"]["transactions"][0]
    first["stateMachineState"]["technicalName"] = "cancelled"
    newer = {**first, "id": "f" * 32, "createdAt": "2023-05-05T09:00:00.000+00:00"}
    newer["stateMachineState"] = {**first["stateMachineState"], "technicalName": "open"}
    shop.orders["10077"]["transactions"].append(newer)
    assert connector.fetch_order("10077").status is OrderStatus.OPEN


# Tokens


def test_one_token_serves_every_connector_until_shortly_before_it_expires(
    api: ShopDouble, shop: ShopwareShop, make_connector: MakeConnector, clock: FrozenClock
) -> None:
    given(shop)
    for _ in range(3):
        make_connector().fetch_order("10077")
    clock.advance(timedelta(minutes=8, seconds=59))
    make_connector().fetch_order("10077")
    assert len(api.calls_to("POST", TOKEN_PATH)) == 1
    # Less than a minute left of its 10: renewed before a call could outlive it.
    clock.advance(timedelta(seconds=2))
    make_connector().fetch_order("10077")
    assert len(api.calls_to("POST", TOKEN_PATH)) == 2


def test_a_token_refused_with_401_is_renewed_once_and_the_call_made_again(
    api: ShopDouble, shop: ShopwareShop, make_connector: MakeConnector
) -> None:
    given(shop)
    make_connector().fetch_order("10077")
    shop.revoke_tokens()
    order = make_connector().fetch_order("10077")
    assert order.ref == "10077"
    assert len(api.calls_to("POST", TOKEN_PATH)) == 2
    assert len(api.calls_to("POST", f"{API}/search/order")) == 3


def test_a_new_token_refused_again_is_a_credentials_problem_not_a_loop(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop)
    api.fail_next(401, json_body={"errors": [{"detail": "denied"}]}, times=5, path=f"{API}/search/order")
    with pytest.raises(ShopAuthFailed):
        connector.fetch_order("10077")
    assert len(api.calls_to("POST", f"{API}/search/order")) == 2
    assert len(api.calls_to("POST", TOKEN_PATH)) == 2


def test_refused_client_credentials_are_auth_failed_with_shopwares_words(
    shop: ShopwareShop, make_connector: MakeConnector
) -> None:
    connector = make_connector(client_secret="not-the-secret")
    with pytest.raises(ShopAuthFailed, match="Client authentication failed") as caught:
        connector.fetch_order("10077")
    assert "not-the-secret" not in str(caught.value)


def test_new_credentials_never_reuse_the_token_of_the_old_ones(
    api: ShopDouble, shop: ShopwareShop, make_connector: MakeConnector
) -> None:
    given(shop)
    make_connector().fetch_order("10077")
    with pytest.raises(ShopAuthFailed):
        make_connector(client_secret="a-new-secret").fetch_order("10077")
    assert [c.json()["client_secret"] for c in api.calls_to("POST", TOKEN_PATH)][-1] == "a-new-secret"


def test_a_token_answer_without_a_token_is_refused(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    api.fail_next(200, json_body={"token_type": "Bearer"}, path=TOKEN_PATH)
    with pytest.raises(ShopRefused, match="without a token"):
        connector.fetch_order("10077")


# Events


def test_a_payment_moves_the_transaction_to_paid_and_adds_the_note(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop)
    connector.apply_event(event(EventKind.PAID))
    order_id = shop.orders["10077"]["id"]
    assert writes(api) == [("POST", transaction_path(shop, "paid")), ("PATCH", f"{API}/order/{order_id}")]
    assert shop.status("10077") == "paid"
    assert shop.notes("10077") == ["Bluepaid: paid 36.60 EUR (TEST), transaction BP000000000101"]


def actions(api: ShopDouble) -> list[str]:
    return [c.path.rsplit("/", 1)[1] for c in api.writes if "/_action/" in c.path]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        # Shopware's own action where the state machine has it (OrderTransactionStateHandler::paid).
        ("open", ["paid"]),
        ("unconfirmed", ["paid"]),
        ("in_progress", ["paid"]),
        ("failed", ["paid"]),
        ("cancelled", ["paid"]),
        # From reminded only the older "pay" leads to paid (Migration1536233560BasicData).
        ("reminded", ["pay"]),
    ],
)
def test_a_payment_takes_the_action_the_state_machine_has_from_the_current_state(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector, state: str, expected: list[str]
) -> None:
    given(shop)
    shop.transaction("10077")["stateMachineState"]["technicalName"] = state
    connector.apply_event(event(EventKind.PAID))
    assert actions(api) == expected
    assert shop.status("10077") == "paid"


def test_a_refusal_after_a_cancel_reopens_the_transaction_first(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    # A buyer who turned back, then paid with a card Bluepaid refused: cancelled has no "fail".
    given(shop, status=OrderStatus.FAILED)
    shop.transaction("10077")["stateMachineState"]["technicalName"] = "cancelled"
    connector.apply_event(event(EventKind.REFUSED, id_trans="BP000000000109"))
    assert actions(api) == ["reopen", "fail"]
    assert shop.status("10077") == "failed"


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        # An action leading to the current state is no change and no error ("unnecessary").
        ("paid", "paid", "paid"),
        ("unconfirmed", "process_unconfirmed", "unconfirmed"),
        # Before 6.7 "cancel" is accepted from any state.
        ("refunded", "cancel", "cancelled"),
        ("paid", "refund", "refunded"),
    ],
)
def test_the_test_shop_applies_actions_as_shopwares_state_machine_registry(
    shop: ShopwareShop, connector: ShopwareConnector, state: str, action: str, after: str
) -> None:
    given(shop)
    shop.transaction("10077")["stateMachineState"]["technicalName"] = state
    connector._action(connector._read_order("10077"), action)
    assert shop.status("10077") == after


def test_the_test_shop_refuses_process_which_is_an_action_of_the_orders_machine_only(
    shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop)
    with pytest.raises(ShopRefused, match='Illegal transition "process" from state "open"'):
        connector._action(connector._read_order("10077"), "process")


def test_a_partial_then_a_full_refund_move_the_transaction_and_keep_both_notes(
    shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "10.00", id_trans="BP000000000102"))
    assert shop.status("10077") == "refunded_partially"
    connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "6.60", id_trans="BP000000000103"))
    connector.apply_event(event(EventKind.REFUNDED, "20.00", id_trans="BP000000000104"))
    assert shop.status("10077") == "refunded"
    assert [note.rsplit(" ", 1)[1] for note in shop.notes("10077")] == [
        "BP000000000102",
        "BP000000000103",
        "BP000000000104",
    ]


def test_the_same_event_again_writes_nothing(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop)
    connector.apply_event(event(EventKind.PAID))
    before = len(api.writes)
    connector.apply_event(event(EventKind.PAID))
    assert len(api.writes) == before


def test_a_retry_after_the_note_failed_writes_only_the_note(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop)
    api.fail_next(503, methods=("PATCH",))
    with pytest.raises(ShopUnavailable):
        connector.apply_event(event(EventKind.PAID))
    assert shop.status("10077") == "paid"
    connector.apply_event(event(EventKind.PAID))
    assert [c.method for c in api.writes] == ["POST", "PATCH", "PATCH"]
    assert len(shop.notes("10077")) == 1


def test_a_late_refusal_never_unpays_a_paid_order(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    connector.apply_event(event(EventKind.REFUSED, id_trans="BP000000000109"))
    assert shop.status("10077") == "paid"
    assert [c.method for c in api.writes] == ["PATCH"]


def test_an_illegal_transition_is_a_permanent_error_with_shopwares_reason(
    shop: ShopwareShop, make_connector: MakeConnector
) -> None:
    given(shop, status=OrderStatus.REFUNDED)
    # A merchant's mapping asks a refunded payment to go back to "authorized".
    connector = make_connector({StatusEvent.REFUNDED: "authorized"})
    with pytest.raises(ShopRefused) as caught:
        connector.apply_event(event(EventKind.REFUNDED))
    assert not caught.value.retryable and caught.value.status == 400
    assert 'Illegal transition "authorize" from state "refunded"' in str(caught.value)
    assert "SYSTEM__ILLEGAL_STATE_TRANSITION" in str(caught.value)


def test_a_mapped_state_no_action_reaches_is_refused_before_any_call(
    api: ShopDouble, shop: ShopwareShop, make_connector: MakeConnector
) -> None:
    given(shop)
    connector = make_connector({StatusEvent.PAID: "shipped_by_a_plugin"})
    with pytest.raises(ShopRefused, match="no state machine action"):
        connector.apply_event(event(EventKind.PAID))
    assert writes(api) == []


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [(429, ShopUnavailable, True), (503, ShopUnavailable, True), (403, ShopAuthFailed, False)],
)
def test_a_failed_transition_is_classified(
    api: ShopDouble,
    shop: ShopwareShop,
    connector: ShopwareConnector,
    status: int,
    error_type: type[Exception],
    retryable: bool,
) -> None:
    given(shop)
    api.answer_next(error(status, f"E{status}", "no"), path=f"{API}/_action/.*")
    with pytest.raises(error_type) as caught:
        connector.apply_event(event(EventKind.PAID))
    assert getattr(caught.value, "retryable", None) is retryable


def test_a_redirect_to_a_private_address_is_refused(
    api: ShopDouble, shop: ShopwareShop, connector: ShopwareConnector
) -> None:
    given(shop)
    api.redirect_next(PRIVATE_TARGET, path=f"{API}/search/order")
    with pytest.raises(ShopRefused, match="not followed"):
        connector.fetch_order("10077")


# Settings and the connection


def test_an_http_shop_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="HTTPS only"):
        ShopwareConnector.validate_settings({**SETTINGS, "base_url": "http://shopware.example"})


def test_check_connection_names_the_version(shop: ShopwareShop, connector: ShopwareConnector) -> None:
    found = connector.check_connection()
    assert found == "Shopware 6.5.8.8 at https://shopware.example: integration credentials accepted"


def test_check_connection_says_where_the_credentials_are(
    shop: ShopwareShop, make_connector: MakeConnector
) -> None:
    with pytest.raises(ShopAuthFailed, match="Settings > System > Integrations"):
        make_connector(client_id="SWIAWRONG").check_connection()


def test_check_connection_on_a_wrong_url_says_so(api: ShopDouble, connector: ShopwareConnector) -> None:
    # A site with no Shopware there: the token request already finds nothing.
    api.fail_next(404, body="<html>Not Found</html>", times=5)
    with pytest.raises(OrderNotFound, match="No Shopware 6 Admin API"):
        connector.check_connection()


def test_each_transaction_state_has_one_action_leading_to_it() -> None:
    # The twelve states of OrderTransactionStates, each reached by the action Shopware's code uses.
    assert set(TRANSITIONS) == set(TRANSACTION_STATES) == set(DEFAULT_ACTIONS)
    assert all(DESTINATIONS[action] == state for state, action in DEFAULT_ACTIONS.items())
