"""What each kind of outbox task does. Each must be safe to run more than once."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluepaid_plugins.domain import EventKind, PaymentEvent, PaymentView
from bluepaid_plugins.errors import NotFound
from bluepaid_plugins.money import Money
from hub.context import Hub
from hub.models import OutboxTask, Payment, Shop, TaskState

log = logging.getLogger(__name__)

APPLY_EVENT = "apply_event"
EVENT_HOOKS = "event_hooks"
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


def event_payload(payment: Payment, event: PaymentEvent) -> dict[str, Any]:
    """A JSON form of ``event`` for a task's payload."""
    return {
        "payment": payment.public_id,
        "kind": event.kind.value,
        "order_ref": event.order_ref,
        "amount": str(event.amount),
        "currency": event.amount.currency,
        "id_trans": event.id_trans,
        "occurred_at": event.occurred_at.isoformat(),
        "test": event.test,
        "refunded_total": str(event.refunded_total) if event.refunded_total else None,
        "num_abo": event.num_abo,
        "debit": event.debit,
    }


def event_from_payload(payload: dict[str, Any]) -> PaymentEvent:
    currency = payload["currency"]
    refunded = payload.get("refunded_total")
    return PaymentEvent(
        kind=EventKind(payload["kind"]),
        order_ref=payload["order_ref"],
        amount=Money.parse(payload["amount"], currency),
        id_trans=payload["id_trans"],
        occurred_at=datetime.fromisoformat(payload["occurred_at"]),
        test=bool(payload["test"]),
        refunded_total=Money.parse(refunded, currency) if refunded else None,
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


def run_task(hub: Hub, kind: str, payload: dict[str, Any], shop_id: int) -> None:
    """Carry out one task; raise to have it retried (or dead, for permanent errors)."""
    with hub.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            raise NotFound(f"shop {shop_id} no longer exists")
        payment = session.scalar(select(Payment).where(Payment.public_id == payload["payment"]))
        if payment is None:
            raise NotFound(f"payment {payload['payment']} no longer exists")
        session.expunge_all()
    event = event_from_payload(payload)
    if kind == APPLY_EVENT:
        hub.connector_for(shop).apply_event(event.order_ref, event)
    elif kind == EVENT_HOOKS:
        run_event_hook(hub, payload["plugin"], shop, payment, event)
    elif kind == MAIL_MERCHANT:
        send_merchant_mail(hub, shop, event)
    else:
        raise NotFound(f"unknown outbox task kind {kind!r}")


def run_event_hook(hub: Hub, plugin: str, shop: Shop, payment: Payment, event: PaymentEvent) -> None:
    """Call one plugin's ``bluepaid_payment_event``; a plugin since removed is skipped."""
    for impl in hub.plugins.hook.bluepaid_payment_event.get_hookimpls():
        if impl.plugin_name == plugin:
            impl.function(shop=hub.shop_view(shop), payment=payment_view(shop, payment), event=event)
            return
    log.warning("plugin %r no longer implements bluepaid_payment_event; task skipped", plugin)


def send_merchant_mail(hub: Hub, shop: Shop, event: PaymentEvent) -> None:
    """Tell the merchant about a payment event by e-mail (French and English)."""
    accepted = event.kind is EventKind.PAID
    subject = {
        EventKind.PAID: "REGLEMENT ACCEPTE / payment accepted",
        EventKind.REFUSED: "REGLEMENT REFUSE / payment refused",
    }.get(event.kind, f"Paiement {event.kind.value} / payment {event.kind.value}")
    message = EmailMessage()
    message["From"] = hub.config.mail_from
    message["To"] = shop.notify_email
    message["Subject"] = f"[{shop.name}] {'TEST ' if event.test else ''}{subject} {event.order_ref}"
    lines = [
        "*** TEST ***" if event.test else "",
        f"Commande / order: {event.order_ref}",
        f"Montant / amount: {event.amount} {event.amount.currency}",
        f"Transaction: {event.id_trans}",
        f"Etat / state: {event.kind.value}" + (" ✔" if accepted else ""),
    ]
    message.set_content("\n".join(line for line in lines if line) + "\n")
    with smtplib.SMTP(hub.config.smtp_host, hub.config.smtp_port, timeout=15) as smtp:
        smtp.send_message(message)
