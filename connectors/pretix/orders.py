"""Reading pretix's order JSON (REST API v1) as the hub's :class:`Order`.

Pure functions over the decoded bodies of ``GET .../events/{event}/`` (the
currency is the event's: an order carries none) and ``GET
.../orders/{code}/``: no call to the shop here, so each rule is tested on the
published examples. Every amount pretix sends is a decimal string, read as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bluepaid_plugins.countries import alpha3
from bluepaid_plugins.domain import Customer, Order, OrderStatus
from bluepaid_plugins.errors import ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import LANGUAGES

#: pretix's order statuses: code -> label for merchants.
STATUSES: Mapping[str, str] = {
    "n": "pending",
    "p": "paid",
    "e": "expired",
    "c": "canceled",
}

#: The payment provider of the pretix plugin (``pretix-bluepaid``) whose payments this connector writes.
PROVIDER = "bluepaid"

#: Payment and refund states pretix counts as money moved.
CONFIRMED = "confirmed"
DONE = "done"
#: Payment states of a payment started and not finished.
WAITING = frozenset({"created", "pending"})


class UnreadableOrder(ValueError):
    """The shop's answer is not an order this module can read; the message says why."""


@dataclass(frozen=True)
class Record:
    """One payment or refund of an order, as pretix lists it.

    ``id_trans``, ``event`` and ``payment`` (the hub's payment) are what the hub
    wrote in its ``info``, given back by the plugin in ``details``; empty for
    records made otherwise.
    """

    local_id: int
    state: str
    amount: Decimal
    provider: str
    id_trans: str
    event: str
    payment: str


@dataclass(frozen=True)
class PretixOrder:
    """One pretix order: the hub's view of it and what ``apply_event`` compares."""

    order: Order
    status: str
    payments: tuple[Record, ...]
    refunds: tuple[Record, ...]

    def written_by(self, event_id: str) -> Record | None:
        """The payment or refund the hub wrote for event ``event_id``, if any."""
        return next((r for r in (*self.payments, *self.refunds) if r.event == event_id), None)

    def all_waiting(self) -> list[Record]:
        """The payments of Bluepaid that pretix's checkout started and no outcome finished
        yet (``created``, or ``pending``), oldest first."""
        return [p for p in self.payments if p.provider == PROVIDER and p.state in WAITING and not p.id_trans]

    def waiting_payment(self, amount: Decimal) -> Record | None:
        """The newest waiting payment of ``amount`` (the one the buyer's last checkout
        started), if any."""
        return next((p for p in reversed(self.all_waiting()) if p.amount == amount), None)


def currency(event: Any) -> str:
    """The currency of the event ``event`` (the JSON of ``GET .../events/{event}/``)."""
    found = event.get("currency") if isinstance(event, dict) else None
    if not isinstance(found, str) or not found:
        raise UnreadableOrder("the event has no currency")
    return found.upper()


def hub_status(status: str, data: Mapping[str, Any], payments: tuple[Record, ...]) -> OrderStatus:
    """What pretix ``status`` means to the hub, for the order ``data``.

    pretix has no "failed" or "refunded" status: a pending order whose last
    payment failed or was cancelled is failed (payable still); a paid order
    with a done refund is partially refunded; a cancelled one whose done
    refunds give back all it took, refunded. A pending order waiting for the
    organiser's approval cannot be paid yet: on hold.
    """
    refunded = _sum(r for r in _records(data, "refunds") if r.state == DONE)
    taken = _sum(p for p in payments if p.state in (CONFIRMED, "refunded"))
    if status == "p":
        return OrderStatus.PARTIALLY_REFUNDED if refunded > 0 else OrderStatus.PAID
    if status == "c":
        return OrderStatus.REFUNDED if taken > 0 and refunded >= taken else OrderStatus.CANCELLED
    if status == "e":
        return OrderStatus.EXPIRED
    if data.get("require_approval"):
        return OrderStatus.ON_HOLD
    if payments and payments[-1].state in ("failed", "canceled"):
        return OrderStatus.FAILED
    return OrderStatus.OPEN


def read_order(code: str, data: Any, currency_code: str) -> PretixOrder:
    """The order ``code`` from its JSON ``data`` in ``currency_code``; raise UnreadableOrder
    saying what is wrong."""
    if not isinstance(data, dict):
        raise UnreadableOrder("the answer is not a JSON object")
    try:
        total = Money(_decimal(data["total"], "total"), currency_code)
        status = str(data["status"])
        if status not in STATUSES:
            raise UnreadableOrder(f"the status {status[:20]!r} is not one of pretix's")
        address = data.get("invoice_address") or {}
        parts = address.get("name_parts") or {}
        customer = Customer(
            email=str(data.get("email") or ""),
            first_name=str(parts.get("given_name") or ""),
            last_name=str(parts.get("family_name") or ""),
            country=alpha3(str(address.get("country") or "")),
        )
        payments = tuple(_records(data, "payments"))
        order = Order(
            ref=code,
            total=total,
            status=hub_status(status, data, payments),
            customer=customer,
            description=f"pretix order {code}",
            language=_language(data.get("locale")),
            secret=str(data["secret"]),
        )
        refunds = tuple(_records(data, "refunds"))
    except KeyError as exc:
        raise UnreadableOrder(f"the field {exc} is missing") from None
    except ValidationError as exc:
        raise UnreadableOrder(str(exc)) from None
    except (TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, UnreadableOrder):
            raise
        raise UnreadableOrder(f"a field has an unexpected type ({exc})") from None
    return PretixOrder(order, status, payments, refunds)


def _records(data: Mapping[str, Any], name: str) -> list[Record]:
    listed = data.get(name)
    found = []
    for entry in listed if isinstance(listed, list) else ():
        if not isinstance(entry, dict):
            continue
        given = entry.get("details")
        details: Mapping[str, Any] = given if isinstance(given, dict) else {}
        found.append(
            Record(
                local_id=int(entry["local_id"]),
                state=str(entry["state"]),
                amount=_decimal(entry["amount"], f"{name}[].amount"),
                provider=str(entry.get("provider") or ""),
                id_trans=str(details.get("id_trans") or ""),
                event=str(details.get("event") or ""),
                payment=str(details.get("payment") or ""),
            )
        )
    return sorted(found, key=lambda record: record.local_id)


def _sum(records: Any) -> Decimal:
    return sum((record.amount for record in records), Decimal(0))


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


def _language(locale: Any) -> str:
    """pretix's locale (``en``, ``fr``, ``de-informal``, ``pt-br``) as a protocol language, or ""."""
    code = str(locale or "")[:2].upper()
    return code if code in LANGUAGES else ""
