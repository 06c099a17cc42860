"""Reading payments and their event logs, for the CLI (and later the back office)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bluepaid_plugins.errors import NotFound
from bluepaid_plugins.money import Money
from hub.context import Hub
from hub.models import LinkOrder, Payment, PaymentEventRow, Shop, Subscription


def payment_summary(payment: Payment, shop_slug: str) -> dict[str, Any]:
    return {
        "id": payment.public_id,
        "shop": shop_slug,
        "order_ref": payment.order_ref,
        "state": payment.state,
        "flags": list(payment.flags),
        "amount": str(payment.amount),
        "currency": payment.currency,
        "refunded": str(payment.refunded),
        "id_trans": payment.id_trans,
        "created_at": payment.created_at.isoformat(),
        "updated_at": payment.updated_at.isoformat(),
    }


def list_payments(
    hub: Hub, shop: str | None = None, state: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    query = (
        select(Payment, Shop.slug)
        .join(Shop, Payment.shop_id == Shop.id)
        .order_by(Payment.id.desc())
        .limit(limit)
    )
    if shop:
        query = query.where(Shop.slug == shop)
    if state:
        query = query.where(Payment.state == state)
    with hub.db.transaction() as session:
        return [payment_summary(payment, slug) for payment, slug in session.execute(query)]


def show_payment(hub: Hub, payment_id: str) -> dict[str, Any]:
    """One payment with its event log; NotFound if the id is unknown."""
    with hub.db.transaction() as session:
        row = session.execute(
            select(Payment, Shop.slug)
            .join(Shop, Payment.shop_id == Shop.id)
            .where(Payment.public_id == payment_id)
        ).first()
        if row is None:
            raise NotFound(f"no payment {payment_id!r}")
        payment, slug = row
        events = session.scalars(
            select(PaymentEventRow)
            .where(PaymentEventRow.payment_id == payment.id)
            .order_by(PaymentEventRow.id)
        )
        summary = payment_summary(payment, slug)
        summary["events"] = [
            {
                "at": e.created_at.isoformat(),
                "kind": e.kind,
                "from": e.from_state,
                "to": e.to_state,
                "id_trans": e.id_trans,
                "detail": e.detail,
            }
            for e in events
        ]
        kept = session.scalar(
            select(LinkOrder).where(LinkOrder.shop_id == payment.shop_id, LinkOrder.ref == payment.order_ref)
        )
        if kept is not None:
            # An order the hub keeps (a link, the form): what the buyer said, for the merchant.
            summary["order"] = {
                "status": kept.status,
                "description": kept.description,
                "email": kept.email,
                **(kept.buyer or {}),
                **({"lines": kept.lines} if kept.lines else {}),
            }
        subscription = session.scalar(select(Subscription).where(Subscription.payment_id == payment.id))
        if subscription is not None:
            summary["subscription"] = {
                "num_abo": subscription.num_abo,
                "debits_done": subscription.debits_done,
                "occurrences": subscription.occurrences,
                "every": f"{subscription.period_count}{subscription.period_type}",
                "amount": str(Money.from_minor(subscription.amount_minor, subscription.currency)),
                "finished": subscription.finished,
            }
        return summary
