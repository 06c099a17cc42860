"""The hub's tables (SQLAlchemy 2 typed mappings). Alembic migrations follow them.

Amounts are stored as integers of minor units with their currency: exact, and
compared without rounding. Times are stored in UTC and read back timezone-aware.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bluepaid_plugins.db import UTCDateTime
from bluepaid_plugins.money import Money


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        datetime: UTCDateTime,
    }


class PaymentState(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


#: The states of a payment the buyer may still pay (see the unique index on payments).
OPEN_CONDITION = "state in ('created', 'pending')"

#: States in which the order has been paid (refunds included).
PAID_STATES = frozenset(
    {PaymentState.PAID.value, PaymentState.PARTIALLY_REFUNDED.value, PaymentState.REFUNDED.value}
)


class Verdict(StrEnum):
    """What the hub decided about one confirmation request."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    STALE = "stale"
    REJECTED = "rejected"
    AMOUNT_MISMATCH = "amount_mismatch"
    TEST_REFUSED = "test_refused"
    # A refund that came before its payment was confirmed: applied once it is.
    PARKED = "parked"
    # Money the buyer did not owe (the same payment charged twice, a debit after the end).
    OVERCHARGED = "overcharged"


class TaskState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class Shop(Base):
    """A merchant account on the platform, and how the hub reaches its shop."""

    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    id_boutique: Mapped[str] = mapped_column(String(32))
    secret: Mapped[str] = mapped_column(String(128))
    confirm_token: Mapped[str] = mapped_column(String(64), unique=True)
    test_mode: Mapped[bool] = mapped_column(Boolean, default=True)
    accept_test: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_ips: Mapped[list[str]] = mapped_column(default=list)
    connector: Mapped[str] = mapped_column(String(64))
    connector_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    platform_url: Mapped[str] = mapped_column(String(512))
    redirect_method: Mapped[str] = mapped_column(String(4), default="get")
    # Sending url_retour_bo shows the secret confirmation URL in the buyer's address
    # bar; off by default: the merchant registers the URL on the platform instead.
    send_confirmation_url: Mapped[bool] = mapped_column(Boolean, default=False)
    return_url: Mapped[str] = mapped_column(String(512), default="")
    language: Mapped[str] = mapped_column(String(2), default="FR")
    notify_email: Mapped[str] = mapped_column(String(254), default="")
    # Secret connector settings, as one Fernet token of their JSON (hub/vault.py):
    # never in clear in the database, never shown.
    connector_secrets: Mapped[str] = mapped_column(Text, default="")
    # The merchant's changes to the connector's default status mapping.
    status_mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    webhook_token: Mapped[str] = mapped_column(String(64), unique=True)
    # The HTTP proxy the connector's calls to the shop go through; empty: none, and
    # the proxy variables of the hub's environment are ignored.
    proxy_url: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[datetime]
    # The merchant's Bluepaid offer ("start" or "pro"), for the statements' fee estimates.
    plan: Mapped[str] = mapped_column(String(8), default="start")
    # In production the payment settings are locked; an owner unlocks them until then.
    unlocked_until: Mapped[datetime | None]


