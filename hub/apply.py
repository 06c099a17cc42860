"""Applying an authentic confirmation to its payment, once.

:mod:`hub.inbox` stores a request and authenticates it (shop, token, source,
``divers``); :func:`apply_confirmation` then decides what the message does to
its payment, in the caller's transaction: a duplicate changes nothing; the
amount, currency and test checks may refuse it; a later debit of a
subscription is counted; a refund that arrives before its payment waits
(parked) until the payment is confirmed, so messages about one payment reach
the same end whatever their order; money taken twice, or after a subscription
ended, is flagged and told to the merchant. Every move writes its event row and
its outbox tasks with it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluepaid_plugins.connector import Capability
from bluepaid_plugins.domain import EventKind, PaymentEvent
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, Etat, Mode
from hub.context import Hub
from hub.models import (
    PAID_STATES,
    InboxMessage,
    Payment,
    PaymentEventRow,
    PaymentState,
    Shop,
    Subscription,
    Verdict,
)
from hub.states import EVENT_OF, decide, decide_refund
from hub.tasks import APPLY_EVENT, EVENT_HOOKS, MAIL_MERCHANT, enqueue, event_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """The verdict on one confirmation request and the HTTP status to answer."""

    inbox_id: int
    verdict: Verdict
    reason: str
    status: int = 200


def finish(hub: Hub, row: InboxMessage, verdict: Verdict, reason: str, status: int = 200) -> Result:
    """Write ``verdict`` on the inbox row and say what to answer."""
    row.verdict, row.reason, row.processed_at = verdict.value, reason, hub.clock()
    return Result(row.id, verdict, reason, status)


def dedupe_key(conf: Confirmation) -> str:
    """Identity of a platform message: the same key twice is the same message."""
    parts = [
        conf.id_trans,
        conf.etat.value,
        conf.mode.value,
        str(conf.amount.minor),
        conf.amount.currency,
        str(conf.num_prochaine_presentation or ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def apply_confirmation(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    siblings: list[Payment],
    conf: Confirmation,
) -> Result:
    """Apply an authentic confirmation to ``payment``; ``siblings`` are all the
    payments of its order (``payment`` included), locked by the caller."""
    key = dedupe_key(conf)
    seen = session.scalar(
        select(PaymentEventRow.id).where(
            PaymentEventRow.payment_id == payment.id, PaymentEventRow.dedupe_key == key
        )
    )
    if seen is not None:
        return finish(hub, row, Verdict.DUPLICATE, f"same message as event {seen}")
    subscription = _subscription_of(session, payment) if conf.num_abo else None
    # A debit after the first one: the payment is paid, the subscription goes on.
    renewal = subscription is not None and conf.mode is not Mode.REFUND and payment.state in PAID_STATES
    refusal = _refusal(hub, row, shop, payment, subscription if renewal else None, conf)
    if refusal is not None:
        return refusal
    if subscription is not None and subscription.num_abo and subscription.num_abo != conf.num_abo:
        return finish(hub, row, Verdict.REJECTED, f"num_abo {conf.num_abo!r} is not this payment's", 403)
    if renewal and subscription is not None:
        return _renewal(hub, session, row, shop, payment, subscription, conf, key)
    if conf.mode is not Mode.REFUND and conf.etat is Etat.OK and payment.state in PAID_STATES:
        return _overcharged(hub, session, row, shop, payment, conf, key, "charged_twice")
    return _move(hub, session, row, shop, payment, siblings, subscription, conf, key)


def _refusal(
    hub: Hub,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    renewing: Subscription | None,
    conf: Confirmation,
) -> Result | None:
    """The checks that refuse an authentic message before it moves anything."""
    if conf.amount.currency != payment.currency:
        payment.flag("amount_mismatch")
        reason = f"devise {conf.amount.currency} but the payment is in {payment.currency}"
        return finish(hub, row, Verdict.AMOUNT_MISMATCH, reason)
    expected = renewing.amount_minor if renewing is not None else payment.amount_minor
    if conf.mode is not Mode.REFUND and conf.amount.minor != expected:
        payment.flag("amount_mismatch")
        wanted = Money.from_minor(expected, payment.currency)
        return finish(hub, row, Verdict.AMOUNT_MISMATCH, f"montant {conf.amount} but the debit is {wanted}")
    if conf.mode is Mode.TEST and not (shop.test_mode and shop.accept_test):
        payment.flag("test_refused")
        why = (
            "a live shop: a test payment never marks a live order paid"
            if not shop.test_mode
            else "a shop that refuses test payments"
        )
        return finish(hub, row, Verdict.TEST_REFUSED, f"test payment on {why}")
    if conf.mode is not Mode.REFUND and conf.etat is Etat.OK and "superseded" in payment.flags:
        # The order's amount changed since this payment was started (an old tab).
        payment.flag("amount_mismatch")
        reason = "payment superseded by a newer one for the order's new amount"
        return finish(hub, row, Verdict.AMOUNT_MISMATCH, reason)
    return None


def _move(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    siblings: list[Payment],
    subscription: Subscription | None,
    conf: Confirmation,
    key: str,
) -> Result:
    """Move the payment through the state machine (or record why it does not move)."""
    now = hub.clock()
    state = PaymentState(payment.state)
    if (
        conf.mode is Mode.REFUND
        and conf.etat is Etat.OK
        and conf.amount.minor
        and state.value not in PAID_STATES
    ):
        # The refund overtook its payment's confirmation: it waits for it.
        waiting = _event_row(
            payment, row.id, key, EventKind.REFUNDED, state, state, conf, "waits for the payment", now
        )
        waiting.parked = True
        session.add(waiting)
        session.flush()  # the unique (payment, dedupe_key) constraint speaks here
        return finish(
            hub, row, Verdict.PARKED, f"refund of {conf.amount} waits for the payment's confirmation"
        )
    move = decide(state, payment.paid_minor, payment.refunded_minor, conf)
    if move.over_refund:
        payment.flag("amount_mismatch")
        reason = f"refund of {conf.amount} exceeds what remains of {payment.paid}"
        return finish(hub, row, Verdict.AMOUNT_MISMATCH, reason)
    event_row = _event_row(
        payment, row.id, key, move.kind, state, move.to_state, conf, move.stale_reason, now
    )
    session.add(event_row)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    if not move.moves:
        return finish(hub, row, Verdict.STALE, move.stale_reason)

    becomes_paid = move.to_state is PaymentState.PAID
    if becomes_paid and any(p.state in PAID_STATES for p in siblings if p is not payment):
        payment.flag("double_payment")
        log.warning("order %s of shop %s is paid twice: refund one payment", payment.order_ref, shop.slug)
    if becomes_paid:
        payment.paid_minor = payment.amount_minor
        if "order_closed" in payment.flags:
            log.warning(
                "order %s of shop %s was closed by the shop, then paid: refund it",
                payment.order_ref,
                shop.slug,
            )
    payment.state = move.to_state.value
    payment.refunded_minor = move.refunded_minor
    payment.updated_at = now
    if conf.mode is Mode.TEST:
        payment.flag("test")
    if conf.mode is not Mode.REFUND:
        payment.id_trans = conf.id_trans
    debit = None
    if subscription is not None and conf.mode is not Mode.REFUND:
        subscription.num_abo = conf.num_abo
        subscription.finished = conf.fini
        debit = 1
        if becomes_paid:
            subscription.debits_done = 1
    _enqueue_effects(hub, session, shop, payment, _event(event_row, payment, move.kind, conf, debit))
    if becomes_paid:
        _unpark_refunds(hub, session, shop, payment)
    return finish(hub, row, Verdict.ACCEPTED, f"{state.value} -> {move.to_state.value}")


def _unpark_refunds(hub: Hub, session: Session, shop: Shop, payment: Payment) -> None:
    """Apply, in their order of arrival, the refunds that came before the payment was paid."""
    parked = session.scalars(
        select(PaymentEventRow)
        .where(PaymentEventRow.payment_id == payment.id, PaymentEventRow.parked.is_(True))
        .order_by(PaymentEventRow.id)
    ).all()
    for event_row in parked:
        event_row.parked = False
        amount = Money.from_minor(event_row.amount_minor, payment.currency)
        move = decide_refund(PaymentState(payment.state), payment.paid_minor, payment.refunded_minor, amount)
        inbox_row = session.get(InboxMessage, event_row.inbox_id) if event_row.inbox_id else None
        if move.over_refund:
            payment.flag("amount_mismatch")
            event_row.detail = f"refund of {amount} exceeds what remains of {payment.paid}"
            if inbox_row is not None:
                finish(hub, inbox_row, Verdict.AMOUNT_MISMATCH, event_row.detail)
            continue
        event_row.from_state, event_row.to_state = payment.state, move.to_state.value
        event_row.kind, event_row.detail = move.kind.value, "applied once the payment was confirmed"
        payment.state, payment.refunded_minor = move.to_state.value, move.refunded_minor
        if inbox_row is not None:
            finish(hub, inbox_row, Verdict.ACCEPTED, f"parked refund applied: -> {move.to_state.value}")
        event = _event_of(event_row, payment, move.kind, amount, test="test" in payment.flags)
        _enqueue_effects(hub, session, shop, payment, event)


def _overcharged(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    conf: Confirmation,
    key: str,
    flag: str,
) -> Result:
    """Money the buyer did not owe: the same payment accepted again under another
    transaction, or a subscription debit after the subscription ended. Kept,
    flagged, told to the merchant (to refund); the shop's order does not move."""
    now = hub.clock()
    what = "charged twice" if flag == "charged_twice" else "debit after the subscription ended"
    detail = f"{what}: transaction {conf.id_trans} after {payment.id_trans or 'none'}; refund it"
    state = payment.state
    event_row = _event_row(payment, row.id, key, EventKind.OVERCHARGED, state, state, conf, detail, now)
    session.add(event_row)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    payment.flag(flag)
    payment.updated_at = now
    log.warning("payment %s of shop %s: %s", payment.public_id, shop.slug, detail)
    event = _event(event_row, payment, EventKind.OVERCHARGED, conf, None)
    _enqueue_effects(hub, session, shop, payment, event, to_shop=False)
    return finish(hub, row, Verdict.OVERCHARGED, detail)


