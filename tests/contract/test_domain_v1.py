"""Contract v1 domain values: events with identity and their mapping key, payable orders, money."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

import pytest

from bluepaid_plugins import (
    Connector,
    ConnectorContext,
    EventKind,
    Money,
    Order,
    OrderStatus,
    PaymentEvent,
    StatusEvent,
    WebhookRequest,
)
from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.http import shop_session
from bluepaid_plugins.money import check_currency, json_amount, loads_exact

EUR = Money.parse("36.60", "EUR")


def event(kind: EventKind, debit: int | None = None, **changes: object) -> PaymentEvent:
    made = PaymentEvent(
        id="ev_0123456789abcdef01234567",
        payment_id="p" * 32,
        kind=kind,
        order_ref="A1",
        amount=EUR,
        paid_total=EUR,
        refunded_total=Money.parse("0", "EUR"),
        id_trans="BP000000000042",
        occurred_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        num_abo="A0000000001" if debit else "",
        debit=debit,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


# PaymentEvent.status_event


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (EventKind.PAID, StatusEvent.PAID),
        (EventKind.REFUSED, StatusEvent.REFUSED),
        (EventKind.CANCELLED, StatusEvent.CANCELLED),
        (EventKind.PARTIALLY_REFUNDED, StatusEvent.PARTIALLY_REFUNDED),
        (EventKind.REFUNDED, StatusEvent.REFUNDED),
    ],
)
def test_a_single_payment_event_is_its_own_mapping_key(kind: EventKind, expected: StatusEvent) -> None:
    assert event(kind).status_event is expected


def test_a_first_debit_is_mapped_like_a_single_payment() -> None:
    assert event(EventKind.PAID, debit=1).status_event is StatusEvent.PAID
    assert event(EventKind.REFUSED, debit=1).status_event is StatusEvent.REFUSED


def test_a_later_debit_has_debit_keys() -> None:
    assert event(EventKind.PAID, debit=2).status_event is StatusEvent.DEBIT_PAID
    assert event(EventKind.REFUSED, debit=12).status_event is StatusEvent.DEBIT_REFUSED


def test_a_pending_event_has_no_mapping_key() -> None:
    assert event(EventKind.PENDING).status_event is None
    assert event(EventKind.PENDING, debit=3).status_event is None


def test_an_event_note_carries_the_transaction_and_the_debit() -> None:
    note = event(EventKind.PAID, debit=2, test=True).note

    assert note == (
        "Bluepaid: paid 36.60 EUR (TEST) (debit 2, subscription A0000000001), transaction BP000000000042"
    )


# Connector.status_for


class MappedShop(Connector):
    id = "mapped"
    label = "Mapped shop"
    contract = ">=1,<2"
    statuses: ClassVar[Mapping[str, str]] = {
        "processing": "Processing",
        "on-hold": "On hold",
        "failed": "Failed",
    }
    default_status_mapping: ClassVar[Mapping[StatusEvent, str | None]] = {
        StatusEvent.PAID: "processing",
        StatusEvent.REFUSED: "failed",
    }


class NoOrders:
    def get(self, ref: str) -> Order | None:
        return None

    def set_status(self, ref: str, status: OrderStatus, note: str) -> bool:
        raise AssertionError("not expected")


def mapped_shop(mapping: dict[StatusEvent, str | None]) -> MappedShop:
    with shop_session() as http:
        return MappedShop({}, ConnectorContext("demo", http, NoOrders(), status_mapping=mapping))


def test_status_for_follows_the_default_mapping() -> None:
    assert mapped_shop({}).status_for(event(EventKind.PAID)) == "processing"


def test_status_for_follows_the_merchants_change_over_the_default() -> None:
    shop = mapped_shop({StatusEvent.REFUSED: "on-hold"})

    assert shop.status_for(event(EventKind.REFUSED)) == "on-hold"
    assert shop.status_for(event(EventKind.PAID)) == "processing"


def test_status_for_a_pending_or_unmapped_event_leaves_the_order_alone() -> None:
    shop = mapped_shop({StatusEvent.PAID: None})

    assert shop.status_for(event(EventKind.PAID)) is None
    assert shop.status_for(event(EventKind.PENDING)) is None
    assert shop.status_for(event(EventKind.CANCELLED)) is None


# Orders


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_open_and_failed_orders_are_payable(status: OrderStatus) -> None:
    order = Order(ref="A1", total=EUR, status=status)

    assert order.payable is (status in (OrderStatus.OPEN, OrderStatus.FAILED))


def test_an_orders_secret_is_not_in_its_repr() -> None:
    order = Order(ref="A1", total=EUR, secret="wc_order_Xk2p9")

    assert "wc_order_Xk2p9" not in repr(order)


# Money in any currency


def test_money_holds_a_currency_the_platform_does_not_take() -> None:
    dinars = Money.parse("12.345", "KWD")

    assert (dinars.minor, str(dinars)) == (12345, "12.345")


def test_money_refuses_more_decimals_than_the_currency_has() -> None:
    with pytest.raises(ValidationError, match="more than 3 decimals for KWD"):
        Money(Decimal("1.0001"), "KWD")


def test_check_currency_refuses_one_the_platform_does_not_take_naming_those_it_does() -> None:
    with pytest.raises(ValidationError, match="unknown currency 'KWD'; use one of AUD, CAD, CHF, EUR"):
        check_currency("KWD")


# Webhook requests


def test_a_webhook_header_is_found_in_any_case() -> None:
    request = WebhookRequest("POST", {"x-shop-signature": "abc"}, b"")

    assert request.header("X-Shop-Signature") == "abc"
    assert request.header("X-Missing") == ""


def test_a_webhook_body_is_read_as_a_form_only_when_it_says_so() -> None:
    form = WebhookRequest("POST", {"content-type": "application/x-www-form-urlencoded"}, b"webhook_id=7")
    other = WebhookRequest("POST", {"content-type": "application/json"}, b"webhook_id=7")

    assert form.form() == {"webhook_id": "7"}
    assert other.form() == {}


def test_json_numbers_are_read_digit_for_digit() -> None:
    data = loads_exact(b'{"total": 395.01, "tax": 197.505, "qty": 3, "big": 1e2, "text": "36.60"}')
    assert [json_amount(data[k], k) for k in ("total", "tax", "qty", "big", "text")] == [
        Decimal("395.01"),
        Decimal("197.505"),
        Decimal(3),
        Decimal("1e2"),
        Decimal("36.60"),
    ]
    assert repr(data["total"]) == "Decimal('395.01')"


@pytest.mark.parametrize("value", [395.01, True, None, "NaN", "Infinity", "12,5", [1]])
def test_anything_but_an_exact_amount_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match=r"price: .* is not an exact amount"):
        json_amount(value, "price")
