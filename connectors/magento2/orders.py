"""Reading Magento 2's order JSON (REST ``GET /V1/orders/{id}``) as the hub's :class:`Order`.

Pure functions over the decoded body: no call to the shop here, so each rule
is tested on the published example. Magento sends money as JSON numbers
(``165``, ``22.5``): the body must be decoded with
:func:`~bluepaid_plugins.money.loads_exact`, so that no amount goes through a
float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bluepaid_plugins.countries import alpha3
from bluepaid_plugins.domain import Customer, LineItem, Order, OrderStatus
from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money, json_amount

#: Magento's order states: code -> (label, what it means to the hub). ``new`` and
#: ``pending_payment`` wait for the payment; ``holded`` and ``payment_review`` wait
#: for the merchant or a provider; ``closed`` is what Magento makes of an order whose
#: payments were refunded in full.
STATES: Mapping[str, tuple[str, OrderStatus]] = {
    "new": ("New", OrderStatus.OPEN),
    "pending_payment": ("Pending payment", OrderStatus.OPEN),
    "processing": ("Processing", OrderStatus.PAID),
    "complete": ("Complete", OrderStatus.PAID),
    "closed": ("Closed", OrderStatus.REFUNDED),
    "canceled": ("Canceled", OrderStatus.CANCELLED),
    "holded": ("On hold", OrderStatus.ON_HOLD),
    "payment_review": ("Payment review", OrderStatus.ON_HOLD),
}

#: Magento's default order statuses, as a status mapping names them.
STATUSES: Mapping[str, str] = {
    "pending": "Pending",
    "pending_payment": "Pending payment",
    "processing": "Processing",
    "complete": "Complete",
    "closed": "Closed",
    "canceled": "Canceled",
    "holded": "On hold",
    "payment_review": "Payment review",
    "fraud": "Suspected fraud",
}


class UnreadableOrder(ValueError):
    """The shop's answer is not an order this module can read; the message says why."""


@dataclass(frozen=True)
class MagentoOrder:
    """One Magento order: the hub's view of it and what ``apply_event`` compares."""

    order: Order
    state: str
    status: str
    total_refunded: Decimal
    item_ids: tuple[int, ...]
    comments: tuple[str, ...]


def hub_status(state: str, refunded: Decimal) -> OrderStatus:
    """What Magento ``state`` means to the hub; a paid order with refunds that do not
    close it is partially refunded. An unknown state is not payable (on hold)."""
    known = STATES.get(state)
    meaning = OrderStatus.ON_HOLD if known is None else known[1]
    if meaning is OrderStatus.PAID and refunded > 0:
        return OrderStatus.PARTIALLY_REFUNDED
    return meaning


def read_order(ref: str, data: Any) -> MagentoOrder:
    """The order ``ref`` (its ``entity_id``) from its JSON ``data``; UnreadableOrder saying what is wrong."""
    if not isinstance(data, dict):
        raise UnreadableOrder("the answer is not a JSON object")
    try:
        currency = str(data["order_currency_code"]).upper()
        total = Money(json_amount(data["grand_total"], "grand_total"), currency)
        refunded = json_amount(data.get("total_refunded") or 0, "total_refunded")
        state = str(data["state"])
        customer = Customer(
            email=str(data.get("customer_email") or ""),
            first_name=str(data.get("customer_firstname") or ""),
            last_name=str(data.get("customer_lastname") or ""),
            country=_country(data),
        )
        # Children of bundles and configurables repeat their parent: the parent is the line.
        lines = [i for i in data.get("items") or () if isinstance(i, dict) and not i.get("parent_item_id")]
        items = tuple(
            LineItem(str(i["name"]), int(json_amount(i["qty_ordered"], "qty_ordered")), _price(i))
            for i in lines
        )
        order = Order(
            ref=ref,
            total=total,
            status=hub_status(state, refunded),
            customer=customer,
            items=items,
            description=f"Magento order #{data.get('increment_id') or ref}",
            secret=str(data["protect_code"] or ""),
        )
        histories = data.get("status_histories") or ()
        comments = tuple(str(h.get("comment") or "") for h in histories if isinstance(h, dict))
        found = MagentoOrder(
            order,
            state,
            str(data.get("status") or ""),
            refunded,
            tuple(int(i["item_id"]) for i in data.get("items") or () if isinstance(i, dict)),
            comments,
        )
    except KeyError as exc:
        raise UnreadableOrder(f"the field {exc} is missing") from None
    except ValidationError as exc:
        raise UnreadableOrder(str(exc)) from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise UnreadableOrder(f"a field has an unexpected type or value ({exc})") from None
    return found


def _price(item: Mapping[str, Any]) -> Decimal:
    return json_amount(item.get("price") or 0, "items[].price")


def _country(data: Mapping[str, Any]) -> str:
    """The delivery country (Magento keeps alpha-2 codes) else the billing one, as alpha-3."""
    extension = data.get("extension_attributes") or {}
    assignments = extension.get("shipping_assignments") if isinstance(extension, dict) else None
    for assignment in assignments if isinstance(assignments, list) else ():
        shipping = assignment.get("shipping") if isinstance(assignment, dict) else None
        address = shipping.get("address") if isinstance(shipping, dict) else None
        if isinstance(address, dict) and address.get("country_id"):
            return alpha3(str(address["country_id"]))
    billing = data.get("billing_address")
    return alpha3(str(billing.get("country_id") or "")) if isinstance(billing, dict) else ""
