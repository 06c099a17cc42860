"""The JSON API's bodies, as pydantic models: spectree validates requests with
them and writes the OpenAPI document from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_AMOUNT = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
_POSITIVE_AMOUNT = r"^([1-9][0-9]{0,6}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"


class Error(BaseModel):
    error: str = Field(description="a code: unauthorized, not_found, invalid_request...")
    reason: str = Field(description="what went wrong, for a person")


class PaymentQuery(BaseModel):
    state: (
        Literal["created", "pending", "refused", "cancelled", "paid", "partially_refunded", "refunded"] | None
    ) = None
    test: Literal["test", "live"] | None = None
    date_from: date | None = None
    date_to: date | None = None
    amount_min: str | None = Field(default=None, pattern=_AMOUNT, description="e.g. 10 or 12.50")
    amount_max: str | None = Field(default=None, pattern=_AMOUNT, description="e.g. 10 or 12.50")
    q: str | None = Field(default=None, max_length=254, description="id_trans, order reference or e-mail")
    page: int = Field(default=1, ge=1, le=10**6)


class Payment(BaseModel):
    id: str
    shop: str
    order_ref: str
    amount: str = Field(description="major units with a dot, e.g. 36.60")
    currency: str
    state: str
    test: bool
    flags: list[str]
    id_trans: str
    email: str
    created_at: datetime


class PaymentList(BaseModel):
    payments: list[Payment]
    page: int
    pages: int
    total: int


class TimelineEntry(BaseModel):
    at: datetime
    kind: str = Field(description="request, message, event, task or action")
    title: str
    detail: str
    fields: dict[str, str] = Field(description="variables, with secrets masked")
    verdict: str
    source: str = Field(description="a confirmation's source address, or who took an action")


class PaymentDetail(BaseModel):
    payment: Payment
    timeline: list[TimelineEntry]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: str = Field(pattern=_POSITIVE_AMOUNT, description="more than zero, e.g. 12.50")
    currency: Literal["EUR", "CHF", "USD", "GBP", "CAD", "AUD"] = "EUR"
    description: str = Field(default="", max_length=255, pattern=r"^[^\x00-\x1f\x7f]*$")
    email: str = Field(
        default="",
        max_length=128,
        pattern=r"^([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})?$",
        description="the buyer's e-mail (optional)",
    )


class Link(BaseModel):
    ref: str
    amount: str
    currency: str
    description: str
    status: str
    pay_url: str


class Subscription(BaseModel):
    id: int
    payment: str
    order_ref: str
    num_abo: str
    amount: str
    currency: str
    debits_done: int
    occurrences: int
    next_debit: int | None
    state: str = Field(description="running, finished (by the platform) or ended (in the hub)")


class SubscriptionList(BaseModel):
    subscriptions: list[Subscription]


class StatementLine(BaseModel):
    at: datetime
    kind: str = Field(description="payment, refusal or refund")
    order_ref: str
    id_trans: str
    amount: str
    currency: str
    estimated_fee: str


class Statement(BaseModel):
    shop: str
    month: str
    plan: str
    lines: list[StatementLine]
    totals: dict[str, dict[str, str]]
