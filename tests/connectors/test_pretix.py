"""The pretix connector against the test event: what it reads, what pretix receives.

The event answers with bodies recorded from a real pretix (see
``pretix_shop.py``); the live test (``tests/e2e/test_pretix_live.py``) runs
the same flows against pretix itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bluepaid_plugins.connector import ConnectorContext
from bluepaid_plugins.domain import Customer, EventKind, OrderStatus, PaymentEvent, StatusEvent
from bluepaid_plugins.errors import OrderNotFound, ShopRefused, ShopUnavailable, ValidationError
from bluepaid_plugins.http import shop_session
from bluepaid_plugins.money import Money
from connectors.pretix import PretixConnector
from connectors.pretix.orders import UnreadableOrder, read_order
from hub.testing.conformance import GivenOrder
from hub.testing.shop_double import Reply, ShopDouble
from tests.connectors.pretix_shop import API, BASE_URL, SETTINGS, PretixShop, example
from tests.connectors.woocommerce_shop import NoOrders

EUR = "EUR"
MakeConnector = Callable[..., PretixConnector]


@pytest.fixture
def api() -> Iterator[ShopDouble]:
    double = ShopDouble(BASE_URL)
    with double.running():
        yield double


@pytest.fixture
def shop(api: ShopDouble) -> PretixShop:
    return PretixShop(api)


@pytest.fixture
def make_connector(shop: PretixShop) -> Iterator[MakeConnector]:
    sessions = []

    def make(mapping: dict[StatusEvent, str | None] | None = None, **changes: Any) -> PretixConnector:
        settings = PretixConnector.validate_settings({**SETTINGS, **changes})
        http = shop_session()
        sessions.append(http)
        context = ConnectorContext(shop="pretix", http=http, orders=NoOrders(), status_mapping=mapping or {})
        return PretixConnector(settings, context)

    yield make
    for http in sessions:
        http.close()


@pytest.fixture
def connector(make_connector: MakeConnector) -> PretixConnector:
    return make_connector()


def given(shop: PretixShop, code: str = "ABC12", status: OrderStatus = OrderStatus.OPEN) -> str:
    customer = Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    return shop.add(GivenOrder(code, Money.parse("36.60", EUR), status, customer, language="FR"))


def event(
    kind: EventKind, amount: str = "36.60", *, code: str = "ABC12", id_trans: str = "BP000000000101"
) -> PaymentEvent:
    money = Money.parse(amount, EUR)
    refunds = kind in (EventKind.PARTIALLY_REFUNDED, EventKind.REFUNDED)
    return PaymentEvent(
        id=f"ev-{kind.value}-{id_trans}",
        payment_id="p" * 32,
        kind=kind,
        order_ref=code,
        amount=money,
        paid_total=Money.parse("36.60", EUR),
        refunded_total=money if refunds else Money.from_minor(0, EUR),
        id_trans=id_trans,
        occurred_at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
        test=True,
    )


def writes(api: ShopDouble) -> list[tuple[str, str, str]]:
    return [(c.method, c.path.removeprefix(API), c.headers.get("x-idempotency-key", "")) for c in api.writes]


# Reading


def test_the_recorded_order_is_read_as_pretix_holds_it() -> None:
    found = read_order("YE93W", example("pretix-order-paid.json"), "EUR")

    order = found.order
    assert (str(order.total), order.total.currency, order.status) == ("36.60", EUR, OrderStatus.PAID)
    assert order.customer == Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    assert (order.language, order.secret) == ("FR", "niec3yn1nf8wx2fu")
    assert [(p.local_id, p.state, p.id_trans) for p in found.payments] == [
        (1, "created", ""),
        (2, "confirmed", "BP000000001234"),
    ]


def test_a_paid_order_with_a_done_refund_is_partially_refunded() -> None:
    found = read_order("YE93W", example("pretix-order-refunded-in-part.json"), "EUR")

    assert found.order.status is OrderStatus.PARTIALLY_REFUNDED
    assert found.written_by("ev-2") == found.refunds[0]


def test_a_total_sent_as_a_json_number_is_refused() -> None:
    data = {**example("pretix-order-pending.json"), "total": 36.6}

    with pytest.raises(UnreadableOrder, match="not a decimal string"):
        read_order("YE93W", data, "EUR")


def test_the_currency_is_the_events(shop: PretixShop, connector: PretixConnector) -> None:
    given(shop)
    shop.event["currency"] = "JPY"
    shop.order("ABC12")["total"] = "3660.00"

    order = connector.fetch_order("ABC12")

    assert (str(order.total), order.total.currency) == ("3660", "JPY")


def test_a_ref_that_is_no_order_code_is_not_found_without_a_call(
    api: ShopDouble, connector: PretixConnector
) -> None:
    for ref in ("abc12", "AB-12", "../../events", "A" * 17):
        with pytest.raises(OrderNotFound):
            connector.fetch_order(ref)

    assert api.calls == []


# Writing


def payments(shop: PretixShop, code: str = "ABC12") -> list[tuple[int, str, str | None]]:
    return [(p["local_id"], p["state"], p["details"]["id_trans"]) for p in shop.order(code)["payments"]]


def test_a_payment_confirms_the_one_checkout_started_with_the_transaction(
    api: ShopDouble, shop: PretixShop, connector: PretixConnector
) -> None:
    given(shop)
    paid = event(EventKind.PAID)

    connector.apply_event(paid)

    assert writes(api) == [("POST", "/orders/ABC12/bluepaid/1/outcome/", paid.id)]
    body = api.writes[0].json()
    assert (body["state"], body["amount"], body["send_email"]) == ("confirmed", "36.60", True)
    assert body["info"]["id_trans"] == "BP000000000101"
    assert shop.status("ABC12") == "p"
    assert payments(shop) == [(1, "confirmed", "BP000000000101")]


def test_without_the_plugins_route_the_payment_is_one_of_its_own_and_checkouts_is_cancelled(
    api: ShopDouble, shop: PretixShop, connector: PretixConnector
) -> None:
    """An older plugin (404 to the outcome): pretix's own payment routes record the
    transaction, and cancel the checkout's payment, which nobody can pay any more."""
    given(shop)
    paid = event(EventKind.PAID)
    api.answer_next(Reply(404, json={"detail": "Not found."}), path=r".*/outcome/$")

    connector.apply_event(paid)
    connector.apply_event(paid)

    assert writes(api) == [
        ("POST", "/orders/ABC12/bluepaid/1/outcome/", paid.id),
        ("POST", "/orders/ABC12/payments/", f"{paid.id}:new"),
        ("POST", "/orders/ABC12/payments/1/cancel/", f"{paid.id}:cancel:1"),
    ]
    assert payments(shop) == [(1, "canceled", None), (2, "confirmed", "BP000000000101")]
    assert shop.status("ABC12") == "p"


