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
    """What the shop says of an order, as far as payment is concerned.

    Only ``open`` and ``failed`` (an earlier payment failed; the shop still
    wants the money) are payable: the hub starts no payment for the others.
    ``on_hold``: the shop waits for something else before the order can be
    paid or go on (a bank transfer or a cheque announced, a check by the
    merchant): not payable by card now, for fear of taking the money twice,
    yet not closed either.
    """

    OPEN = "open"
    FAILED = "failed"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ON_HOLD = "on_hold"

    @property
    def payable(self) -> bool:
        return self in (OrderStatus.OPEN, OrderStatus.FAILED)

    @property
    def paid(self) -> bool:
        """Paid at some point: paid, or refunded in part or in full since."""
        return self in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


class EventKind(StrEnum):
    """What happened to a payment, as told by the platform and decided by the hub."""

    PENDING = "pending"
    PAID = "paid"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    #: The buyer was charged money they did not owe: the same payment accepted again
    #: under another transaction, or a subscription debit after its end. Told to
    #: event hooks and the merchant, never to the shop's order: refund it.
    OVERCHARGED = "overcharged"
    #: A refund that gave back money the buyer did not owe (an ``overcharged``
    #: charge): the payment and the shop's order are as they were. Told to event
    #: hooks and the merchant, never to the shop.
    OVERCHARGE_REFUNDED = "overcharge_refunded"


class StatusEvent(StrEnum):
    """The events a connector's status mapping gives a shop status for.

    ``debit_paid`` and ``debit_refused`` are the debits of a subscription after
    the first (the first is ``paid`` or ``refused`` like a single payment).
    """

    PAID = "paid"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DEBIT_PAID = "debit_paid"
    DEBIT_REFUSED = "debit_refused"


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

    ``secret`` is the shop's own per-order secret (WooCommerce ``order_key``,
    pretix ``secret``, PrestaShop ``secure_key``) for connectors whose
    ownership is :attr:`~bluepaid_plugins.connector.Ownership.SHOP_SECRET`:
    the hub compares it, in constant time, with the proof in the pay URL. It
    is never shown, logged or handed to other plugins.
    """

    ref: str
    total: Money
    status: OrderStatus = OrderStatus.OPEN
    customer: Customer = field(default_factory=Customer)
    items: tuple[LineItem, ...] = ()
    description: str = ""
    language: str = ""
    schedule: Schedule | None = None
    secret: str = field(default="", repr=False)

    @property
    def payable(self) -> bool:
        return self.status.payable


@dataclass(frozen=True)
class PaymentEvent:
    """A state change of a payment, handed to connectors and event hooks.

    Everything :meth:`~bluepaid_plugins.connector.Connector.apply_event` needs:

    - ``id``: stable for this event, the same on every retry; use it as the
      idempotency key of shop APIs that take one;
    - ``payment_id``: the hub's payment (one order may have several);
    - ``amount``: this event's amount (the debit paid, the refund made);
    - ``paid_total`` and ``refunded_total``: running totals of the payment
      after this event (every debit of a subscription counts);
    - ``id_trans``: the platform's transaction number of this event;
    - ``test``: paid with a test card;
    - ``debit`` and ``num_abo``: for a subscription, the 1-based number of the
      debit this event is about and the platform's subscription number; None
      and empty for single payments.
    """

    id: str
    payment_id: str
    kind: EventKind
    order_ref: str
    amount: Money
    paid_total: Money
    refunded_total: Money
    id_trans: str
    occurred_at: datetime
    test: bool = False
    num_abo: str = ""
    debit: int | None = None

    @property
    def status_event(self) -> StatusEvent | None:
        """The key of this event in a status mapping; None for ``pending`` and the events
        of money not owed (``overcharged``, ``overcharge_refunded``)."""
        if self.kind in (EventKind.PENDING, EventKind.OVERCHARGED, EventKind.OVERCHARGE_REFUNDED):
            return None
        if self.debit is not None and self.debit > 1:
            if self.kind is EventKind.PAID:
                return StatusEvent.DEBIT_PAID
            if self.kind is EventKind.REFUSED:
                return StatusEvent.DEBIT_REFUSED
        return StatusEvent(self.kind.value)

    @property
    def note(self) -> str:
        """A one-line note for the shop's order history, carrying ``id_trans``."""
        test = " (TEST)" if self.test else ""
        debit = f" (debit {self.debit}, subscription {self.num_abo})" if self.debit else ""
        text = f"Bluepaid: {self.kind.value} {self.amount} {self.amount.currency}{test}{debit}"
        return f"{text}, transaction {self.id_trans}"


@dataclass(frozen=True)
class ShopView:
    """A read-only view of a shop for hooks: never carries its secrets.

    ``language`` is the shop's own language as a protocol code (``FR``), the last
    choice of a page for a buyer whose order and browser say nothing it speaks,
    and the language of the merchant's mails. ``notify_email`` (contract 1.2) is
    where the merchant wants notices of its payments ("" for none).
    """

    slug: str
    id_boutique: str
    name: str
    connector: str
    test_mode: bool
    language: str = ""
    notify_email: str = ""


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