def _renewal(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    subscription: Subscription,
    conf: Confirmation,
    key: str,
) -> Result:
    """A debit after the first: logged against the payment, counted on the
    subscription, told to the shop when accepted or refused. The payment's own
    state does not move: it stays the paid first debit. A debit after the end
    (``fini=oui`` seen, or every occurrence already taken) is refused and flagged."""
    if subscription.finished or subscription.debits_done >= subscription.occurrences:
        if conf.etat is Etat.OK:
            return _overcharged(hub, session, row, shop, payment, conf, key, "debit_after_end")
        payment.flag("debit_after_end")
        return finish(hub, row, Verdict.STALE, f"debit {conf.etat.value} after the subscription ended")
    debit = subscription.debits_done + 1
    kind = EVENT_OF[conf.etat]
    detail = f"subscription {conf.num_abo}: debit {debit}"
    event_row = _event_row(
        payment, row.id, key, kind, payment.state, payment.state, conf, detail, hub.clock()
    )
    session.add(event_row)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    if conf.etat is Etat.OK:
        subscription.debits_done = debit
        payment.paid_minor += conf.amount.minor
    if conf.fini:
        subscription.finished = True
    if conf.etat in (Etat.OK, Etat.KO):
        _enqueue_effects(hub, session, shop, payment, _event(event_row, payment, kind, conf, debit))
    end = ", subscription finished" if conf.fini else ""
    reason = f"debit {debit} of {subscription.occurrences} {kind.value}{end}"
    return finish(hub, row, Verdict.ACCEPTED, reason)


