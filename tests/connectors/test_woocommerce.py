"""The WooCommerce connector against the test shop: what it reads, what the shop receives.

The shop answers with the published examples of the REST API v3 (see
``examples/woocommerce/README.md``). Each call the connector makes is also
made to fail in every way a shop fails: refused key, unknown order, refused
write, rate limit, outage, timeout, redirect to a private address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from bluepaid_plugins.connector import ConnectorContext
from bluepaid_plugins.domain import Customer, EventKind, LineItem, OrderStatus, PaymentEvent, StatusEvent
from bluepaid_plugins.errors import (
    ConnectorError,
    OrderNotFound,
    ShopAuthFailed,
    ShopRefused,
    ShopUnavailable,
    ValidationError,
)
from bluepaid_plugins.http import shop_session
from bluepaid_plugins.money import Money
from connectors.woocommerce import WooCommerceConnector
from hub.testing.conformance import PRIVATE_TARGET, GivenOrder
from hub.testing.shop_double import Reply, ShopDouble
from tests.connectors.woocommerce_shop import (
    API,
    BASE_URL,
    CONSUMER_KEY,
    SETTINGS,
    NoOrders,
    WooShop,
    example,
)

EUR = "EUR"


@pytest.fixture
def api() -> Iterator[ShopDouble]:
    double = ShopDouble(BASE_URL)
    with double.running():
        yield double


@pytest.fixture
def shop(api: ShopDouble) -> WooShop:
    return WooShop(api)


MakeConnector = Callable[..., WooCommerceConnector]


@pytest.fixture
def make_connector(shop: WooShop) -> Iterator[MakeConnector]:
    """Connectors for the test shop (whose routes ``shop`` installed)."""
    sessions = []

    def make(mapping: dict[StatusEvent, str | None] | None = None, **changes: Any) -> WooCommerceConnector:
        settings = WooCommerceConnector.validate_settings({**SETTINGS, **changes})
        http = shop_session()
        sessions.append(http)
        context = ConnectorContext(shop="woo", http=http, orders=NoOrders(), status_mapping=mapping or {})
        return WooCommerceConnector(settings, context)

    yield make
    for http in sessions:
        http.close()


@pytest.fixture
def connector(make_connector: MakeConnector) -> WooCommerceConnector:
    return make_connector()


def given(
    shop: WooShop, ref: str = "4301", status: OrderStatus = OrderStatus.OPEN, total: str = "36.60"
) -> str:
    items = (LineItem("T-shirt", 2, Decimal("12.50")), LineItem("Mug", 1, Decimal("11.60")))
    customer = Customer("ada@example.com", "Ada", "Lovelace", "FRA")
    return shop.add(GivenOrder(ref, Money.parse(total, EUR), status, customer, items))


def event(
    kind: EventKind, amount: str = "36.60", *, ref: str = "4301", id_trans: str = "BP000000000101"
) -> PaymentEvent:
    money = Money.parse(amount, EUR)
    refunds = kind in (EventKind.PARTIALLY_REFUNDED, EventKind.REFUNDED)
    return PaymentEvent(
        id=f"ev-{kind.value}-{id_trans}",
        payment_id="p" * 32,
        kind=kind,
        order_ref=ref,
        amount=money,
        paid_total=Money.parse("36.60", EUR),
        refunded_total=money if refunds else Money.from_minor(0, EUR),
        id_trans=id_trans,
        occurred_at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
        test=True,
    )


def writes(api: ShopDouble) -> list[tuple[str, str, Any]]:
    return [(call.method, call.path, call.json()) for call in api.writes]


def order_path(ref: str = "4301") -> str:
    return f"{API}/orders/{ref}"


# Reading orders


def test_the_published_order_is_read_as_woocommerce_has_it(
    api: ShopDouble, connector: WooCommerceConnector
) -> None:
    api.orders["727"] = example("woocommerce-order.json")
    order = connector.fetch_order("727")
    assert (str(order.total), order.total.currency) == ("29.35", "USD")
    assert order.status is OrderStatus.PAID and not order.payable
    assert order.customer == Customer("john.doe@example.com", "John", "Doe", "USA")
    # line_items[].price is a JSON number: the unit price comes from the line's total string.
    assert order.items == (
        LineItem("Woo Single #1", 2, Decimal("3.00")),
        LineItem("Ship Your Idea – Color: Black, Size: M Test", 1, Decimal("12.00")),
    )
    assert order.secret == "wc_order_58d2d042d1d"
    assert order.description == "WooCommerce order #727"
    assert order.language == ""


def test_every_order_of_the_published_list_is_read(api: ShopDouble, connector: WooCommerceConnector) -> None:
    for data in example("woocommerce-orders-list.json"):
        api.orders[str(data["id"])] = data
        order = connector.fetch_order(str(data["id"]))
        assert order.total == Money(Decimal(data["total"]), data["currency"])
        assert order.secret == data["order_key"]


def test_the_order_is_fetched_in_one_authenticated_call(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop)
    connector.fetch_order("4301")
    [call] = api.calls
    assert (call.method, call.path) == ("GET", order_path())
    assert call.headers["authorization"].startswith("Basic ")
    assert call.timeout == (15.0, 15.0)


def test_keys_go_in_the_query_string_when_the_server_drops_the_header(
    api: ShopDouble, shop: WooShop, make_connector: MakeConnector
) -> None:
    given(shop)
    make_connector(keys_in_query=True).fetch_order("4301")
    [call] = api.calls
    assert call.query["consumer_key"] == CONSUMER_KEY and "authorization" not in call.headers


@pytest.mark.parametrize(
    ("status", "refunds", "expected"),
    [
        ("pending", [], OrderStatus.OPEN),
        ("failed", [], OrderStatus.FAILED),
        ("on-hold", [], OrderStatus.ON_HOLD),
        ("processing", [], OrderStatus.PAID),
        ("completed", [], OrderStatus.PAID),
        ("processing", [{"id": 1, "reason": "", "total": "-5.00"}], OrderStatus.PARTIALLY_REFUNDED),
        ("refunded", [{"id": 1, "reason": "", "total": "-29.35"}], OrderStatus.REFUNDED),
        ("cancelled", [], OrderStatus.CANCELLED),
        ("checkout-draft", [], OrderStatus.EXPIRED),
    ],
)
def test_woocommerce_statuses_say_whether_the_order_can_be_paid(
    api: ShopDouble, connector: WooCommerceConnector, status: str, refunds: list[Any], expected: OrderStatus
) -> None:
    api.orders["727"] = {**example("woocommerce-order.json"), "status": status, "refunds": refunds}
    assert connector.fetch_order("727").status is expected


def test_a_status_added_by_a_plugin_is_not_payable(api: ShopDouble, connector: WooCommerceConnector) -> None:
    api.orders["727"] = {**example("woocommerce-order.json"), "status": "shipped"}
    assert connector.fetch_order("727").status is OrderStatus.PAID
    api.orders["727"] = {**example("woocommerce-order.json"), "status": "awaiting-quote", "date_paid": None}
    assert connector.fetch_order("727").status is OrderStatus.ON_HOLD


def test_the_buyers_language_comes_from_a_multilingual_plugin(
    api: ShopDouble, connector: WooCommerceConnector
) -> None:
    data = example("woocommerce-order.json")
    data["meta_data"].append({"id": 1, "key": "wpml_language", "value": "de"})
    api.orders["727"] = data
    assert connector.fetch_order("727").language == "DE"


def test_a_total_sent_as_a_json_number_is_refused(api: ShopDouble, connector: WooCommerceConnector) -> None:
    api.orders["727"] = {**example("woocommerce-order.json"), "total": 29.35}
    with pytest.raises(ShopRefused, match="total is float, not a decimal string"):
        connector.fetch_order("727")


def test_an_answer_without_order_key_is_refused(api: ShopDouble, connector: WooCommerceConnector) -> None:
    data = example("woocommerce-order.json")
    del data["order_key"]
    api.orders["727"] = data
    with pytest.raises(ShopRefused, match="order_key"):
        connector.fetch_order("727")


@pytest.mark.parametrize("ref", ["727/notes", "../727", "abc", "", "٧٢٧"])
def test_a_ref_that_is_no_order_id_is_not_found_without_a_call(
    api: ShopDouble, connector: WooCommerceConnector, ref: str
) -> None:
    with pytest.raises(OrderNotFound):
        connector.fetch_order(ref)
    assert api.calls == []


# Writing events: the exact requests the shop receives


def test_paid_sets_paid_with_the_transaction_and_no_status(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop)
    paid = event(EventKind.PAID)
    connector.apply_event(paid)
    assert writes(api) == [
        ("PUT", order_path(), {"set_paid": True, "transaction_id": "BP000000000101"}),
        ("POST", f"{order_path()}/notes", {"note": paid.note}),
    ]
    assert shop.status("4301") == "processing"
    assert api.orders["4301"]["transaction_id"] == "BP000000000101"


def test_a_duplicate_paid_event_writes_nothing(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop)
    connector.apply_event(event(EventKind.PAID))
    before = len(api.writes)
    connector.apply_event(event(EventKind.PAID))
    assert api.writes[before:] == []
    assert [c.method for c in api.calls[-2:]] == ["GET", "GET"]


def test_a_retry_after_the_note_failed_writes_only_the_note(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop)
    api.fail_next(503, methods=("POST",))
    with pytest.raises(ShopUnavailable):
        connector.apply_event(event(EventKind.PAID))
    connector.apply_event(event(EventKind.PAID))
    assert [(m, p) for m, p, _ in writes(api)] == [
        ("PUT", order_path()),
        ("POST", f"{order_path()}/notes"),
        ("POST", f"{order_path()}/notes"),
    ]
    assert sum("BP000000000101" in note for note in shop.note_texts("4301")) == 1


def test_paid_leaves_an_order_paid_by_another_payment_as_it_is(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    api.orders["4301"]["status"] = "completed"
    paid = event(EventKind.PAID)
    connector.apply_event(paid)
    assert writes(api) == [("POST", f"{order_path()}/notes", {"note": paid.note})]
    assert shop.status("4301") == "completed"


def test_paid_reaches_an_order_woocommerce_cancelled_meanwhile(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.CANCELLED)
    paid = event(EventKind.PAID)
    connector.apply_event(paid)
    connector.apply_event(paid)
    # WooCommerce's payment step ignores an order that no longer waits for payment:
    # the transaction is stored, and the status is then set as a status.
    assert writes(api) == [
        ("PUT", order_path(), {"set_paid": True, "transaction_id": "BP000000000101"}),
        ("PUT", order_path(), {"status": "processing"}),
        ("POST", f"{order_path()}/notes", {"note": paid.note}),
    ]
    assert shop.status("4301") == "processing"
    assert api.orders["4301"]["transaction_id"] == "BP000000000101"


def test_a_merchant_mapping_paid_to_completed_gets_it_after_set_paid(
    api: ShopDouble, shop: WooShop, make_connector: MakeConnector
) -> None:
    given(shop)
    make_connector({StatusEvent.PAID: "completed"}).apply_event(event(EventKind.PAID))
    assert [body for _, _, body in writes(api)][:2] == [
        {"set_paid": True, "transaction_id": "BP000000000101"},
        {"status": "completed"},
    ]
    assert shop.status("4301") == "completed"


def test_the_status_woocommerce_answers_set_paid_with_is_not_set_again(
    api: ShopDouble, shop: WooShop, make_connector: MakeConnector
) -> None:
    given(shop)
    # WooCommerce's own answer to an update: the order, here "completed" already.
    shop.fail_at("PUT", order_path(), Reply(200, json=example("woocommerce-order-updated.json")))
    make_connector({StatusEvent.PAID: "completed"}).apply_event(event(EventKind.PAID))
    assert [(method, body) for method, _, body in writes(api)][:1] == [
        ("PUT", {"set_paid": True, "transaction_id": "BP000000000101"})
    ]
    assert [method for method, _, _ in writes(api)] == ["PUT", "POST"]


@pytest.mark.parametrize("kind", [EventKind.REFUSED, EventKind.CANCELLED])
def test_a_refusal_or_a_cancel_leaves_the_order_failed_and_payable(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector, kind: EventKind
) -> None:
    given(shop)
    failed = event(kind)
    connector.apply_event(failed)
    connector.apply_event(failed)
    assert writes(api) == [
        ("PUT", order_path(), {"status": "failed"}),
        ("POST", f"{order_path()}/notes", {"note": failed.note}),
    ]
    assert connector.fetch_order("4301").payable


def test_a_late_refusal_never_unpays_an_order(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    refused = event(EventKind.REFUSED)
    connector.apply_event(refused)
    assert writes(api) == [("POST", f"{order_path()}/notes", {"note": refused.note})]
    assert shop.status("4301") == "processing"


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REFUNDED])
def test_a_late_refusal_never_reopens_a_closed_order(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector, status: OrderStatus
) -> None:
    given(shop, status=status)
    before = shop.status("4301")
    refused = event(EventKind.REFUSED)
    connector.apply_event(refused)
    assert writes(api) == [("POST", f"{order_path()}/notes", {"note": refused.note})]
    assert shop.status("4301") == before


def test_a_partial_refund_is_recorded_once_without_a_status(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    refund = event(EventKind.PARTIALLY_REFUNDED, "10.00", id_trans="BP000000000102")
    connector.apply_event(refund)
    connector.apply_event(refund)
    assert writes(api) == [
        (
            "POST",
            f"{order_path()}/refunds",
            {
                "amount": "10.00",
                "reason": f"Bluepaid refund BP000000000102 (event {refund.id})",
                "api_refund": False,
            },
        ),
        ("POST", f"{order_path()}/notes", {"note": refund.note}),
    ]
    assert shop.status("4301") == "processing"
    assert connector.fetch_order("4301").status is OrderStatus.PARTIALLY_REFUNDED


def test_the_last_refund_leaves_the_order_refunded_by_woocommerce(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "10.00", id_trans="BP000000000102"))
    rest = event(EventKind.REFUNDED, "26.60", id_trans="BP000000000103")
    connector.apply_event(rest)
    # WooCommerce made it "refunded" with the refund: no status write follows.
    assert [(m, p) for m, p, _ in writes(api)][2:] == [
        ("POST", f"{order_path()}/refunds"),
        ("POST", f"{order_path()}/notes"),
    ]
    assert shop.status("4301") == "refunded"


def test_a_retried_refund_whose_note_failed_is_not_refunded_twice(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    refund = event(EventKind.PARTIALLY_REFUNDED, "10.00", id_trans="BP000000000102")
    shop.fail_at("POST", f"{order_path()}/notes", Reply(503))
    with pytest.raises(ShopUnavailable):
        connector.apply_event(refund)
    connector.apply_event(refund)
    assert len(api.calls_to("POST", f"{order_path()}/refunds")) == 1
    assert len(api.orders["4301"]["refunds"]) == 1
    assert shop.note_texts("4301") == [refund.note]


def test_a_refund_listed_with_its_reason_under_refund_counts_as_made(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    refund = event(EventKind.PARTIALLY_REFUNDED, "10.00", id_trans="BP000000000102")
    # As in the published list of orders (order 723): the reason under "refund".
    order_723 = next(o for o in example("woocommerce-orders-list.json") if o["id"] == 723)
    listed = order_723["refunds"][0]
    assert set(listed) == {"id", "refund", "total"}
    listed["refund"] = f"Bluepaid refund BP000000000102 (event {refund.id})"
    api.orders["4301"]["refunds"] = [listed]
    connector.apply_event(refund)
    assert api.calls_to("POST", f"{order_path()}/refunds") == []


def test_a_refund_woocommerce_refuses_with_a_500_is_not_retried(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    with pytest.raises(ShopRefused, match="Invalid refund amount") as caught:
        connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "99.00"))
    assert not caught.value.retryable


def test_a_500_while_saving_a_refund_is_retried(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector
) -> None:
    given(shop, status=OrderStatus.PAID)
    api.fail_next(
        500,
        json_body={
            "code": "woocommerce_rest_cannot_create_order_refund",
            "message": "Cannot create order refund, please try again.",
            "data": {"status": 500},
        },
        methods=("POST",),
    )
    with pytest.raises(ShopUnavailable):
        connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "10.00"))


# Every call, every failure


def _wp(status: int, message: str) -> Reply:
    return Reply(
        status, json={"code": f"woocommerce_rest_{status}", "message": message, "data": {"status": status}}
    )


def _fetch(connector: WooCommerceConnector) -> None:
    connector.fetch_order("4301")


def _paid(connector: WooCommerceConnector) -> None:
    connector.apply_event(event(EventKind.PAID))


def _refund(connector: WooCommerceConnector) -> None:
    connector.apply_event(event(EventKind.PARTIALLY_REFUNDED, "10.00"))


def _check(connector: WooCommerceConnector) -> None:
    connector.check_connection()


#: Each call the connector makes: (what triggers it, the order's state, method, path).
CALLS = {
    "GET order": (_fetch, OrderStatus.OPEN, "GET", r"/orders/4301"),
    "GET notes": (_paid, OrderStatus.OPEN, "GET", r"/orders/4301/notes"),
    "PUT set_paid": (_paid, OrderStatus.OPEN, "PUT", r"/orders/4301"),
    "POST note": (_paid, OrderStatus.OPEN, "POST", r"/orders/4301/notes"),
    "POST refund": (_refund, OrderStatus.PAID, "POST", r"/orders/4301/refunds"),
    "GET system_status": (_check, OrderStatus.OPEN, "GET", r"/system_status"),
}

FAILURES: dict[str, tuple[Reply | BaseException, type[ConnectorError], str]] = {
    "401": (_wp(401, "Consumer key is invalid."), ShopAuthFailed, "Consumer key is invalid."),
    "403": (_wp(403, "Sorry, you cannot edit this resource."), ShopAuthFailed, "cannot edit"),
    "404": (_wp(404, "Invalid ID."), OrderNotFound, "Invalid ID."),
    "400": (_wp(400, "Invalid parameter(s): status"), ShopRefused, "Invalid parameter(s): status"),
    "422": (_wp(422, "Transition refused."), ShopRefused, "Transition refused."),
    "429": (
        Reply(429, json={"code": "too_many", "message": "Slow down."}, headers={"Retry-After": "120"}),
        ShopUnavailable,
        "Retry-After: 120",
    ),
    "500": (Reply(500, body="<html>Internal Server Error</html>"), ShopUnavailable, "answered 500"),
    "timeout": (requests.exceptions.ReadTimeout("no answer"), ShopUnavailable, "did not answer"),
    "redirect": (Reply(302, headers={"Location": PRIVATE_TARGET}), ShopRefused, "169.254.169.254"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("call", list(CALLS))
def test_each_call_fails_as_the_shop_means_it(
    api: ShopDouble, shop: WooShop, connector: WooCommerceConnector, call: str, failure: str
) -> None:
    trigger, status, method, path = CALLS[call]
    given(shop, status=status)
    answer, error, said = FAILURES[failure]
    shop.fail_at(method, API + path, answer)
    with pytest.raises(error) as caught:
        trigger(connector)
    assert said in str(caught.value)
    assert caught.value.retryable is (error is ShopUnavailable)
    if failure == "429":
        assert isinstance(caught.value, ShopUnavailable) and caught.value.retry_after == 120
    assert shop.faults == [], f"{method} {path} was not called"
    for secret in (SETTINGS["consumer_key"], SETTINGS["consumer_secret"]):
        assert secret not in str(caught.value) and secret not in repr(caught.value)


# check_connection


def test_check_connection_names_the_woocommerce_that_answered(
    api: ShopDouble, connector: WooCommerceConnector
) -> None:
    found = connector.check_connection()
    assert found == (
        "WooCommerce 8.9.1 at https://shop.example: API key accepted for reading and writing orders, "
        "shop currency EUR"
    )
    assert [(call.method, call.path) for call in api.calls] == [
        ("GET", f"{API}/system_status"),
        ("POST", f"{API}/orders/0/notes"),
    ]


@pytest.mark.parametrize(
    ("permissions", "edits_orders", "says"),
    [
        ("read", True, "does not have write permissions"),
        ("read_write", False, "not allowed to create resources"),
    ],
)
def test_check_connection_says_a_key_that_may_not_write_orders(
    shop: WooShop, connector: WooCommerceConnector, permissions: str, edits_orders: bool, says: str
) -> None:
    shop.key_permissions, shop.user_edits_orders = permissions, edits_orders
    with pytest.raises(ShopAuthFailed, match=rf"{says}.*may read but not write orders.*Read/Write"):
        connector.check_connection()
    assert shop.notes == {}


def test_check_connection_says_a_key_that_may_not_read(
    shop: WooShop, connector: WooCommerceConnector
) -> None:
    shop.key_permissions = "write"
    with pytest.raises(ShopAuthFailed, match=r"does not have read permissions.*Read/Write"):
        connector.check_connection()


def test_check_connection_says_a_refused_key_is_to_be_checked(
    shop: WooShop, connector: WooCommerceConnector
) -> None:
    shop.fail_at("GET", f"{API}/system_status", _wp(401, "Consumer key is invalid."))
    with pytest.raises(ShopAuthFailed, match=r"Consumer key is invalid.*Check the consumer key and secret"):
        connector.check_connection()


@pytest.mark.parametrize("url", ["http://shop.example", "http://localhost:8080"])
def test_a_plain_http_shop_url_is_refused_before_any_call(api: ShopDouble, url: str) -> None:
    # WooCommerce would ignore the keys over HTTP, after they had travelled in clear.
    with pytest.raises(ValidationError, match="base_url: WooCommerce accepts API keys over HTTPS only"):
        WooCommerceConnector.validate_settings({**SETTINGS, "base_url": url})
    assert api.calls == []


def test_check_connection_says_a_missing_permission(shop: WooShop, connector: WooCommerceConnector) -> None:
    shop.fail_at("GET", f"{API}/system_status", _wp(403, "Sorry, you cannot list resources."))
    with pytest.raises(ShopAuthFailed, match=r"cannot list resources.*shop manager or administrator"):
        connector.check_connection()


def test_check_connection_says_where_no_api_was_found(shop: WooShop, connector: WooCommerceConnector) -> None:
    shop.fail_at(
        "GET", f"{API}/system_status", _wp(404, "No route was found matching the URL and request method.")
    )
    with pytest.raises(
        OrderNotFound, match=r"No WooCommerce REST API at https://shop.example/wp-json/wc/v3.*Plain"
    ):
        connector.check_connection()
