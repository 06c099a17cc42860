"""What an applied confirmation leaves behind, in the caller's transaction: its
row in the payment's event log, the event connectors and plugins are told, and
the outbox tasks that carry it.

Money the buyer did not owe (the same payment charged twice, a subscription
debit after its end, a second payment of an order already paid) goes through
one door, :func:`tell_overcharged`: flagged, logged, told to the plugins and the
merchant as an ``overcharged`` event to refund, never to the shop's order.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bluepaid_plugins.connector import Capability
from bluepaid_plugins.domain import EventKind, PaymentEvent
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation
from hub import merchant_mail
from hub.context import Hub
from hub.models import Payment, PaymentEventRow, PaymentState, Shop
from hub.tasks import APPLY_EVENT, EVENT_HOOKS, enqueue, event_payload

log = logging.getLogger(__name__)


def event_row(
    payment: Payment,
    inbox_id: int,
    key: str,
    kind: EventKind,
    from_state: PaymentState | str,
    to_state: PaymentState | str,
    conf: Confirmation,
    detail: str,
    now: datetime,
    *,
    debit: int | None = None,
) -> PaymentEventRow:
    """A new row of ``payment``'s event log for ``conf``; the caller adds it."""
    return PaymentEventRow(
        public_id=f"ev_{secrets.token_hex(12)}",
        payment_id=payment.id,
        inbox_id=inbox_id,
        dedupe_key=key,
        kind=kind.value,
        from_state=str(from_state),
        to_state=str(to_state),
        id_trans=conf.id_trans,
        amount_minor=conf.amount.minor,
        detail=detail,
        parked=False,
        debit=debit,
        created_at=now,
    )


def event_of(
    row: PaymentEventRow,
    payment: Payment,
    kind: EventKind,
    *,
    test: bool,
    num_abo: str = "",
) -> PaymentEvent:
    """The event connectors and hooks get for ``row``, with the payment's totals after it."""
    return PaymentEvent(
        id=row.public_id,
        payment_id=payment.public_id,
        kind=kind,
        order_ref=payment.order_ref,
        amount=Money.from_minor(row.amount_minor, payment.currency),
        paid_total=payment.paid,
        refunded_total=payment.refunded,
        id_trans=row.id_trans,
        occurred_at=row.created_at,
        test=test,
        num_abo=num_abo if row.debit else "",
        debit=row.debit,
    )


def enqueue_effects(
    hub: Hub, session: Session, shop: Shop, payment: Payment, event: PaymentEvent, *, to_shop: bool = True
) -> None:
    """The outbox tasks of one event, in the caller's transaction. ``to_shop``: the
    connector is told too (not for money the shop's order never owed)."""
    planned, by_hand = planned_tasks(hub, shop.connector, shop.notify_email, event, to_shop=to_shop)
    for kind, payload in planned:
        enqueue(session, kind, payload, shop, payment, event.occurred_at)
    if by_hand:
        # The money moved on the platform; the shop must be told by hand.
        payment.flag("refund_not_applied")
        log.warning(
            "connector %s cannot take %s events: refund order %s of shop %s in the shop by hand",
            shop.connector,
            event.kind.value,
            payment.order_ref,
            shop.slug,
        )


def planned_tasks(
    hub: Hub, connector: str, notify_email: str, event: PaymentEvent, *, to_shop: bool = True
) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
    """The outbox tasks (kind, payload) of one event for a shop with this
    ``connector`` and ``notify_email``, in the order they are written; and whether
    the shop must be told by hand instead (its connector cannot take the event).
    Pure: every writer of outbox rows (:mod:`hub.hotpath` too) plans with it."""
    payload = event_payload(event)
    tasks: list[tuple[str, dict[str, Any]]] = []
    takes = to_shop and _connector_takes(hub, connector, event)
    if takes:
        tasks.append((APPLY_EVENT, payload))
    # One task per plugin: a failing plugin is retried alone, the others run once.
    for plugin in hub.plugins.implementers("bluepaid_payment_event"):
        if plugin == merchant_mail.NAME and not merchant_mail.wanted(notify_email, hub.config.smtp_host):
            continue  # a mail nobody would send: no task that does nothing
        tasks.append((EVENT_HOOKS, {**payload, "plugin": plugin}))
    return tasks, to_shop and not takes


def tell_overcharged(
    hub: Hub,
    session: Session,
    shop: Shop,
    payment: Payment,
    row: PaymentEventRow,
    *,
    flag: str,
    detail: str,
    test: bool,
) -> None:
    """Record ``row`` as money the buyer did not owe and tell it, once.

    ``row`` (already in the session) becomes an ``overcharged`` event with
    ``detail`` (what happened, and that it is to refund); ``payment`` gets
    ``flag`` (``charged_twice``, ``debit_after_end`` or ``double_payment``).
    The plugins' ``bluepaid_payment_event`` and the merchant's mail are told;
    the shop's order is not: it owes nothing more. The caller decides the
    payment's state.
    """
    row.kind, row.detail = EventKind.OVERCHARGED.value, detail
    payment.flag(flag)
    payment.updated_at = hub.clock()
    log.warning("payment %s of shop %s: %s", payment.public_id, shop.slug, detail)
    event = event_of(row, payment, EventKind.OVERCHARGED, test=test)
    enqueue_effects(hub, session, shop, payment, event, to_shop=False)


def _connector_takes(hub: Hub, connector: str, event: PaymentEvent) -> bool:
    """Whether the shop's connector declares it can take ``event`` (refunds need a capability)."""
    cls = hub.plugins.connectors.get(connector)
    capabilities = cls.capabilities if cls is not None else frozenset()
    if event.kind is EventKind.REFUNDED:
        return Capability.REFUNDS in capabilities
    if event.kind is EventKind.PARTIALLY_REFUNDED:
        return Capability.PARTIAL_REFUNDS in capabilities
    return True
