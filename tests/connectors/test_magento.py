"""The Magento 2 connector against the test store: what it reads, what the store receives.

The store answers with the published order (see ``examples/magento2/README.md``).
The admin token is cached across connector instances, renewed before its 4 hours
are over and once on a 401; an integration's token is used as it is. Payments are
invoices without capture, refunds offline credit memos, notes order comments.
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
from connectors.magento2 import MagentoConnector
from hub.testing.clock import FrozenClock
from hub.testing.conformance import GivenOrder
from hub.testing.shop_double import ShopDouble
from tests.connectors.magento_shop import (
    ACCESS_TOKEN,
    ADMIN_SETTINGS,
    API,
    BASE_URL,
    OAUTH_SETTINGS,
    SETTINGS,
    MagentoShop,
    error,
    example,
)
from tests.connectors.woocommerce_shop import NoOrders

EUR = "EUR"
REF = "4601"
TOKEN_PATH = f"{API}/integration/admin/token"


@pytest.fixture
def api() -> Iterator[ShopDouble]:
    double = ShopDouble(BASE_URL)
    with double.running():
        yield double


@pytest.fixture
def shop(api: ShopDouble) -> MagentoShop:
    return MagentoShop(api)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


MakeConnector = Callable[..., MagentoConnector]


@pytest.fixture
def make_connector(shop: MagentoShop, clock: FrozenClock) -> Iterator[MakeConnector]:
    sessions = []
    tokens = MemoryTokenCache(clock)

    def make(
        mapping: dict[StatusEvent, str | None] | None = None, base: dict[str, Any] = SETTINGS, **changes: Any
    ) -> MagentoConnector:
        settings = MagentoConnector.validate_settings({**base, **changes})
        http = shop_session()
        sessions.append(http)
        context = ConnectorContext(
            shop="m2", http=http, orders=NoOrders(), status_mapping=mapping or {}, tokens=tokens
        )
        return MagentoConnector(settings, context)

    yield make
    for http in sessions:
        http.close()


@pytest.fixture
def connector(make_connector: MakeConnector) -> MagentoConnector:
    return make_connector()


def given(shop: MagentoShop, status: OrderStatus = OrderStatus.OPEN, total: str = "36.60") -> str:
    items = (LineItem("T-shirt", 2, Decimal("12.50")), LineItem("Mug", 1, Decimal("11.60")))
    customer = Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    return shop.add(GivenOrder(REF, Money.parse(total, EUR), status, customer, items))


def event(
    kind: EventKind, amount: str = "36.60", *, refunded: str = "0", id_trans: str = "BP000000000101"
) -> PaymentEvent:
    return PaymentEvent(
        id=f"ev-{kind.value}-{id_trans}",
        payment_id="p" * 32,
        kind=kind,
        order_ref=REF,
        amount=Money.parse(amount, EUR),
        paid_total=Money.parse("36.60", EUR),
        refunded_total=Money.parse(refunded, EUR),
        id_trans=id_trans,
        occurred_at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
        test=True,
    )


def writes(api: ShopDouble) -> list[tuple[str, str, Any]]:
    return [(call.method, call.path.removeprefix(API), call.json()) for call in api.writes]


def comment(note: str, status: str | None = None) -> dict[str, Any]:
    history: dict[str, Any] = {
        "comment": note,
        "is_customer_notified": 0,
        "is_visible_on_front": 0,
        "parent_id": int(REF),
    }
    if status is not None:
        history["status"] = status
    return {"statusHistory": history}


# Reading orders


def test_the_published_order_is_read_with_its_amounts_exact(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    shop.orders["3"] = example("magento-order.json")
    order = connector.fetch_order("3")
    assert (str(order.total), order.total.currency) == ("165.00", "USD")
    assert order.status is OrderStatus.OPEN and order.payable
    assert order.customer == Customer("jdoe@example.com", "Jane", "Doe", "USA")
    # The bundle's and the configurable's children are not lines of their own.
    assert order.items == (
        LineItem("Radiant Tee-M-Orange", 1, Decimal(22)),
        LineItem("Advanced Pilates & Yoga (Strength)", 1, Decimal(18)),
        LineItem("Sprite Yoga Companion Kit", 1, Decimal(68)),
        LineItem("Chaz Kangeroo Hoodie", 1, Decimal(52)),
    )
    assert order.secret == "61f76d"
    assert order.description == "Magento order #000000003"


def test_an_amount_with_cents_is_read_digit_for_digit(shop: MagentoShop, connector: MagentoConnector) -> None:
    data = example("magento-order.json")
    shop.orders["3"] = data
    data["grand_total"] = Decimal("165.13")
    assert repr(connector.fetch_order("3").total.amount) == "Decimal('165.13')"


@pytest.mark.parametrize(
    ("state", "refunded", "status"),
    [
        ("pending_payment", "0", OrderStatus.OPEN),
        ("complete", "0", OrderStatus.PAID),
        ("complete", "5", OrderStatus.PARTIALLY_REFUNDED),
        ("payment_review", "0", OrderStatus.ON_HOLD),
        ("a_modules_own_state", "0", OrderStatus.ON_HOLD),
    ],
)
def test_the_state_is_read_with_the_refunds(
    shop: MagentoShop, connector: MagentoConnector, state: str, refunded: str, status: OrderStatus
) -> None:
    given(shop)
    shop.orders[REF].update(state=state, total_refunded=Decimal(refunded))
    assert connector.fetch_order(REF).status is status


def test_a_ref_that_is_no_id_is_not_found_without_a_call(
    api: ShopDouble, connector: MagentoConnector
) -> None:
    with pytest.raises(OrderNotFound, match="order ids are numbers"):
        connector.fetch_order("../store/storeConfigs")
    assert api.calls == []


def test_an_unknown_order_is_not_found_with_magentos_words(
    shop: MagentoShop, connector: MagentoConnector
) -> None:
    with pytest.raises(OrderNotFound, match="The entity that was requested doesn't exist"):
        connector.fetch_order("999")


# Tokens


def test_an_integration_token_is_sent_as_it_is(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop)
    connector.fetch_order(REF)
    assert api.calls[-1].headers["authorization"] == "Bearer 0wm5e0s0ld1a7h3q7uwnnqh0hqc7cd6x"
    assert api.calls_to("POST", TOKEN_PATH) == []


def test_an_admin_token_serves_for_nearly_four_hours_then_is_renewed(
    api: ShopDouble, shop: MagentoShop, make_connector: MakeConnector, clock: FrozenClock
) -> None:
    given(shop)
    for _ in range(3):
        make_connector(base=ADMIN_SETTINGS).fetch_order(REF)
    clock.advance(timedelta(hours=3, minutes=58))
    make_connector(base=ADMIN_SETTINGS).fetch_order(REF)
    assert len(api.calls_to("POST", TOKEN_PATH)) == 1
    clock.advance(timedelta(minutes=2))
    make_connector(base=ADMIN_SETTINGS).fetch_order(REF)
    assert len(api.calls_to("POST", TOKEN_PATH)) == 2


def test_an_admin_token_refused_with_401_is_renewed_once(
    api: ShopDouble, shop: MagentoShop, make_connector: MakeConnector
) -> None:
    given(shop)
    make_connector(base=ADMIN_SETTINGS).fetch_order(REF)
    shop.expire_admin_tokens()
    assert make_connector(base=ADMIN_SETTINGS).fetch_order(REF).ref == REF
    assert len(api.calls_to("POST", TOKEN_PATH)) == 2


def test_calls_signed_with_the_integrations_oauth_keys_are_accepted(
    api: ShopDouble, shop: MagentoShop, make_connector: MakeConnector
) -> None:
    given(shop)
    connector = make_connector(base=OAUTH_SETTINGS)
    assert connector.fetch_order(REF).ref == REF
    connector.apply_event(event(EventKind.PAID))
    assert shop.status(REF) == "processing"
    assert all(c.headers["authorization"].startswith("OAuth ") for c in api.calls)
    assert api.calls_to("POST", TOKEN_PATH) == []


def test_a_wrong_oauth_secret_is_auth_failed_and_never_shown(
    shop: MagentoShop, make_connector: MakeConnector
) -> None:
    given(shop)
    with pytest.raises(ShopAuthFailed, match="The signature is invalid") as caught:
        make_connector(base=OAUTH_SETTINGS, access_token_secret="wr0ng-s3cret").fetch_order(REF)
    assert "wr0ng-s3cret" not in str(caught.value)


def test_a_refused_integration_token_is_not_retried(
    api: ShopDouble, shop: MagentoShop, make_connector: MakeConnector
) -> None:
    given(shop)
    with pytest.raises(ShopAuthFailed, match="The consumer isn't authorized to access self"):
        make_connector(access_token="not-the-token").fetch_order(REF)
    assert len(api.calls) == 1


def test_a_wrong_admin_password_is_auth_failed_and_never_shown(
    shop: MagentoShop, make_connector: MakeConnector
) -> None:
    with pytest.raises(ShopAuthFailed, match="account sign-in was incorrect") as caught:
        make_connector(base=ADMIN_SETTINGS, password="wr0ng-pa55").fetch_order(REF)
    assert "wr0ng-pa55" not in str(caught.value)


@pytest.mark.parametrize(
    "settings",
    [
        {"base_url": BASE_URL},
        {**SETTINGS, "username": "admin", "password": "x"},
        {"base_url": BASE_URL, "username": "admin"},
        {**OAUTH_SETTINGS, "consumer_secret": ""},
        {**OAUTH_SETTINGS, "username": "admin", "password": "x"},
    ],
)
def test_exactly_one_way_in_is_required(settings: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="either the integration's four OAuth keys"):
        MagentoConnector.validate_settings(settings)


def test_an_http_shop_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="HTTPS only"):
        MagentoConnector.validate_settings({**SETTINGS, "base_url": "http://magento.example"})


# Events


def test_a_payment_is_an_invoice_without_capture_then_a_comment(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop)
    connector.apply_event(event(EventKind.PAID))
    note = "Bluepaid: paid 36.60 EUR (TEST), transaction BP000000000101"
    assert writes(api) == [
        ("POST", f"/order/{REF}/invoice", {"capture": False, "notify": False}),
        ("POST", f"/orders/{REF}/comments", comment(note, "processing")),
    ]
    assert shop.status(REF) == "processing"


def test_a_late_payment_on_an_order_put_on_hold_only_adds_the_comment(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop, OrderStatus.ON_HOLD)
    connector.apply_event(event(EventKind.PAID))
    assert [path for _, path, _ in writes(api)] == [f"/orders/{REF}/comments"]
    assert "status" not in writes(api)[0][2]["statusHistory"]
    assert shop.status(REF) == "holded"


def test_a_refusal_is_a_comment_and_the_order_stays_payable(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop)
    connector.apply_event(event(EventKind.REFUSED))
    assert [path for _, path, _ in writes(api)] == [f"/orders/{REF}/comments"]
    assert connector.fetch_order(REF).payable


def test_a_cancel_mapped_to_canceled_cancels_then_comments(
    api: ShopDouble, shop: MagentoShop, make_connector: MakeConnector
) -> None:
    given(shop)
    make_connector({StatusEvent.CANCELLED: "canceled"}).apply_event(event(EventKind.CANCELLED))
    assert [path for _, path, _ in writes(api)] == [f"/orders/{REF}/cancel", f"/orders/{REF}/comments"]
    assert "status" not in writes(api)[1][2]["statusHistory"]
    assert shop.status(REF) == "canceled"


def test_refunds_are_offline_credit_memos_of_their_amount(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop, OrderStatus.PAID)
    connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "10.05", refunded="10.05", id_trans="BP2"))
    connector.apply_event(event(EventKind.REFUNDED, "26.55", refunded="36.60", id_trans="BP3"))
    memos = [(path, body) for _, path, body in writes(api) if path.endswith("/refund")]
    assert [path for path, _ in memos] == [f"/order/{REF}/refund"] * 2
    assert [m["arguments"] for _, m in memos] == [
        {"shipping_amount": 0, "adjustment_positive": 10.05, "adjustment_negative": 0},
        {"shipping_amount": 0, "adjustment_positive": 26.55, "adjustment_negative": 0},
    ]
    assert all(item["qty"] == 0 for _, m in memos for item in m["items"])
    assert shop.status(REF) == "closed"
    assert len(shop.comments(REF)) == 2


def test_a_refund_the_order_already_shows_is_not_made_again(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop, OrderStatus.PAID)
    refund = event(EventKind.PARTIALLY_REFUNDED, "10.00", refunded="10.00")
    api.fail_next(503, methods=("POST",), path=f"{API}/orders/{REF}/comments")
    with pytest.raises(ShopUnavailable):
        connector.apply_event(refund)
    connector.apply_event(refund)
    assert [path for _, path, _ in writes(api)] == [
        f"/order/{REF}/refund",
        f"/orders/{REF}/comments",
        f"/orders/{REF}/comments",
    ]
    assert len(shop.credit_memos) == 1 and len(shop.comments(REF)) == 1


def test_the_same_payment_again_writes_nothing(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop)
    connector.apply_event(event(EventKind.PAID))
    before = len(api.writes)
    connector.apply_event(event(EventKind.PAID))
    assert len(api.writes) == before


def test_a_refused_credit_memo_is_permanent_with_magentos_amount(
    shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop, OrderStatus.PAID, total="10.00")
    with pytest.raises(ShopRefused, match=r"The most money available to refund is 10\.") as caught:
        connector.apply_event(event(EventKind.REFUNDED, "36.60", refunded="36.60"))
    assert not caught.value.retryable


def test_a_credit_memo_with_no_line_and_no_shipping_left_is_refused_as_magento_does(
    shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop, OrderStatus.PAID)
    shop.orders[REF]["shipping_refunded"] = shop.orders[REF]["shipping_amount"]
    with pytest.raises(ShopRefused, match="You can't create a creditmemo without products") as caught:
        connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "10.00", refunded="10.00"))
    assert not caught.value.retryable
    assert shop.credit_memos == []


def test_the_test_shop_refunds_every_line_when_none_is_listed(api: ShopDouble, shop: MagentoShop) -> None:
    # Why the connector lists every line at quantity 0: an empty list is the whole order.
    given(shop, OrderStatus.PAID)
    with shop_session() as http:
        answer = http.post(
            f"{BASE_URL}{API}/order/{REF}/refund",
            json={"items": [], "arguments": {"adjustment_positive": 0}},
            headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
        )
    assert answer.status_code == 200
    assert shop.orders[REF]["total_refunded"] == Decimal("36.60")
    assert shop.status(REF) == "closed"


def test_an_order_without_lines_is_never_credited_whole(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector
) -> None:
    given(shop, OrderStatus.PAID)
    shop.orders[REF]["items"] = []
    with pytest.raises(ShopRefused, match="would refund the whole order"):
        connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "10.00", refunded="10.00"))
    assert [path for _, path, _ in writes(api) if path.endswith("/refund")] == []


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (500, True), (400, False)])
def test_a_failed_invoice_is_classified(
    api: ShopDouble, shop: MagentoShop, connector: MagentoConnector, status: int, retryable: bool
) -> None:
    given(shop)
    api.answer_next(error(status, "Invoice failed: %1", ["reason"]), path=f"{API}/order/{REF}/invoice")
    with pytest.raises((ShopUnavailable, ShopRefused)) as caught:
        connector.apply_event(event(EventKind.PAID))
    assert caught.value.retryable is retryable
    assert "Invoice failed: reason" in str(caught.value)


# The connection


def test_check_connection_names_the_currency(shop: MagentoShop, connector: MagentoConnector) -> None:
    assert (
        connector.check_connection()
        == "Magento 2 at https://magento.example: token accepted, base currency EUR"
    )


def test_check_connection_says_where_the_bearer_setting_is(
    shop: MagentoShop, make_connector: MakeConnector
) -> None:
    with pytest.raises(ShopAuthFailed, match="Services > OAuth"):
        make_connector(access_token="not-the-token").check_connection()