class ClosedOrder(Base):
    """An order its shop closed outside the hub (a webhook said cancelled, paid
    elsewhere, deleted): its pay link no longer starts a payment."""

    __tablename__ = "closed_orders"
    __table_args__ = (UniqueConstraint("shop_id", "order_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    order_ref: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime]


class LinkOrder(Base):
    """An order kept by the hub itself: payment links, the payment form (later the cart)."""

    __tablename__ = "link_orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "ref"),
        Index("ix_link_orders_client", "shop_id", "client", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    ref: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    language: Mapped[str] = mapped_column(String(2), default="")
    status: Mapped[str] = mapped_column(String(24), default="open")
    history: Mapped[list[str]] = mapped_column(default=list)
    # A subscription link: occurrences, period_count, period_type, initial_minor, tolerance_*.
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What an order source's page learnt of the buyer beyond the e-mail: first_name,
    # last_name, country (alpha-3), and the details the buyer typed (phone, address...).
    buyer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The lines of a cart's order: [name, quantity, unit price as text].
    lines: Mapped[list[Any] | None] = mapped_column(JSON)
    # A keyed digest of the address an order source's page was sent from, to limit
    # the orders of one client (never the address itself).
    client: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class Payment(Base):
    """One attempt to pay one order: the row the confirmation acts on."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_shop_order", "shop_id", "order_ref"),
        # One open payment per order and amount, whatever the number of buyers' tabs
        # and hub processes starting it at once.
        Index(
            "uq_payments_open",
            "shop_id",
            "order_ref",
            "amount_minor",
            "currency",
            unique=True,
            sqlite_where=text(OPEN_CONDITION),
            postgresql_where=text(OPEN_CONDITION),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    order_ref: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(24), default=PaymentState.CREATED.value)
    flags: Mapped[list[str]] = mapped_column(default=list)
    id_trans: Mapped[str] = mapped_column(String(64), default="")
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the buyer paid in all: the amount once paid, plus each later debit of a subscription.
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    language: Mapped[str] = mapped_column(String(2), default="FR")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The variables last sent to the platform for this payment, secrets masked
    # (hub/redaction.py): what the back office's timeline shows as the request.
    request_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def refunded(self) -> Money:
        return Money.from_minor(self.refunded_minor, self.currency)

    @property
    def paid(self) -> Money:
        return Money.from_minor(self.paid_minor, self.currency)

    def flag(self, name: str) -> None:
        """Add a flag once (a new list, so the JSON column sees the change)."""
        if name not in self.flags:
            self.flags = [*self.flags, name]


class Subscription(Base):
    """A schedule of debits requested through ``ABOv2/in.php``."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    num_abo: Mapped[str] = mapped_column(String(64), default="")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    initial_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    occurrences: Mapped[int] = mapped_column(Integer)
    period_count: Mapped[int] = mapped_column(Integer, default=1)
    period_type: Mapped[str] = mapped_column(String(1), default="M")
    type_abo: Mapped[str] = mapped_column(String(16), default="STANDARD")
    tolerance_days: Mapped[int] = mapped_column(Integer, default=0)
    tolerance_max: Mapped[int] = mapped_column(Integer, default=0)
    # Debits counted (accepted, the first included), whatever their order of arrival.
    debits_done: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    # The number of the last debit, once a confirmation with ``fini=oui`` told it:
    # a debit numbered past it (or past ``occurrences``) is money not owed.
    last_debit: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # Stopped in the hub by the merchant ("fini") or by the buyer's cancel link: when,
    # and who ("buyer", or the back-office user's e-mail). The platform's own end of
    # the schedule is ``finished``.
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str] = mapped_column(String(254), default="")
    # Deleted by the merchant: hidden from the lists, kept for the payments and statements.
    deleted_at: Mapped[datetime | None]


class InboxMessage(Base):
    """Every request that reached a confirmation URL, stored raw before anything else."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_unprocessed", "processed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(512))
    headers: Mapped[dict[str, Any]] = mapped_column()
    body: Mapped[bytes] = mapped_column(LargeBinary)
    remote_addr: Mapped[str] = mapped_column(String(64))
    shop_slug: Mapped[str] = mapped_column(String(64))
    # A digest of the URL's token (hub/redaction.py token_digest), never the token:
    # enough to check the row again after a crash and to tell probes apart.
    url_token_digest: Mapped[str] = mapped_column(String(64))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    processed_at: Mapped[datetime | None]
    verdict: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")


class PaymentEventRow(Base):
    """The per-payment event log. ``dedupe_key`` is unique per payment, so the same
    confirmation can be applied only once, whatever the number of processes."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("payment_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The event's identity for connectors and shop APIs (an idempotency key).
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox.id"))
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    id_trans: Mapped[str] = mapped_column(String(64), default="")
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    # A message waiting for others (see hub/apply.py): a refund for its payment, or
    # for the debit it refunds; a later debit for the first.
    parked: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a subscription, the 1-based number of the debit this event is about.
    debit: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class OutboxTask(Base):
    """An effect to deliver after a commit (update the shop, mail, hooks), with retries."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        # A task waits for the older ones of its payment and kind (Worker._claim).
        Index("ix_outbox_payment_order", "payment_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column()
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    state: Mapped[str] = mapped_column(String(16), default=TaskState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    retry_from: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The traceback of a plugin's own bug, kept for the merchant and the plugin's author.
    detail: Mapped[str] = mapped_column(Text, default="")


class WebhookMessage(Base):
    """Every request that reached a shop's webhook URL, stored raw before anything else."""

    __tablename__ = "webhook_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(16))
    headers: Mapped[dict[str, Any]] = mapped_column()
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # The URL's query string, its values masked (hub.webhooks.kept_query); '' for the
    # rows stored before migration 0012 kept it.
    query: Mapped[str] = mapped_column(Text, default="", server_default="")
    remote_addr: Mapped[str] = mapped_column(String(64))
    shop_slug: Mapped[str] = mapped_column(String(64))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"))
    processed_at: Mapped[datetime | None]
    verdict: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")


class Role(StrEnum):
    """What a back-office user may do in one shop."""

    OWNER = "owner"
    READ_ONLY = "read_only"


class User(Base):
    """A merchant's back-office user; ``password_hash`` is werkzeug's scrypt hash."""

    __tablename__ = "bo_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # The language the user chose for the back office ("" until they choose).
    language: Mapped[str] = mapped_column(String(8), default="")
    created_at: Mapped[datetime]


class Membership(Base):
    """A user's access to one shop, with a role."""

    __tablename__ = "bo_memberships"
    __table_args__ = (UniqueConstraint("user_id", "shop_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("bo_users.id"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    role: Mapped[str] = mapped_column(String(16))


class LoginFailure(Base):
    """A failed login, by e-mail: the rate limit counts the recent ones in the database,
    so every hub process sees the same count."""

    __tablename__ = "bo_login_failures"
    __table_args__ = (Index("ix_bo_login_failures_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class AuditEntry(Base):
    """Something a person did from the back office (or a buyer's cancel link), and who."""

    __tablename__ = "bo_audit"
    __table_args__ = (Index("ix_bo_audit_payment", "payment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class ApiToken(Base):
    """A JSON API token of one shop, kept as its SHA-256 digest (hub/api/tokens.py)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    name: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, to tell tokens apart in a list.
    shown: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AlertMail(Base):
    """An alert already mailed to its shop (hub/backoffice/alert_mail.py): mailed once."""

    __tablename__ = "bo_alert_mails"
    __table_args__ = (UniqueConstraint("shop_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    key: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
