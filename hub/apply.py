"""Applying an authentic confirmation to its payment, once.

:mod:`hub.inbox` stores a request and authenticates it (shop, token, source,
``divers``); :func:`apply_confirmation` then decides what the message does to
its payment, in the caller's transaction: a duplicate changes nothing; the
amount, currency and test checks may refuse it; the first debit (or the only
one) moves the payment through the state machine; a later debit of a
subscription is counted by its number (:mod:`hub.subscriptions`); a refund is
checked against what the payment really took.

Messages about one payment reach the same end whatever their order of
arrival. A message that needs another first waits, **parked**: a refund until
its payment is paid and has taken enough to cover it (while a subscription's
debits may still come), a later debit until the first. After each message the
parked ones are tried again, in their order of arrival, until none moves.
Money the buyer did not owe (the same payment or debit charged twice, a debit
after the subscription ended, a second payment of an order already paid) is
flagged and told to the merchant, not to the shop
(:func:`hub.effects.tell_overcharged`). Every move writes its event row and
its outbox tasks with it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bluepaid_plugins.domain import EventKind
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, Etat, Mode
from hub.context import Hub
from hub.effects import enqueue_effects, event_of, event_row, tell_overcharged
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
from hub.subscriptions import debit_number, more_may_come, note_end, settle_debit, subscription_of

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
    payments of its order (``payment`` included), locked by the caller. Then
    apply the parked messages of ``payment`` that this one let through."""
    key = dedupe_key(conf)
    seen = session.scalar(
        select(PaymentEventRow.id).where(
            PaymentEventRow.payment_id == payment.id, PaymentEventRow.dedupe_key == key
        )
    )
    if seen is not None:
        return finish(hub, row, Verdict.DUPLICATE, f"same message as event {seen}")
    subscription = subscription_of(session, payment)
    number = debit_number(session, payment, subscription, conf)
    later = subscription if number is not None and number > 1 else None
    refusal = _refusal(hub, row, shop, payment, later, conf)
    if refusal is not None:
        return refusal
    if subscription is not None and conf.num_abo and subscription.num_abo not in ("", conf.num_abo):
        return finish(hub, row, Verdict.REJECTED, f"num_abo {conf.num_abo!r} is not this payment's", 403)
    if conf.mode is Mode.REFUND:
        result = _refund(hub, session, row, shop, payment, subscription, conf, key)
    elif later is not None and number is not None:
        result = _later_debit(hub, session, row, shop, payment, later, number, conf, key)
    elif conf.etat is Etat.OK and payment.state in PAID_STATES:
        result = _charged_twice(hub, session, row, shop, payment, number, conf, key)
    else:
        result = _move(hub, session, row, shop, payment, siblings, subscription, number, conf, key)
    _replay_parked(hub, session, shop, payment, subscription)
    return result


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
    number: int | None,
    conf: Confirmation,
    key: str,
) -> Result:
    """Move the payment through the state machine (or record why it does not move).

    ``conf`` is the payment's own confirmation (the first debit of a
    subscription, ``number`` 1). A payment that becomes paid while another
    payment of its order is paid is money not owed: told to the merchant,
    not to the shop, whose order is paid already.
    """
    now = hub.clock()
    state = PaymentState(payment.state)
    move = decide(state, payment.paid_minor, payment.refunded_minor, conf)
    logged = event_row(
        payment, row.id, key, move.kind, state, move.to_state, conf, move.stale_reason, now, debit=number
    )
    session.add(logged)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    if not move.moves:
        return finish(hub, row, Verdict.STALE, move.stale_reason)

    becomes_paid = move.to_state is PaymentState.PAID
    paid_first = next(
        (p for p in siblings if becomes_paid and p is not payment and p.state in PAID_STATES), None
    )
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
    payment.id_trans = conf.id_trans
    if subscription is not None and number is not None:
        subscription.num_abo = subscription.num_abo or conf.num_abo
        note_end(subscription, number, conf)
        if becomes_paid:
            subscription.debits_done += 1
    test = conf.mode is Mode.TEST
    if paid_first is not None:
        detail = (
            f"order {payment.order_ref} paid twice: transaction {conf.id_trans} after payment "
            f"{paid_first.public_id} paid it; refund one"
        )
        tell_overcharged(hub, session, shop, payment, logged, flag="double_payment", detail=detail, test=test)
        return finish(hub, row, Verdict.OVERCHARGED, detail)
    event = event_of(logged, payment, move.kind, test=test, num_abo=conf.num_abo)
    enqueue_effects(hub, session, shop, payment, event)
    return finish(hub, row, Verdict.ACCEPTED, f"{state.value} -> {move.to_state.value}")


