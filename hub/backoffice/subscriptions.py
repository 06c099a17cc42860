"""Subscriptions in the back office, and the buyer's cancel link.

The platform took no orders from the shop (Bluepaid had no API): ending or
deleting a subscription here records it in the hub, stops it in the lists and
tells the merchant to stop it in the platform's merchant area too. The buyer's
cancel link is signed, expires after :data:`CANCEL_VALID` and works once: a
subscription already ended is left as it is, and the page says so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select

from bluepaid_plugins.errors import NotFound
from bluepaid_plugins.money import Money
from hub.backoffice.tokens import sign, verify
from hub.context import Hub
from hub.models import AuditEntry, Payment, Shop, Subscription

CANCEL_VALID = timedelta(days=30)
_CANCEL_SALT = "bluepaid subscription cancel link"
BUYER = "buyer"


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    shop: str
    shop_id: int
    payment: str
    order_ref: str
    num_abo: str
    amount: Money
    debits_done: int
    occurrences: int
    every: str
    next_debit: int | None
    state: str  # running, finished (the platform's end), ended (in the hub)
    ended_by: str
    ended_at: datetime | None


def _row(sub: Subscription, payment: Payment, shop: Shop) -> SubscriptionRow:
    if sub.ended_at is not None:
        state = "ended"
    elif sub.finished or sub.debits_done >= sub.occurrences:
        state = "finished"
    else:
        state = "running"
    return SubscriptionRow(
        id=sub.id,
        shop=shop.slug,
        shop_id=shop.id,
        payment=payment.public_id,
        order_ref=payment.order_ref,
        num_abo=sub.num_abo,
        amount=Money.from_minor(sub.amount_minor, sub.currency),
        debits_done=sub.debits_done,
        occurrences=sub.occurrences,
        every=f"{sub.period_count} {sub.period_type}",
        next_debit=sub.debits_done + 1 if state == "running" else None,
        state=state,
        ended_by=sub.ended_by,
        ended_at=sub.ended_at,
    )


def _query(shop_ids: Collection[int]) -> Select[Subscription, Payment, Shop]:
    return (
        select(Subscription, Payment, Shop)
        .join(Payment, Subscription.payment_id == Payment.id)
        .join(Shop, Subscription.shop_id == Shop.id)
        .where(Subscription.shop_id.in_(list(shop_ids)), Subscription.deleted_at.is_(None))
    )


def list_subscriptions(hub: Hub, shop_ids: Collection[int]) -> list[SubscriptionRow]:
    with hub.db.transaction() as session:
        return [_row(*found) for found in session.execute(_query(shop_ids).order_by(Subscription.id.desc()))]


def get(hub: Hub, shop_ids: Collection[int], subscription_id: int) -> SubscriptionRow:
    with hub.db.transaction() as session:
        found = session.execute(_query(shop_ids).where(Subscription.id == subscription_id)).first()
        if found is None:
            raise NotFound(f"no subscription {subscription_id}")
        return _row(*found)


def end(hub: Hub, shop_ids: Collection[int], subscription_id: int, actor: str) -> bool:
    """Set the subscription "fini"; False (nothing changed) when it had already ended."""
    now = hub.clock()
    with hub.db.transaction() as session:
        found = session.execute(
            _query(shop_ids).where(Subscription.id == subscription_id).with_for_update()
        ).first()
        if found is None:
            raise NotFound(f"no subscription {subscription_id}")
        sub, payment, shop = found
        if sub.ended_at is not None:
            return False
        sub.ended_at, sub.ended_by = now, actor
        session.add(
            AuditEntry(shop_id=shop.id, payment_id=payment.id, actor=actor, action="end_subscription", at=now)
        )
        return True


def delete(hub: Hub, shop_ids: Collection[int], subscription_id: int, actor: str) -> None:
    """Delete the subscription from the lists (ended first, if it was running); its
    payment and debits stay for the statements."""
    end(hub, shop_ids, subscription_id, actor)
    now = hub.clock()
    with hub.db.transaction() as session:
        sub = session.get(Subscription, subscription_id, with_for_update=True)
        assert sub is not None
        sub.deleted_at = now
        session.add(
            AuditEntry(
                shop_id=sub.shop_id,
                payment_id=sub.payment_id,
                actor=actor,
                action="delete_subscription",
                at=now,
            )
        )


def cancel_token(hub: Hub, subscription_id: int) -> str:
    """The token of the buyer's cancel link (``/subscriptions/cancel/<token>``)."""
    return sign(hub, _CANCEL_SALT, {"sub": subscription_id}, CANCEL_VALID)


def subscription_of_token(hub: Hub, token: str) -> SubscriptionRow:
    """The subscription a cancel link names; NotFound for a forged or expired link."""
    data = verify(hub, _CANCEL_SALT, token)
    if data is None:
        raise NotFound("this cancel link is invalid or has expired")
    with hub.db.transaction() as session:
        found = session.execute(
            select(Subscription, Payment, Shop)
            .join(Payment, Subscription.payment_id == Payment.id)
            .join(Shop, Subscription.shop_id == Shop.id)
            .where(Subscription.id == int(data["sub"]))
        ).first()
        if found is None:
            raise NotFound("this cancel link is invalid or has expired")
        return _row(*found)


def cancel_by_buyer(hub: Hub, token: str) -> bool:
    """Cancel the link's subscription; False when it had already ended (nothing changes)."""
    sub = subscription_of_token(hub, token)
    return end(hub, [sub.shop_id], sub.id, BUYER)
