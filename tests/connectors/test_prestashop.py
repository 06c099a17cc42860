"""The PrestaShop connector against a fake webservice answering with recorded PrestaShop bodies:
what it reads, the exact requests the shop receives, and what each failure of each call means."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from bluepaid_plugins import ConnectorContext, StatusEvent
from bluepaid_plugins.domain import EventKind, LineItem, Order, OrderStatus, PaymentEvent
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
from connectors.prestashop.connector import PrestaShopConnector
from hub.testing.conformance import PRIVATE_TARGET
from hub.testing.shop_double import Call, Reply, ShopDouble
from tests.connectors.prestashop_shop import BASE, EXAMPLES, KEY, XML, FakePrestaShop, error_body

RECORDED_KEY = "b44a6d9efd7a0076a0fbce6b15eaf3b1"  # the secure_key of the recorded order 5


class NoOrders:
    """The hub's order store, which a PrestaShop connector never uses."""

    def get(self, ref: str) -> Order | None:
        return None

    def set_status(self, ref: str, status: OrderStatus, note: str) -> bool:
        return False


@pytest.fixture
def shop() -> Iterator[FakePrestaShop]:
    fake = FakePrestaShop()
    double = ShopDouble(BASE, EXAMPLES)
    fake.install(double)
    with double.running():
        yield fake


@pytest.fixture
def connect() -> Iterator[Callable[..., PrestaShopConnector]]:
    with ExitStack() as stack:

        def make(
            mapping: Mapping[StatusEvent, str | None] | None = None, **settings: Any
        ) -> PrestaShopConnector:
            clean = PrestaShopConnector.validate_settings(
                {"base_url": BASE, "webservice_key": KEY, **settings}
            )
            http = stack.enter_context(shop_session())
            context = ConnectorContext("test", http, NoOrders(), status_mapping=dict(mapping or {}))
            return PrestaShopConnector(clean, context)

        yield make


def calls(shop: FakePrestaShop) -> list[Call]:
    return shop.calls


def writes(shop: FakePrestaShop) -> list[Call]:
    return [c for c in calls(shop) if c.method not in ("GET", "HEAD")]


def fields(call: Call, resource: str) -> list[tuple[str, str]]:
    node = ET.fromstring(call.body).find(resource)
    assert node is not None, call.text
    return [(child.tag, child.text or "") for child in node]


def paid(
    ref: str = "5", id_trans: str = "BP0000012345", kind: EventKind = EventKind.PAID, amount: str = "71.51"
) -> PaymentEvent:
    money = Money.parse(amount, "EUR")
    return PaymentEvent(
        id=f"ev-{kind}-{id_trans}",
        payment_id="p" * 32,
        kind=kind,
        order_ref=ref,
        amount=money,
        paid_total=Money.parse("71.51", "EUR"),
        refunded_total=money
        if kind in (EventKind.REFUNDED, EventKind.PARTIALLY_REFUNDED)
        else Money.parse("0", "EUR"),
        id_trans=id_trans,
        occurred_at=datetime(2026, 12, 7, 11, 0, tzinfo=UTC),
    )


# Reading an order