def test_a_payment_after_a_refusal_is_one_of_its_own(
    api: ShopDouble, shop: PretixShop, connector: PretixConnector
) -> None:
    """The buyer pays again through the hub's link: checkout's payment has failed already."""
    given(shop)
    connector.apply_event(event(EventKind.REFUSED))

    connector.apply_event(event(EventKind.PAID, id_trans="BP000000000102"))

    assert payments(shop) == [(1, "failed", "BP000000000101"), (2, "confirmed", "BP000000000102")]
    assert shop.status("ABC12") == "p"


def test_a_payment_whose_answer_was_lost_is_recorded_once(
    api: ShopDouble, shop: PretixShop, connector: PretixConnector
) -> None:
    given(shop)
    paid = event(EventKind.PAID)
    shop.lose_answer_to("POST", API + "/orders/ABC12/bluepaid/1/outcome/")

    with pytest.raises(ShopUnavailable):
        connector.apply_event(paid)
    connector.apply_event(paid)

    assert payments(shop) == [(1, "confirmed", "BP000000000101")]
    assert shop.status("ABC12") == "p"


def test_a_retry_after_a_lost_answer_is_answered_from_the_key(
    api: ShopDouble, shop: PretixShop, connector: PretixConnector
) -> None:
    """Without the read before the write (two workers at once), pretix's key alone
    keeps the second call from recording a second payment."""
    given(shop)
    paid = event(EventKind.PAID)
    connector.apply_event(paid)
    first = api.writes[0]

    again = requests.post(f"{BASE_URL}{first.path}", data=first.body, headers=first.headers, timeout=5)

    assert again.status_code == 200
    assert payments(shop) == [(1, "confirmed", "BP000000000101")]


def test_a_refusal_records_a_failed_payment_and_the_order_stays_payable(
    api: ShopDouble, shop: PretixShop, connector: PretixConnector
) -> None:
    given(shop)

    connector.apply_event(event(EventKind.REFUSED))

    assert shop.status("ABC12") == "n"
    assert payments(shop) == [(1, "failed", "BP000000000101")]
    assert connector.fetch_order("ABC12").status is OrderStatus.FAILED


