"""Reconciliation: payments left pending expire; shop orders that disagree with
the hub's payment are found, and can be fixed by telling the shop again.

``bluepaid reconcile`` runs both; the outbox worker runs the expiry
(:func:`expire_stale`) every :data:`EXPIRE_EVERY`, as it makes no shop call.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from bluepaid_plugins.domain import EventKind
from bluepaid_plugins.errors import BluepaidError, NotFound
from hub.context import Hub
from hub.effects import event_of
from hub.models import AuditEntry, Payment, PaymentEventRow, PaymentState, Shop
from hub.tasks import APPLY_EVENT, enqueue, event_payload

log = logging.getLogger(__name__)

#: A payment still created or pending after this long expires (``--older-than``).
PENDING_MAX_AGE = timedelta(hours=24)
EXPIRE_EVERY = timedelta(minutes=10)
#: How far back the shop orders of paid payments are compared.
CHECK_WINDOW = timedelta(days=7)


def expire_stale(hub: Hub, older_than: timedelta = PENDING_MAX_AGE) -> list[str]:
    """Cancel, flagged ``expired``, the payments still created or pending after
    ``older_than``; return their ids. No effect is sent: the order stays payable
    (a new pay link starts a new payment) and a late confirmation still applies
    (an ``ok`` moves a cancelled payment to paid)."""
    now = hub.clock()
    expired: list[str] = []
    with hub.db.transaction() as session:
        stale = session.scalars(
            select(Payment)
            .where(
                Payment.state.in_([PaymentState.CREATED.value, PaymentState.PENDING.value]),
                Payment.created_at < now - older_than,
            )
            .with_for_update(skip_locked=True)
        ).all()
        for payment in stale:
            session.add(
                PaymentEventRow(
                    public_id=f"ev_{secrets.token_hex(12)}",
                    payment_id=payment.id,
                    dedupe_key="expired",
                    kind="expired",
                    from_state=payment.state,
                    to_state=PaymentState.CANCELLED.value,
                    detail=f"no confirmation after {older_than}: expired by reconciliation",
                    created_at=now,
                )
            )
            payment.state = PaymentState.CANCELLED.value
            payment.flag("expired")
            payment.updated_at = now
            expired.append(payment.public_id)
    if expired:
        log.info("reconciliation: %d payment(s) expired", len(expired))
    return expired


@dataclass(frozen=True)
class Disagreement:
    """A paid payment whose shop order does not say paid."""

    shop: str
    shop_id: int
    payment: str
    order_ref: str
    hub_state: str
    shop_status: str


def disagreements(hub: Hub, shop_ids: Collection[int] | None = None) -> list[Disagreement]:
    """Ask each shop for the orders of the payments paid in :data:`CHECK_WINDOW`
    (live and test) and list those the shop does not hold as paid. A shop that
    cannot answer is logged and skipped."""
    since = hub.clock() - CHECK_WINDOW
    query = (
        select(Payment, Shop)
        .join(Shop, Payment.shop_id == Shop.id)
        .where(Payment.state == PaymentState.PAID.value, Payment.updated_at >= since)
        .order_by(Payment.id)
    )
    if shop_ids is not None:
        query = query.where(Payment.shop_id.in_(list(shop_ids)))
    with hub.db.transaction() as session:
        found = session.execute(query).all()
        session.expunge_all()
    result: list[Disagreement] = []
    for payment, shop in found:
        try:
            with hub.connector(shop) as connector:
                order = connector.fetch_order(payment.order_ref)
        except (BluepaidError, OSError) as exc:
            log.warning(
                "reconciliation: order %s of shop %s unreadable: %s", payment.order_ref, shop.slug, exc
            )
            continue
        if not order.status.paid:
            result.append(
                Disagreement(
                    shop.slug,
                    shop.id,
                    payment.public_id,
                    payment.order_ref,
                    payment.state,
                    order.status.value,
                )
            )
    return result


def fix(hub: Hub, shop_ids: Collection[int], public_id: str, actor: str) -> None:
    """Tell the shop again that the payment is paid (a new ``apply_event`` task of
    its paid event, delivered by the worker); recorded."""
    now = hub.clock()
    with hub.db.transaction() as session:
        found = session.execute(
            select(Payment, Shop)
            .join(Shop, Payment.shop_id == Shop.id)
            .where(Payment.public_id == public_id, Payment.shop_id.in_(list(shop_ids)))
        ).first()
        if found is None:
            raise NotFound(f"no payment {public_id!r}")
        payment, shop = found
        row = session.scalar(
            select(PaymentEventRow)
            .where(PaymentEventRow.payment_id == payment.id, PaymentEventRow.kind == EventKind.PAID.value)
            .order_by(PaymentEventRow.id)
            .limit(1)
        )
        if row is None:
            raise NotFound(f"payment {public_id} has no paid event")
        event = event_of(row, payment, EventKind.PAID, test="test" in payment.flags)
        enqueue(session, APPLY_EVENT, event_payload(event), shop, payment, now)
        session.add(
            AuditEntry(
                shop_id=shop.id,
                payment_id=payment.id,
                actor=actor,
                action="reconcile_fix",
                detail="the shop is told again that the order is paid",
                at=now,
            )
        )
