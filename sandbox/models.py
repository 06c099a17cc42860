"""The sandbox platform's tables: accounts, transactions, deliveries, mails,
subscriptions, and its own clock offset.

The sandbox never sees a real card: it accepts only the documented test numbers
and keeps their type and last four digits, nothing more.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bluepaid_plugins.db import UTCDateTime
from bluepaid_plugins.money import Money


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        dict[str, str]: JSON,
        list[str]: JSON,
        datetime: UTCDateTime,
    }


class Mode(StrEnum):
    TEST = "test"
    PRODUCTION = "production"


class Plan(StrEnum):
    START = "START"
    PRO = "PRO"


class TxStatus(StrEnum):
    OPEN = "open"  # the buyer is on the payment page
    PENDING = "pending"  # accepted for processing, outcome later
    ACCEPTED = "accepted"
    REFUSED = "refused"
    ABANDONED = "abandoned"  # "Retour boutique"
    BLOCKED = "blocked"  # referrer check in production, banned country


class TxKind(StrEnum):
    PAYMENT = "payment"
    DEBIT = "debit"  # a subscription debit
    REFUND = "refund"


class DeliveryState(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"  # the shop answered (any status; the answer is kept)
    FAILED = "failed"  # no answer (connection refused, timeout)
    WITHHELD = "withheld"  # the test card's scenario says never deliver


class Account(Base):
    """A merchant account on the sandbox platform."""

    __tablename__ = "sandbox_accounts"

    id_boutique: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16), default=Mode.TEST.value)
    referrer_url: Mapped[str] = mapped_column(String(512), default="")
    url_retour_ok: Mapped[str] = mapped_column(String(512), default="")
    url_retour_stop: Mapped[str] = mapped_column(String(512), default="")
    url_confirmation: Mapped[str] = mapped_column(String(512), default="")
    banned_countries: Mapped[list[str]] = mapped_column(default=list)
    buyer_form: Mapped[bool] = mapped_column(Boolean, default=False)
    plan: Mapped[str] = mapped_column(String(8), default=Plan.START.value)
    merchant_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime]


class Transaction(Base):
    """One payment, subscription debit or refund, from request to outcome."""

    __tablename__ = "sandbox_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_trans: Mapped[str] = mapped_column(String(32), unique=True)
    page_token: Mapped[str] = mapped_column(String(64), unique=True)
    id_boutique: Mapped[str] = mapped_column(ForeignKey("sandbox_accounts.id_boutique"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=TxKind.PAYMENT.value)
    status: Mapped[str] = mapped_column(String(16), default=TxStatus.OPEN.value)
    test: Mapped[bool] = mapped_column(Boolean, default=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    langue: Mapped[str] = mapped_column(String(2), default="FR")
    id_client: Mapped[str] = mapped_column(String(64), default="")
    divers: Mapped[str] = mapped_column(String(255), default="")
    email_client: Mapped[str] = mapped_column(String(128), default="")
    url_ok: Mapped[str] = mapped_column(String(600), default="")
    url_stop: Mapped[str] = mapped_column(String(600), default="")
    url_confirm: Mapped[str] = mapped_column(String(600), default="")
    request: Mapped[dict[str, str]] = mapped_column(default=dict)
    referrer: Mapped[str] = mapped_column(String(600), default="")
    referrer_warning: Mapped[bool] = mapped_column(Boolean, default=False)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    card_type: Mapped[str] = mapped_column(String(16), default="")
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    scenario: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    buyer: Mapped[dict[str, str]] = mapped_column(default=dict)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sandbox_transactions.id"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("sandbox_subscriptions.id"))
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class Delivery(Base):
    """One confirmation POST to a shop, scheduled, sent or withheld, with the answer."""

    __tablename__ = "sandbox_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("sandbox_transactions.id"), index=True)
    url: Mapped[str] = mapped_column(String(600))
    fields: Mapped[dict[str, str]] = mapped_column()
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.SCHEDULED.value)
    note: Mapped[str] = mapped_column(String(255), default="")
    answer_status: Mapped[int | None] = mapped_column(Integer)
    answer_body: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]


class Mail(Base):
    """A mail the platform sent (always kept here; also sent by SMTP when configured)."""

    __tablename__ = "sandbox_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("sandbox_transactions.id"))
    kind: Mapped[str] = mapped_column(String(32))
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    smtp_result: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]


class Subscription(Base):
    """A schedule of debits (``ABOv2``)."""

    __tablename__ = "sandbox_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    num_abo: Mapped[str] = mapped_column(String(32), unique=True)
    id_boutique: Mapped[str] = mapped_column(ForeignKey("sandbox_accounts.id_boutique"), index=True)
    request: Mapped[dict[str, str]] = mapped_column(default=dict)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    initial_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    occurrences: Mapped[int] = mapped_column(Integer)
    period_nb: Mapped[int] = mapped_column(Integer, default=1)
    period_type: Mapped[str] = mapped_column(String(1), default="M")
    tolerance_days: Mapped[int] = mapped_column(Integer, default=0)
    tolerance_max: Mapped[int] = mapped_column(Integer, default=0)
    debits_done: Mapped[int] = mapped_column(Integer, default=0)
    representations: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="active")  # active, finished, deleted
    cancel_token: Mapped[str] = mapped_column(String(64), unique=True)
    card_type: Mapped[str] = mapped_column(String(16), default="")
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    scenario: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime]


class ClockState(Base):
    """How far the sandbox clock was advanced (``bluepaid sandbox tick``)."""

    __tablename__ = "sandbox_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_seconds: Mapped[float] = mapped_column(default=0.0)