def _event_row(
    payment: Payment,
    inbox_id: int,
    key: str,
    kind: EventKind,
    from_state: PaymentState | str,
    to_state: PaymentState | str,
    conf: Confirmation,
    detail: str,
    now: datetime,
) -> PaymentEventRow:
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
        created_at=now,
    )


def _event(
    event_row: PaymentEventRow, payment: Payment, kind: EventKind, conf: Confirmation, debit: int | None
) -> PaymentEvent:
    """The event connectors and hooks get, with the payment's totals after it."""
    num_abo = conf.num_abo if debit else ""
    return _event_of(
        event_row, payment, kind, conf.amount, test=conf.mode is Mode.TEST, debit=debit, num_abo=num_abo
    )


def _event_of(
    event_row: PaymentEventRow,
    payment: Payment,
    kind: EventKind,
    amount: Money,
    *,
    test: bool,
    debit: int | None = None,
    num_abo: str = "",
) -> PaymentEvent:
    return PaymentEvent(
        id=event_row.public_id,
        payment_id=payment.public_id,
        kind=kind,
        order_ref=payment.order_ref,
        amount=amount,
        paid_total=payment.paid,
        refunded_total=payment.refunded,
        id_trans=event_row.id_trans,
        occurred_at=event_row.created_at,
        test=test,
        num_abo=num_abo,
        debit=debit,
    )


def _enqueue_effects(
    hub: Hub, session: Session, shop: Shop, payment: Payment, event: PaymentEvent, *, to_shop: bool = True
) -> None:
    """The outbox tasks of one event, in the caller's transaction. ``to_shop``: the
    connector is told too (not for money the shop's order never owed)."""
    payload = event_payload(event)
    if to_shop and _connector_takes(hub, shop, event):
        enqueue(session, APPLY_EVENT, payload, shop, payment, event.occurred_at)
    elif to_shop:
        # The money moved on the platform; the shop must be told by hand.
        payment.flag("refund_not_applied")
        log.warning(
            "connector %s cannot take %s events: refund order %s of shop %s in the shop by hand",
            shop.connector,
            event.kind.value,
            payment.order_ref,
            shop.slug,
        )
    # One task per plugin: a failing plugin is retried alone, the others run once.
    for plugin in hub.plugins.implementers("bluepaid_payment_event"):
        enqueue(session, EVENT_HOOKS, {**payload, "plugin": plugin}, shop, payment, event.occurred_at)
    if shop.notify_email and hub.config.smtp_host:
        enqueue(session, MAIL_MERCHANT, payload, shop, payment, event.occurred_at)


def _connector_takes(hub: Hub, shop: Shop, event: PaymentEvent) -> bool:
    """Whether the shop's connector declares it can take ``event`` (refunds need a capability)."""
    cls = hub.plugins.connectors.get(shop.connector)
    capabilities = cls.capabilities if cls is not None else frozenset()
    if event.kind is EventKind.REFUNDED:
        return Capability.REFUNDS in capabilities
    if event.kind is EventKind.PARTIALLY_REFUNDED:
        return Capability.PARTIAL_REFUNDS in capabilities
    return True


def _subscription_of(session: Session, payment: Payment) -> Subscription | None:
    query = select(Subscription).where(Subscription.payment_id == payment.id).with_for_update()
    return session.scalar(query)
