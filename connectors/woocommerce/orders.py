"""Reading WooCommerce's order JSON (REST API v3) as the hub's :class:`Order`.

Pure functions over the decoded body of ``GET /wp-json/wc/v3/orders/{id}``:
no call to the shop here, so each rule is tested on the published examples.
Every amount the shop sends as a decimal string is read as one; the only
money field WooCommerce sends as a JSON number (``line_items[].price``) is
never read: a line's unit price is its ``total`` divided by its ``quantity``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from bluepaid_plugins.countries import alpha3
from bluepaid_plugins.domain import Customer, LineItem, Order, OrderStatus
from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money, currency_decimals
from bluepaid_plugins.protocol import LANGUAGES

#: WooCommerce's core order statuses: code -> (label for merchants, what it means to the hub).
#: ``pending`` and ``failed`` are the ones WooCommerce itself lets a buyer pay. ``on-hold``
#: waits for a payment by other means (a bank transfer, a cheque): paying it by card too
#: could take the money twice, so it is not payable here. ``checkout-draft`` is a cart
#: the block checkout has not placed yet.
STATUSES: Mapping[str, tuple[str, OrderStatus]] = {
    "pending": ("Pending payment", OrderStatus.OPEN),
    "failed": ("Failed", OrderStatus.FAILED),
    "on-hold": ("On hold", OrderStatus.ON_HOLD),
    "processing": ("Processing (paid)", OrderStatus.PAID),
    "completed": ("Completed", OrderStatus.PAID),
    "cancelled": ("Cancelled", OrderStatus.CANCELLED),
    "refunded": ("Refunded", OrderStatus.REFUNDED),
    "checkout-draft": ("Draft", OrderStatus.EXPIRED),
}

#: Where WPML's WooCommerce Multilingual keeps the buyer's language in an order's
#: meta data; WooCommerce itself keeps none.
LANGUAGE_META_KEYS = ("wpml_language",)


#: How the reason of every refund this connector records starts.
REFUND_REASON = "Bluepaid refund"


def refund_reasons(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The reasons of the refunds listed in order ``data``.

    Older WooCommerce versions (and the published v3 example) name the reason
    ``refund``, newer ones ``reason``.
    """
    refunds = data.get("refunds")
    listed = refunds if isinstance(refunds, list) else []
    return tuple(
        str(refund.get("reason") or refund.get("refund") or "")
        for refund in listed
        if isinstance(refund, dict)
    )


class UnreadableOrder(ValueError):
    """The shop's answer is not an order this module can read; the message says why."""


@dataclass(frozen=True)
class WooOrder:
    """One WooCommerce order: the hub's view of it and what ``apply_event`` compares."""

    order: Order
    status: str
    refund_reasons: tuple[str, ...]


def hub_status(status: str, data: Mapping[str, Any]) -> OrderStatus:
    """What WooCommerce ``status`` means to the hub, for the order ``data``.

    WooCommerce has no "partially refunded" status: a paid order with refunds
    that do not cover its total is one. A status added by a plugin (``shipped``...)
    is not payable: paid if the shop recorded a payment date, else on hold.
    """
    known = STATUSES.get(status)
    if known is None:
        return OrderStatus.PAID if data.get("date_paid") else OrderStatus.ON_HOLD
    meaning = known[1]
    if meaning is OrderStatus.PAID and data.get("refunds"):
        return OrderStatus.PARTIALLY_REFUNDED
    return meaning


def read_order(ref: str, data: Any) -> WooOrder:
    """The order ``ref`` from its JSON ``data``; raise UnreadableOrder saying what is wrong."""
    if not isinstance(data, dict):
        raise UnreadableOrder("the answer is not a JSON object")
    try:
        currency = str(data["currency"]).upper()
        places = currency_decimals(currency)
        total = Money(_decimal(data["total"], "total"), currency)
        status = str(data["status"])
        billing = data.get("billing") or {}
        shipping = data.get("shipping") or {}
        country = alpha3(str(shipping.get("country") or billing.get("country") or ""))
        customer = Customer(
            email=str(billing.get("email") or ""),
            first_name=str(billing.get("first_name") or ""),
            last_name=str(billing.get("last_name") or ""),
            country=country,
        )
        items = tuple(_line(line, places) for line in data.get("line_items") or ())
        number = str(data.get("number") or ref)
        order = Order(
            ref=ref,
            total=total,
            status=hub_status(status, data),
            customer=customer,
            items=items,
            description=f"WooCommerce order #{number}",
            language=_language(data.get("meta_data") or ()),
            secret=str(data["order_key"]),
        )
        reasons = refund_reasons(data)
    except KeyError as exc:
        raise UnreadableOrder(f"the field {exc} is missing") from None
    except ValidationError as exc:
        raise UnreadableOrder(str(exc)) from None
    except (TypeError, AttributeError) as exc:
        raise UnreadableOrder(f"a field has an unexpected type ({exc})") from None
    return WooOrder(order, status, reasons)


def _decimal(value: Any, name: str) -> Decimal:
    """A decimal string of the shop as a Decimal; a JSON number is refused, since it
    may already have lost the exact amount in a float."""
    if not isinstance(value, str):
        raise UnreadableOrder(f"{name} is {type(value).__name__}, not a decimal string")
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise UnreadableOrder(f"{name} {value[:40]!r} is not a number") from None
    if not number.is_finite():
        raise UnreadableOrder(f"{name} {value[:40]!r} is not a number")
    return number


def _line(line: Mapping[str, Any], places: int) -> LineItem:
    quantity = int(line["quantity"])
    total = _decimal(line["total"], "line_items[].total")
    # The line's total after discounts, before tax, as the shop rounded it; per unit
    # it is rounded to the currency again (informative: the order's total is charged).
    unit = (total / quantity if quantity else total).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    # Product names come HTML-escaped ("Ship Your Idea &ndash; Color: Black").
    return LineItem(html.unescape(str(line["name"])), quantity, unit)


def _language(meta: Any) -> str:
    for entry in meta if isinstance(meta, list) else ():
        if isinstance(entry, dict) and entry.get("key") in LANGUAGE_META_KEYS:
            code = str(entry.get("value") or "")[:2].upper()
            return code if code in LANGUAGES else ""
    return ""