def test_the_recorded_order_is_read_as_the_shop_has_it(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    order = connect().fetch_order("5")

    assert order.total == Money(Decimal("71.51"), "EUR")
    assert order.status is OrderStatus.OPEN  # state 10, awaiting bank wire payment
    assert order.items == (
        LineItem("Faded Short Sleeve T-shirts - Color : Orange, Size : S", 1, Decimal("16.51")),
        LineItem("Blouse - Color : Black, Size : S", 1, Decimal("27")),
        LineItem("Printed Dress - Color : Orange, Size : S", 1, Decimal("26")),
    )
    assert (order.customer.email, order.customer.first_name, order.customer.last_name) == (
        "pub@prestashop.com",
        "John",
        "DOE",
    )
    assert order.customer.country == "USA"
    assert order.language == "EN"
    assert order.secret == RECORDED_KEY
    assert order.description == "PrestaShop order KHWLILZLL"


def test_reading_an_order_asks_only_for_the_fields_it_needs(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    connect().fetch_order("5")

    asked = [(c.method, c.path, c.query) for c in calls(shop)]
    assert asked == [
        ("GET", "/api/orders/5", {}),
        ("GET", "/api/currencies", {"filter[id]": "[1]", "display": "[id,iso_code]"}),
        ("GET", "/api/customers", {"filter[id]": "[1]", "display": "[id,email,firstname,lastname]"}),
        ("GET", "/api/addresses", {"filter[id]": "[4]", "display": "[id,id_country]"}),
        ("GET", "/api/countries", {"filter[id]": "[21]", "display": "[id,iso_code]"}),
        ("GET", "/api/languages", {"filter[id]": "[1]", "display": "[id,iso_code]"}),
    ]


def test_the_key_is_the_basic_user_with_an_empty_password_and_every_call_has_a_timeout(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    connect(timeout="30").fetch_order("5")

    basic = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert {c.headers["authorization"] for c in calls(shop)} == {basic}
    assert {c.timeout for c in calls(shop)} == {(5.0, 30.0)}
    assert all(KEY not in c.path and KEY not in str(c.query) for c in calls(shop))


@pytest.mark.parametrize(
    ("total", "currency", "expected"),
    [("3660.000000", "JPY", "3660"), ("36.600000", "EUR", "36.60"), ("36.605000", "KWD", "36.605")],
)
def test_six_decimal_totals_are_read_exactly_in_the_currencys_decimals(
    shop: FakePrestaShop,
    connect: Callable[..., PrestaShopConnector],
    total: str,
    currency: str,
    expected: str,
) -> None:
    shop.set_order("5", total_paid=total, id_currency=shop.currency(currency))

    assert connect().fetch_order("5").total == Money.parse(expected, currency)


def test_a_total_finer_than_the_currency_is_refused_not_rounded(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    shop.set_order("5", total_paid="71.515000")

    with pytest.raises(ShopRefused, match=r"71\.515000"):
        connect().fetch_order("5")


def test_an_unknown_order_is_not_found(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    with pytest.raises(OrderNotFound, match="Invalid ID"):
        connect().fetch_order("999")


def test_a_ref_that_is_not_an_id_never_reaches_the_shop(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    with pytest.raises(OrderNotFound):
        connect().fetch_order("5/../customers/1")
    assert calls(shop) == []


@pytest.mark.parametrize(
    ("state", "payable_states", "status"),
    [
        ("10", None, OrderStatus.OPEN),
        ("1", None, OrderStatus.OPEN),
        ("2", None, OrderStatus.PAID),
        ("4", None, OrderStatus.PAID),
        ("6", None, OrderStatus.CANCELLED),
        ("7", None, OrderStatus.REFUNDED),
        ("8", None, OrderStatus.FAILED),
        ("14", None, OrderStatus.ON_HOLD),
        ("14", "14", OrderStatus.OPEN),
        ("10", "14", OrderStatus.ON_HOLD),
    ],
)
def test_the_current_state_says_whether_the_order_can_be_paid(
    shop: FakePrestaShop,
    connect: Callable[..., PrestaShopConnector],
    state: str,
    payable_states: str | None,
    status: OrderStatus,
) -> None:
    shop.set_order("5", current_state=state)
    settings = {} if payable_states is None else {"payable_states": payable_states}

    assert connect(**settings).fetch_order("5").status is status


def test_payable_states_must_be_state_ids() -> None:
    with pytest.raises(ValidationError, match="payable_states"):
        PrestaShopConnector.validate_settings(
            {"base_url": BASE, "webservice_key": KEY, "payable_states": "1,awaiting"}
        )


def test_an_answer_declaring_entities_is_refused_unread(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    bomb += b"<prestashop><order><id>&lol2;</id></order></prestashop>"
    shop.fail("GET", "/api/orders/5", lambda: Reply(200, body=bomb, content_type=XML))

    with pytest.raises(ShopRefused, match="document type"):
        connect().fetch_order("5")


# Applying events

NOTE_ONLY = [("POST", "/api/customer_threads"), ("POST", "/api/customer_messages")]


def test_a_payment_is_one_state_change_the_transaction_on_prestashops_payment_and_one_note(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    event = paid()
    connect().apply_event(event)

    history, payment, thread, note = writes(shop)
    assert (history.method, history.path, history.query) == (
        "POST",
        "/api/order_histories",
        {"sendemail": "1"},
    )
    assert fields(history, "order_history") == [
        ("id", ""),
        ("id_employee", ""),
        ("id_order_state", "2"),
        ("id_order", "5"),
        ("date_add", ""),
    ]
    assert (payment.method, payment.path) == ("PUT", "/api/order_payments/1")
    sent = dict(fields(payment, "order_payment"))
    assert sent["transaction_id"] == "BP0000012345"
    assert (sent["order_reference"], sent["amount"]) == ("KHWLILZLL", "71.510000")
    assert (thread.method, thread.path) == ("POST", "/api/customer_threads")
    opened = dict(fields(thread, "customer_thread"))
    assert {
        k: opened[k] for k in ("id_lang", "id_shop", "id_customer", "id_order", "id_contact", "status")
    } == {
        "id_lang": "1",
        "id_shop": "1",
        "id_customer": "1",
        "id_order": "5",
        "id_contact": "0",
        "status": "open",
    }
    assert opened["token"].isalnum()
    assert (note.method, note.path) == ("POST", "/api/customer_messages")
    assert fields(note, "customer_message") == [
        ("id_employee", "0"),
        ("id_customer_thread", "1"),
        ("message", event.note),
        ("private", "1"),
    ]
    assert shop.state("5") == "2"
    assert [p.findtext("transaction_id") for p in shop.payments("5")] == ["BP0000012345"]


def test_the_same_event_applied_again_writes_nothing(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    connector = connect()
    connector.apply_event(paid())
    first = len(writes(shop))
    connector.apply_event(paid())
    connect().apply_event(paid())

    assert first == 4
    assert len(writes(shop)) == 4
    assert shop.notes("5") == [paid().note]


def test_an_order_already_in_the_target_state_only_gets_the_note(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    shop.set_order("5", current_state="2")

    connect().apply_event(paid())

    assert [(c.method, c.path) for c in writes(shop)] == NOTE_ONLY


def test_a_failure_after_the_state_change_is_completed_on_retry_without_a_second_change(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    shop.fail(
        "PUT",
        "/api/order_payments/1",
        lambda: Reply(500, body=error_body(0, "Database error"), content_type=XML),
    )
    with pytest.raises(ShopUnavailable, match="Database error"):
        connect().apply_event(paid())

    connect().apply_event(paid())

    assert [(c.method, c.path) for c in writes(shop)] == [
        ("POST", "/api/order_histories"),
        ("PUT", "/api/order_payments/1"),
        ("PUT", "/api/order_payments/1"),
        ("POST", "/api/customer_threads"),
        ("POST", "/api/customer_messages"),
    ]
    assert len(shop.payments("5")) == 1


def test_a_refusal_never_moves_a_paid_order(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    shop.set_order("5", current_state="4")

    connect().apply_event(paid(kind=EventKind.REFUSED, id_trans="BP0000099999"))

    assert [(c.method, c.path) for c in writes(shop)] == NOTE_ONLY
    assert shop.state("5") == "4"


def test_a_paid_event_does_not_move_a_shipped_order_back(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    shop.set_order("5", current_state="4")

    connect().apply_event(paid())

    assert shop.state("5") == "4"
    assert ("POST", "/api/order_histories") not in [(c.method, c.path) for c in writes(shop)]


def test_a_partial_refund_changes_no_state_and_leaves_a_note(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    connector = connect()
    connector.apply_event(paid())
    refund = paid(kind=EventKind.PARTIALLY_REFUNDED, id_trans="BP0000012346", amount="10.00")
    connector.apply_event(refund)

    assert shop.state("5") == "2"
    assert shop.notes("5") == [paid().note, refund.note]
    assert "10.00" in refund.note and "BP0000012346" in refund.note


def test_a_full_refund_moves_the_order_to_refunded(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    connector = connect()
    connector.apply_event(paid())
    connector.apply_event(paid(kind=EventKind.REFUNDED, id_trans="BP0000012347"))

    assert shop.state("5") == "7"
    assert len(shop.payments("5")) == 1


def test_the_merchants_mapping_chooses_the_state(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    connect(mapping={StatusEvent.PAID: "11"}).apply_event(paid())

    assert shop.state("5") == "11"
    assert [p.findtext("transaction_id") for p in shop.payments("5")] == ["BP0000012345"]


# Failures, call by call

FETCH = [
    ("GET", "/api/orders/5"),
    ("GET", "/api/currencies"),
    ("GET", "/api/customers"),
    ("GET", "/api/addresses"),
    ("GET", "/api/countries"),
    ("GET", "/api/languages"),
]
APPLY = [
    ("GET", "/api/orders/5"),
    ("POST", "/api/order_histories"),
    ("GET", "/api/order_payments"),
    ("PUT", "/api/order_payments/1"),
    ("GET", "/api/customer_threads"),
    ("POST", "/api/customer_threads"),
    ("POST", "/api/customer_messages"),
    ("GET", "/api/customer_messages"),
]
CHECK = [("GET", "/api/")]


def _answer(status: int, message: str, headers: Mapping[str, str] | None = None) -> Callable[[], Reply]:
    return lambda: Reply(
        status, body=error_body(status, message), headers=dict(headers or {}), content_type=XML
    )


def _timeout() -> Reply:
    raise requests.exceptions.ReadTimeout("the fake PrestaShop did not answer")


FAULTS: dict[str, tuple[Callable[[], Reply], type[ConnectorError], str]] = {
    "401": (
        _answer(401, "Authentication key does not exist"),
        ShopAuthFailed,
        "Authentication key does not exist",
    ),
    "403": (_answer(403, "No permission for this authentication key"), ShopAuthFailed, "No permission"),
    "404": (_answer(404, "Invalid ID"), OrderNotFound, "Invalid ID"),
    "400": (
        _answer(400, 'Validation error: "Property OrderHistory->id_order_state is empty."'),
        ShopRefused,
        "id_order_state is empty",
    ),
    "429": (_answer(429, "Too many requests", {"Retry-After": "120"}), ShopUnavailable, "Retry-After: 120"),
    "500": (_answer(500, "Internal error"), ShopUnavailable, "Internal error"),
    "timeout": (_timeout, ShopUnavailable, "did not answer"),
    "redirect": (lambda: Reply(302, headers={"Location": PRIVATE_TARGET}), ShopRefused, "169.254.169.254"),
}


def _run(connector: PrestaShopConnector, action: str) -> None:
    if action == "fetch_order":
        connector.fetch_order("5")
    elif action == "apply_event":
        connector.apply_event(paid())
    else:
        connector.check_connection()


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize(
    ("action", "call"),
    [("fetch_order", c) for c in FETCH]
    + [("apply_event", c) for c in APPLY]
    + [("check_connection", c) for c in CHECK],
    ids=lambda v: v if isinstance(v, str) else " ".join(v),
)
def test_each_failure_of_each_call_is_classified_with_prestashops_message(
    shop: FakePrestaShop,
    connect: Callable[..., PrestaShopConnector],
    action: str,
    call: tuple[str, str],
    fault: str,
) -> None:
    answer, error, said = FAULTS[fault]
    if action == "check_connection" and fault == "404":
        error, said = ShopRefused, "no webservice"
    if call == ("GET", "/api/customer_messages"):
        # Only asked for when the order has a thread already.
        shop.add("customer_threads", "9", id_order="5", id_customer="1")
    shop.fail(*call, answer)

    with pytest.raises(error) as caught:
        _run(connect(), action)

    assert said in str(caught.value)
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)
    if fault == "429":
        assert isinstance(caught.value, ShopUnavailable) and caught.value.retry_after == 120
    assert (call[0], call[1]) in [(c.method, c.path) for c in calls(shop)]


# Checking the connection


def test_check_connection_makes_one_call_and_names_the_shop(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    found = connect().check_connection()

    assert found == "PrestaShop Boutique Ada: webservice key accepted, with every permission needed"
    assert [(c.method, c.path) for c in calls(shop)] == [("GET", "/api/")]


def test_check_connection_names_each_missing_permission(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    shop.permissions["order_histories"] = ()
    shop.permissions["order_payments"] = ("get",)

    with pytest.raises(ShopRefused) as caught:
        connect().check_connection()

    assert "POST order_histories, PUT order_payments" in str(caught.value)


def test_check_connection_says_when_the_webservice_is_switched_off(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    message = "The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office"
    shop.fail("GET", "/api/", _answer(503, message))

    with pytest.raises(ShopRefused, match="Enable PrestaShop's webservice") as caught:
        connect().check_connection()

    assert not isinstance(caught.value, ShopUnavailable)


def test_a_note_goes_into_the_thread_the_order_already_has(
    shop: FakePrestaShop, connect: Callable[..., PrestaShopConnector]
) -> None:
    shop.add("customer_threads", "9", id_order="5", id_customer="1", status="open")
    shop.set_order("5", current_state="2")

    connect().apply_event(paid())

    (note,) = writes(shop)
    assert (note.method, note.path) == ("POST", "/api/customer_messages")
    assert dict(fields(note, "customer_message"))["id_customer_thread"] == "9"
    asked = [c.query for c in calls(shop) if (c.method, c.path) == ("GET", "/api/customer_messages")]
    assert asked == [{"filter[id_customer_thread]": "[9]", "display": "[id,message]"}]


@pytest.mark.parametrize(("setting", "verify"), [("yes", True), ("no", False)])
def test_tls_verification_follows_the_setting(
    connect: Callable[..., PrestaShopConnector], setting: str, verify: bool
) -> None:
    listing = FakePrestaShop().listing(Call("GET", "/api/", {}, {}, b"", None), None)
    seen: list[object] = []

    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        seen.append(request.req_kwargs["verify"])
        body = listing.body if isinstance(listing.body, bytes) else listing.body.encode()
        return 200, {"Content-Type": XML}, body

    with responses.RequestsMock() as mock:
        mock.add_callback("GET", f"{BASE}/api/", callback=answer)
        connect(verify_tls=setting).check_connection()

    assert seen == [verify]