def test_a_refusal_mapped_to_canceled_cancels_the_pending_order(
    api: ShopDouble, shop: PretixShop, make_connector: MakeConnector
) -> None:
    given(shop)
    refused = event(EventKind.REFUSED)

    make_connector({StatusEvent.REFUSED: "c"}).apply_event(refused)

    assert writes(api) == [
        ("POST", "/orders/ABC12/bluepaid/1/outcome/", refused.id),
        ("POST", "/orders/ABC12/mark_canceled/", f"{refused.id}:status"),
    ]
    assert shop.status("ABC12") == "c"


def test_refunds_name_the_payment_they_give_back_and_the_last_cancels_the_order(
    api: ShopDouble, shop: PretixShop, connector: PretixConnector
) -> None:
    given(shop)
    connector.apply_event(event(EventKind.PAID))
    partial = event(EventKind.PARTIALLY_REFUNDED, "10.00", id_trans="BP000000000102")
    full = event(EventKind.REFUNDED, "26.60", id_trans="BP000000000103")

    connector.apply_event(partial)
    assert shop.status("ABC12") == "p"
    connector.apply_event(full)

    refunds = shop.order("ABC12")["refunds"]
    assert [(r["state"], r["source"], r["amount"], r["payment"]) for r in refunds] == [
        ("done", "external", "10.00", 1),
        ("done", "external", "26.60", 1),
    ]
    assert shop.status("ABC12") == "c"
    assert writes(api)[-1] == ("POST", "/orders/ABC12/mark_refunded/", f"{full.id}:status")
    assert connector.fetch_order("ABC12").status is OrderStatus.REFUNDED


def test_a_late_refusal_leaves_a_paid_order_alone(
    api: ShopDouble, shop: PretixShop, make_connector: MakeConnector
) -> None:
    given(shop, status=OrderStatus.PAID)

    make_connector({StatusEvent.REFUSED: "c"}).apply_event(event(EventKind.REFUSED))

    assert shop.status("ABC12") == "p"
    assert [c.path.removeprefix(API) for c in api.writes] == ["/orders/ABC12/payments/"]


def test_a_concurrent_call_with_the_same_key_is_retried(
    api: ShopDouble, shop: PretixShop, connector: PretixConnector
) -> None:
    given(shop)
    api.answer_next(
        Reply(409, json={"detail": "Concurrent request with idempotency key."}, headers={"Retry-After": "5"}),
        methods=("POST",),
    )

    with pytest.raises(ShopUnavailable) as caught:
        connector.apply_event(event(EventKind.PAID))

    assert caught.value.retry_after == 5
    assert "Concurrent request" in str(caught.value)


def test_a_refused_write_quotes_pretix(api: ShopDouble, shop: PretixShop, connector: PretixConnector) -> None:
    given(shop)
    # The outcome of checkout's payment, then the payment of its own that follows it.
    api.answer_next(Reply(400, json={"amount": ["A valid number is required."]}), times=2, methods=("POST",))

    with pytest.raises(ShopRefused, match="amount: A valid number is required"):
        connector.apply_event(event(EventKind.PAID))


# Settings and connection


def test_check_connection_says_what_it_found(connector: PretixConnector) -> None:
    found = connector.check_connection()

    assert found == (
        "pretix event bluepaid/live at https://pretix.example: API token accepted, currency EUR, "
        "Bluepaid plugin enabled"
    )


def test_check_connection_asks_for_the_plugin(shop: PretixShop, connector: PretixConnector) -> None:
    shop.event["plugins"] = ["pretix.plugins.banktransfer"]

    with pytest.raises(ShopRefused, match="does not have the Bluepaid plugin enabled"):
        connector.check_connection()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"base_url": "http://pretix.example"}, "base_url"),
        ({"organizer": "bad/slug"}, "organizer"),
        ({"event": "../x"}, "event"),
    ],
)
def test_settings_that_cannot_work_are_refused(changes: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PretixConnector.validate_settings({**SETTINGS, **changes})

    assert [p.field for p in caught.value.problems] == [field]


def test_a_pretix_on_the_hubs_own_machine_may_use_http() -> None:
    clean = PretixConnector.validate_settings({**SETTINGS, "base_url": "http://127.0.0.1:8000"})

    assert clean["base_url"] == "http://127.0.0.1:8000"
