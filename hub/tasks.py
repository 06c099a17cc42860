"""What each kind of outbox task does. Each must be safe to run more than once."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluepaid_plugins.domain import EventKind, PaymentEvent, PaymentView
from bluepaid_plugins.errors import NotFound
from bluepaid_plugins.money import Money
from hub import mail, merchant_mail
from hub.context import Hub
from hub.models import OutboxTask, Payment, Shop, TaskState
from hub.plugins import guarded

log = logging.getLogger(__name__)

APPLY_EVENT = "apply_event"
EVENT_HOOKS = "event_hooks"
#: The merchant's mail as a task kind of its own, as hubs before the built-in
#: :mod:`hub.merchant_mail` plugin wrote it: such tasks still in an outbox run
#: that plugin; none is written any more.
MAIL_MERCHANT = "mail_merchant"


def enqueue(
    session: Session, kind: str, payload: dict[str, Any], shop: Shop, payment: Payment | None, now: datetime
) -> OutboxTask:
    """Add a task in the caller's transaction; it is due at once."""
    task = OutboxTask(
        kind=kind,
        payload=payload,
        shop_id=shop.id,
        payment_id=payment.id if payment else None,
        state=TaskState.PENDING.value,
        attempts=0,
        created_at=now,
        retry_from=now,
        next_attempt_at=now,
        last_error="",
    )
    session.add(task)
    return task


def event_payload(event: PaymentEvent) -> dict[str, Any]:
    """A JSON form of ``event`` for a task's payload."""
    return {
        "id": event.id,
        "payment": event.payment_id,
        "kind": event.kind.value,
        "order_ref": event.order_ref,
        "amount": str(event.amount),
        "paid_total": str(event.paid_total),
        "refunded_total": str(event.refunded_total),
        "currency": event.amount.currency,
        "id_trans": event.id_trans,
        "occurred_at": event.occurred_at.isoformat(),
        "test": event.test,
        "num_abo": event.num_abo,
        "debit": event.debit,
    }


def event_from_payload(payload: dict[str, Any], task_id: int, paid: Money | None = None) -> PaymentEvent:
    """The event of a task's payload. Tasks written before events had an id get a
    stable one from their own: the same on every retry; before they had a paid
    total, a refund or a refusal gets ``paid``, what the payment took in all."""
    currency = payload["currency"]
    amount = Money.parse(payload["amount"], currency)
    kind = EventKind(payload["kind"])
    legacy_paid = amount if kind is EventKind.PAID else paid or Money.from_minor(0, currency)
    paid_total = Money.parse(payload["paid_total"], currency) if payload.get("paid_total") else legacy_paid
    return PaymentEvent(
        id=payload.get("id") or f"task_{task_id}",
        payment_id=payload["payment"],
        kind=kind,
        order_ref=payload["order_ref"],
        amount=amount,
        paid_total=paid_total,
        refunded_total=Money.parse(payload.get("refunded_total") or "0", currency),
        id_trans=payload["id_trans"],
        occurred_at=datetime.fromisoformat(payload["occurred_at"]),
        test=bool(payload["test"]),
        num_abo=payload.get("num_abo") or "",
        debit=payload.get("debit"),
    )


def payment_view(shop: Shop, payment: Payment) -> PaymentView:
    return PaymentView(
        id=payment.public_id,
        shop=shop.slug,
        order_ref=payment.order_ref,
        state=payment.state,
        amount=payment.amount,
        id_trans=payment.id_trans,
        flags=tuple(payment.flags),
        refunded=payment.refunded,
    )


def run_task(hub: Hub, task_id: int, kind: str, payload: dict[str, Any], shop_id: int) -> None:
    """Carry out one task; raise to have it retried (or dead, for permanent errors
    and plugins' bugs)."""
    with hub.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            raise NotFound(f"shop {shop_id} no longer exists")
        payment = session.scalar(select(Payment).where(Payment.public_id == payload["payment"]))
        if payment is None:
            raise NotFound(f"payment {payload['payment']} no longer exists")
        session.expunge_all()
    event = event_from_payload(payload, task_id, paid=payment.paid)
    if kind == APPLY_EVENT:
        with hub.connector(shop) as connector, guarded(hub.plugins.owner(shop.connector), "apply_event"):
            connector.apply_event(event)
    elif kind == EVENT_HOOKS:
        run_event_hook(hub, payload["plugin"], shop, payment, event)
    elif kind == MAIL_MERCHANT:
        run_event_hook(hub, merchant_mail.NAME, shop, payment, event)
    else:
        raise NotFound(f"unknown outbox task kind {kind!r}")


def run_event_hook(hub: Hub, plugin: str, shop: Shop, payment: Payment, event: PaymentEvent) -> None:
    """Call one plugin's ``bluepaid_payment_event``; a plugin since removed is skipped."""
    if plugin not in hub.plugins.implementers("bluepaid_payment_event"):
        log.warning("plugin %r no longer implements bluepaid_payment_event; task skipped", plugin)
        return
    with guarded(plugin, "bluepaid_payment_event"):
        hub.plugins.call_one(
            "bluepaid_payment_event",
            plugin,
            shop=hub.shop_view(shop),
            payment=payment_view(shop, payment),
            event=event,
            mail=mail.mailer(hub.config),
        )