def _charged_twice(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    number: int | None,
    conf: Confirmation,
    key: str,
) -> Result:
    """The paid payment (or first debit) accepted again under another transaction:
    kept, flagged, told to the merchant to refund; the shop's order does not move."""
    state = payment.state
    logged = event_row(payment, row.id, key, EventKind.OVERCHARGED, state, state, conf, "", hub.clock())
    logged.debit = number
    session.add(logged)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    detail = f"charged twice: transaction {conf.id_trans} after {payment.id_trans or 'none'}; refund it"
    test = conf.mode is Mode.TEST
    tell_overcharged(hub, session, shop, payment, logged, flag="charged_twice", detail=detail, test=test)
    return finish(hub, row, Verdict.OVERCHARGED, detail)


def _later_debit(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    subscription: Subscription,
    number: int,
    conf: Confirmation,
    key: str,
) -> Result:
    """Debit ``number`` (after the first) of ``subscription``: counted by
    :func:`hub.subscriptions.settle_debit` once the payment is paid, parked until
    then. The end of the schedule it tells (``fini=oui``) is learnt at once."""
    subscription.num_abo = subscription.num_abo or conf.num_abo
    note_end(subscription, number, conf)
    state = payment.state
    logged = event_row(
        payment, row.id, key, EVENT_OF[conf.etat], state, state, conf, "", hub.clock(), debit=number
    )
    session.add(logged)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    if state not in PAID_STATES:
        logged.parked, logged.detail = True, "waits for the first debit"
        return finish(hub, row, Verdict.PARKED, f"debit {number} waits for the first debit's confirmation")
    verdict, reason = settle_debit(
        hub, session, shop, payment, subscription, logged, test=conf.mode is Mode.TEST
    )
    end = ", subscription finished" if conf.fini else ""
    return finish(hub, row, verdict, reason + end)


def _refund(
    hub: Hub,
    session: Session,
    row: InboxMessage,
    shop: Shop,
    payment: Payment,
    subscription: Subscription | None,
    conf: Confirmation,
    key: str,
) -> Result:
    """A refund (``mode=r``): applied by :func:`_settle_refund`, or parked while
    the payment has not taken what it refunds yet."""
    state = PaymentState(payment.state)
    now = hub.clock()
    if conf.etat is not Etat.OK or not conf.amount.minor:
        move = decide(state, payment.paid_minor, payment.refunded_minor, conf)
        session.add(event_row(payment, row.id, key, move.kind, state, state, conf, move.stale_reason, now))
        session.flush()  # the unique (payment, dedupe_key) constraint speaks here
        return finish(hub, row, Verdict.STALE, move.stale_reason)
    logged = event_row(payment, row.id, key, EventKind.REFUNDED, state, state, conf, "", now)
    session.add(logged)
    session.flush()  # the unique (payment, dedupe_key) constraint speaks here
    settled = _settle_refund(hub, session, shop, payment, subscription, logged)
    if settled is not None:
        return finish(hub, row, *settled)
    logged.parked = True
    if state.value in PAID_STATES:
        logged.detail = "waits for the subscription's debits still to come"
    else:
        logged.detail = "waits for the payment"
    return finish(hub, row, Verdict.PARKED, f"refund of {conf.amount} {logged.detail}")


