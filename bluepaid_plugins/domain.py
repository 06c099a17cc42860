"""Domain values shared by the hub, connectors, the cart and the form.

All are frozen dataclasses: a connector builds an :class:`Order` from its shop's
API, the hub builds :class:`PaymentEvent` values from confirmations, and hooks get
read-only :class:`ShopView` and :class:`PaymentView` snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bluepaid_plugins.money import Money


class OrderStatus(StrEnum):
    """What the shop says of an order, as far as payment is concerned."""

    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class EventKind(StrEnum):
    """What happened to a payment, as told by the platform."""

    PENDING = "pending"
    PAID = "paid"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class Customer:
    """The buyer, as much as the shop knows. ``country`` is ISO 3166 alpha-3."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    country: str = ""


@dataclass(frozen=True)
class LineItem:
    """One line of an order; informative (the total is what is charged)."""

    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Schedule:
    """A subscription or payment in instalments (the platform's ``ABOv2``).

    ``occurrences`` debits of the order's total, one every ``period_count``
    ``period_type`` (``M`` month; ``S`` week and ``J`` day are the sandbox's
    own), the first at ``initial`` when given. A refused debit is presented
    again up to ``tolerance_max`` times, ``tolerance_days`` apart.
    """

    occurrences: int
    period_count: int = 1
    period_type: str = "M"
    initial: Money | None = None
    tolerance_days: int = 0
    tolerance_max: int = 0


@dataclass(frozen=True)
class Order:
    """An order to be paid, as the shop describes it.

    ``total`` always comes from the shop, never from the browser. ``language`` is
    the buyer's language as a protocol code (``FR``, ``EN``...) or empty. With a
    ``schedule``, ``total`` is the amount of each debit of a subscription.
    """

    ref: str
    total: Money
    status: OrderStatus = OrderStatus.OPEN
    customer: Customer = field(default_factory=Customer)
    items: tuple[LineItem, ...] = ()
    description: str = ""
    language: str = ""
    schedule: Schedule | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """A state change of a payment, handed to connectors and event hooks.

    ``amount`` is the amount of this event: the payment total for ``paid``, the
    refunded amount for ``refunded`` (``refunded_total`` sums every refund so far).
    ``test`` is true for a payment made with a test card. For a subscription,
    ``num_abo`` is the platform's subscription number and ``debit`` the 1-based
    number of the debit this event is about; both are empty for single payments.
    """

    kind: EventKind
    order_ref: str
    amount: Money
    id_trans: str
    occurred_at: datetime
    test: bool = False
    refunded_total: Money | None = None
    num_abo: str = ""
    debit: int | None = None

    @property
    def note(self) -> str:
        """A one-line note for the shop's order history, carrying ``id_trans``."""
        test = " (TEST)" if self.test else ""
        debit = f" (debit {self.debit}, subscription {self.num_abo})" if self.debit else ""
        text = f"Bluepaid: {self.kind.value} {self.amount} {self.amount.currency}{test}{debit}"
        return f"{text}, transaction {self.id_trans}"


@dataclass(frozen=True)
class ShopView:
    """A read-only view of a shop for hooks: never carries its secrets."""

    slug: str
    id_boutique: str
    name: str
    connector: str
    test_mode: bool


@dataclass(frozen=True)
class PaymentView:
    """A read-only view of a payment for hooks."""

    id: str
    shop: str
    order_ref: str
    state: str
    amount: Money
    id_trans: str
    flags: tuple[str, ...]
    refunded: Money
