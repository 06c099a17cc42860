"""Reading Shopware 6's order JSON (Admin API, ``Accept: application/json``) as the hub's :class:`Order`.

Pure functions over one order entity as ``POST /api/search/order`` returns it
with the associations :data:`ASSOCIATIONS` asks for: no call to the shop here,
so each rule is tested on the published example. Shopware sends money as JSON
numbers (``395.01``): the body must be decoded with
:func:`~bluepaid_plugins.money.loads_exact`, so that no amount goes through a
float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bluepaid_plugins.domain import Customer, LineItem, Order, OrderStatus
from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money, json_amount
from bluepaid_plugins.protocol import LANGUAGES

#: What the search asks Shopware to embed in the order: one call reads it all.
ASSOCIATIONS: dict[str, Any] = {
    "currency": {},
    "language": {"associations": {"locale": {}}},
    "lineItems": {},
    "orderCustomer": {},
    "stateMachineState": {},
    "transactions": {"associations": {"stateMachineState": {}}},
    "billingAddress": {"associations": {"country": {}}},
    "deliveries": {"associations": {"shippingOrderAddress": {"associations": {"country": {}}}}},
}

#: The states of Shopware's ``order_transaction`` state machine: code -> (label, what it
#: means to the hub for an order that is not cancelled). ``unconfirmed`` and
#: ``in_progress`` are what Shopware sets while the buyer is away paying with an
#: asynchronous method: the hub's pay link is that payment. A ``cancelled``
#: transaction (the buyer turned back) leaves the order payable, as Shopware does
#: ("change payment method" after the order). ``authorized`` money is held by
#: another provider and ``paid_partially`` was partly paid by other means: paying
#: by card now could take the money twice.
TRANSACTION_STATES: Mapping[str, tuple[str, OrderStatus]] = {
    "open": ("Open", OrderStatus.OPEN),
    "reminded": ("Reminded", OrderStatus.OPEN),
    "unconfirmed": ("Unconfirmed", OrderStatus.OPEN),
    "in_progress": ("In progress", OrderStatus.OPEN),
    "failed": ("Failed", OrderStatus.FAILED),
    "cancelled": ("Cancelled", OrderStatus.FAILED),
    "authorized": ("Authorized", OrderStatus.ON_HOLD),
    "paid_partially": ("Paid (partially)", OrderStatus.ON_HOLD),
    "paid": ("Paid", OrderStatus.PAID),
    "refunded_partially": ("Refunded (partially)", OrderStatus.PARTIALLY_REFUNDED),
    "refunded": ("Refunded", OrderStatus.REFUNDED),
    "chargeback": ("Chargeback", OrderStatus.REFUNDED),
}

#: Where the connector keeps its notes: a custom field of the order (the app's
#: manifest declares it, so that the merchant sees it in the order's page).
NOTES_FIELD = "bluepaid_notes"


class UnreadableOrder(ValueError):
    """The shop's answer is not an order this module can read; the message says why."""


@dataclass(frozen=True)
class ShopwareOrder:
    """One Shopware order: the hub's view of it and what ``apply_event`` needs."""

    order: Order
    id: str
    transaction_id: str
    transaction_state: str
    notes: tuple[str, ...]


def hub_status(order_state: str, transaction_state: str) -> OrderStatus:
    """What the order's state and its payment transaction's state mean to the hub.

    A cancelled order is cancelled whatever its payment; a state added by a
    plugin is not payable (on hold).
    """
    if order_state == "cancelled":
        return OrderStatus.CANCELLED
    known = TRANSACTION_STATES.get(transaction_state)
    return OrderStatus.ON_HOLD if known is None else known[1]


def read_order(ref: str, data: Any) -> ShopwareOrder:
    """The order numbered ``ref`` from its entity ``data``; UnreadableOrder saying what is wrong."""
    if not isinstance(data, dict):
        raise UnreadableOrder("the answer is not a JSON object")
    try:
        currency = str(data["currency"]["isoCode"]).upper()
        total = Money(json_amount(data["price"]["totalPrice"], "price.totalPrice"), currency)
        transaction = _payment_transaction(data.get("transactions") or [])
        transaction_state = _state(transaction)
        buyer = data.get("orderCustomer") or {}
        customer = Customer(
            email=str(buyer.get("email") or ""),
            first_name=str(buyer.get("firstName") or ""),
            last_name=str(buyer.get("lastName") or ""),
            country=_country(data),
        )
        lines = sorted(
            (
                line
                for line in data.get("lineItems") or ()
                if isinstance(line, dict) and not line.get("parentId")
            ),
            key=lambda line: int(line.get("position") or 0),
        )
        items = tuple(
            LineItem(str(line["label"]), int(line["quantity"]), json_amount(line["unitPrice"], "unitPrice"))
            for line in lines
        )
        order = Order(
            ref=ref,
            total=total,
            status=hub_status(_state(data), transaction_state),
            customer=customer,
            items=items,
            description=f"Shopware order {data.get('orderNumber') or ref}",
            language=_language(data.get("language")),
            secret=str(data["deepLinkCode"] or ""),
        )
        custom = data.get("customFields") or {}
        notes = str(custom.get(NOTES_FIELD) or "") if isinstance(custom, dict) else ""
        found = ShopwareOrder(
            order, str(data["id"]), str(transaction["id"]), transaction_state, tuple(notes.splitlines())
        )
    except KeyError as exc:
        raise UnreadableOrder(f"the field {exc} is missing") from None
    except ValidationError as exc:
        raise UnreadableOrder(str(exc)) from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise UnreadableOrder(f"a field has an unexpected type or value ({exc})") from None
    return found


def _payment_transaction(transactions: list[Any]) -> dict[str, Any]:
    """The transaction that carries the order's payment: the newest, as Shopware's own
    checkout takes it (a buyer who changes payment method adds one)."""
    listed = [t for t in transactions if isinstance(t, dict)]
    if not listed:
        raise UnreadableOrder("the order has no payment transaction")
    return max(listed, key=lambda t: str(t.get("createdAt") or ""))


def _state(entity: Mapping[str, Any]) -> str:
    state = entity.get("stateMachineState")
    if not isinstance(state, dict) or not state.get("technicalName"):
        raise UnreadableOrder("a state is missing: the search did not embed stateMachineState")
    return str(state["technicalName"])


def _country(data: Mapping[str, Any]) -> str:
    """The delivery country (ISO alpha-3, as Shopware keeps it too), else the billing one."""
    addresses = [
        delivery.get("shippingOrderAddress")
        for delivery in data.get("deliveries") or ()
        if isinstance(delivery, dict)
    ]
    addresses.append(data.get("billingAddress"))
    for address in addresses:
        country = address.get("country") if isinstance(address, dict) else None
        if isinstance(country, dict) and country.get("iso3"):
            return str(country["iso3"]).upper()
    return ""


def _language(language: Any) -> str:
    locale = language.get("locale") if isinstance(language, dict) else None
    code = str(locale.get("code") or "")[:2].upper() if isinstance(locale, dict) else ""
    return code if code in LANGUAGES else ""