def _settle_refund(
    hub: Hub,
    session: Session,
    shop: Shop,
    payment: Payment,
    subscription: Subscription | None,
    logged: PaymentEventRow,
) -> tuple[Verdict, str] | None:
    """Apply the accepted refund ``logged`` (in the session) to ``payment``.

    None while it must wait: the payment is not paid, or has not taken the
    amount yet and a debit of its subscription may still come. A refund no
    larger than the money not owed still to give back (a second charge, a debit
    after the end) gives it back: ``overcharge_refunded``, the payment and the
    order as they were, the shop not told. A refund beyond
    what the payment took, with nothing more to come, is flagged
    ``amount_mismatch`` and not applied. Otherwise it is told to the shop,
    unless the payment's money never paid the shop's order (``double_payment``).
    Returns the verdict and its reason.
    """
    if payment.state not in PAID_STATES:
        return None
    state = PaymentState(payment.state)
    amount = Money.from_minor(logged.amount_minor, payment.currency)
    if "double_payment" not in payment.flags and 0 < logged.amount_minor <= _not_owed_minor(session, payment):
        # The refund the merchant was told to make: it gives back money the buyer
        # did not owe (a second charge, a debit after the end), not the order's.
        logged.kind, logged.from_state, logged.to_state = (
            EventKind.OVERCHARGE_REFUNDED.value,
            state.value,
            state.value,
        )
        logged.detail = "gave back money not owed; the order is as it was"
        payment.updated_at = hub.clock()
        event = event_of(logged, payment, EventKind.OVERCHARGE_REFUNDED, test="test" in payment.flags)
        enqueue_effects(hub, session, shop, payment, event, to_shop=False)
        return Verdict.ACCEPTED, f"refund of {amount}: {logged.detail}"
    move = decide_refund(state, payment.paid_minor, payment.refunded_minor, amount)
    if move.over_refund:
        if more_may_come(subscription):
            return None
        payment.flag("amount_mismatch")
        logged.detail = f"refund of {amount} exceeds what remains of {payment.paid}"
        return Verdict.AMOUNT_MISMATCH, logged.detail
    logged.kind, logged.from_state, logged.to_state = move.kind.value, state.value, move.to_state.value
    logged.detail = ""
    payment.state, payment.refunded_minor = move.to_state.value, move.refunded_minor
    payment.updated_at = hub.clock()
    event = event_of(logged, payment, move.kind, test="test" in payment.flags)
    enqueue_effects(hub, session, shop, payment, event, to_shop="double_payment" not in payment.flags)
    return Verdict.ACCEPTED, f"{state.value} -> {move.to_state.value}"


def _not_owed_minor(session: Session, payment: Payment) -> int:
    """What ``payment`` took that the buyer did not owe and has not had back yet, in
    minor units: its ``overcharged`` events less its ``overcharge_refunded`` ones."""
    rows = session.execute(
        select(PaymentEventRow.kind, func.sum(PaymentEventRow.amount_minor))
        .where(
            PaymentEventRow.payment_id == payment.id,
            PaymentEventRow.kind.in_([EventKind.OVERCHARGED.value, EventKind.OVERCHARGE_REFUNDED.value]),
        )
        .group_by(PaymentEventRow.kind)
    ).all()
    totals = {kind: int(total or 0) for kind, total in rows}
    return totals.get(EventKind.OVERCHARGED.value, 0) - totals.get(EventKind.OVERCHARGE_REFUNDED.value, 0)


def _replay_parked(
    hub: Hub, session: Session, shop: Shop, payment: Payment, subscription: Subscription | None
) -> None:
    """Apply the parked messages of ``payment`` that can be applied now, in their
    order of arrival, again until none moves (a debit let through may let a
    refund through); each one's inbox row gets its final verdict."""
    moved = True
    while moved:
        moved = False
        parked = session.scalars(
            select(PaymentEventRow)
            .where(PaymentEventRow.payment_id == payment.id, PaymentEventRow.parked.is_(True))
            .order_by(PaymentEventRow.id)
        ).all()
        for logged in parked:
            settled = _settle_parked(hub, session, shop, payment, subscription, logged)
            if settled is None:
                continue
            logged.parked, moved = False, True
            inbox_row = session.get(InboxMessage, logged.inbox_id) if logged.inbox_id else None
            if inbox_row is not None:
                verdict, reason = settled
                finish(hub, inbox_row, verdict, f"applied once it could be: {reason}")


def _settle_parked(
    hub: Hub,
    session: Session,
    shop: Shop,
    payment: Payment,
    subscription: Subscription | None,
    logged: PaymentEventRow,
) -> tuple[Verdict, str] | None:
    """Settle one parked message, or None if it must go on waiting."""
    if logged.debit is None:
        return _settle_refund(hub, session, shop, payment, subscription, logged)
    if subscription is None or payment.state not in PAID_STATES:
        return None
    return settle_debit(hub, session, shop, payment, subscription, logged, test="test" in payment.flags)
