"""A subscription's debits, counted by their number rather than their arrival.

The platform confirms every debit with ``num_prochaine_presentation``, the
number of the debit it will present next (sandbox rules, after the record):
after an accepted debit *n* it is *n* + 1, after a refused one that will be
presented again it is *n* itself, and the confirmation that closes the
schedule carries ``fini=oui`` and no number. :func:`debit_number` reads the
debit's own number from that, so debits that overtake each other (a retried
confirmation, a hub down for a while) are each counted once, in any order: a
debit is money not owed when its number is past the schedule's end
(``NB_OCCURENCES_MAX``, or the last debit a ``fini=oui`` named) or when that
number was already taken under another transaction. Only where a message
gives no number does its order of arrival decide.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bluepaid_plugins.domain import EventKind
from bluepaid_plugins.protocol import Confirmation, Etat, Mode
from hub.context import Hub
from hub.effects import enqueue_effects, event_of, tell_overcharged
from hub.models import PAID_STATES, Payment, PaymentEventRow, PaymentState, Shop, Subscription, Verdict


def subscription_of(session: Session, payment: Payment) -> Subscription | None:
    """``payment``'s subscription, locked, or None for a single payment."""
    query = select(Subscription).where(Subscription.payment_id == payment.id).with_for_update()
    return session.scalar(query)


def debit_number(
    session: Session, payment: Payment, subscription: Subscription | None, conf: Confirmation
) -> int | None:
    """Which debit of ``subscription`` ``conf`` confirms, 1-based; None when it
    confirms no debit (a refund, a single payment, a message without
    ``num_abo``).

    The number comes from ``num_prochaine_presentation`` (minus one after an
    accepted debit), or is the schedule's last for an accepted ``fini=oui``
    without one. Otherwise the order of arrival decides: the first debit while
    the payment is unpaid, else the one after the highest counted (or after as
    many as were counted: debits counted before numbers were kept have none).
    """
    if subscription is None or conf.mode is Mode.REFUND or not conf.num_abo:
        return None
    told = conf.num_prochaine_presentation
    if told is not None:
        number = told - 1 if conf.etat is Etat.OK else told
        if number >= 1:
            return number
    elif conf.fini and conf.etat is Etat.OK:
        return subscription.occurrences
    if payment.state not in PAID_STATES:
        return 1
    highest = session.scalar(
        select(func.max(PaymentEventRow.debit)).where(*_counted(payment), PaymentEventRow.debit.is_not(None))
    )
    return max(highest or 0, subscription.debits_done) + 1


def note_end(subscription: Subscription, number: int, conf: Confirmation) -> None:
    """Learn the schedule's end from ``conf`` (debit ``number``), if it says ``fini=oui``.

    An accepted last debit ends the schedule at its own number; a refused one
    (no presentation left) at the debit before it. The earliest end told wins.
    """
    if not conf.fini:
        return
    last = number if conf.etat is Etat.OK else number - 1
    subscription.finished = True
    subscription.last_debit = last if subscription.last_debit is None else min(subscription.last_debit, last)


def past_the_end(subscription: Subscription, number: int, *, accepted: bool) -> bool:
    """Whether debit ``number`` lies after the schedule's end (as far as it is known).

    A refusal numbered right after the last debit a ``fini=oui`` named is no
    later than the end: it may be the refusal that ended the schedule.
    """
    if number > subscription.occurrences:
        return True
    if subscription.last_debit is None:
        return False
    return number > subscription.last_debit + (0 if accepted else 1)


def more_may_come(subscription: Subscription | None) -> bool:
    """Whether debits of the schedule are still to be counted (some may have been
    overtaken by later ones): what the payment took may still grow."""
    if subscription is None:
        return False
    end = subscription.occurrences if subscription.last_debit is None else subscription.last_debit
    return subscription.debits_done < min(end, subscription.occurrences)


def settle_debit(
    hub: Hub,
    session: Session,
    shop: Shop,
    payment: Payment,
    subscription: Subscription,
    row: PaymentEventRow,
    *,
    test: bool,
) -> tuple[Verdict, str]:
    """Count a later debit of a paid subscription, told by ``row`` (in the session,
    not parked, ``row.debit`` its number, ``row.kind`` what the platform said).

    An accepted debit past the end, or whose number was already taken, is
    money not owed (:func:`~hub.effects.tell_overcharged`); a refused or
    pending one there is recorded, not told. Otherwise an accepted debit adds
    to what the payment took, and an accepted or refused one is told to the
    shop. The payment's state does not move, except that a refunded payment
    is only partly refunded once it took more. Returns the verdict and its
    reason for the message's inbox row.
    """
    number = row.debit
    assert number is not None, "a subscription debit has its number"
    accepted = row.kind == EventKind.PAID.value
    row.from_state = row.to_state = payment.state
    if past_the_end(subscription, number, accepted=accepted):
        if accepted:
            detail = f"debit {number} after the subscription ended (transaction {row.id_trans}); refund it"
            tell_overcharged(
                hub, session, shop, payment, row, flag="debit_after_end", detail=detail, test=test
            )
            return Verdict.OVERCHARGED, detail
        payment.flag("debit_after_end")
        row.detail = f"debit {number} {row.kind} after the subscription ended"
        return Verdict.STALE, row.detail
    taken = session.scalar(
        select(PaymentEventRow.id_trans).where(
            *_counted(payment), PaymentEventRow.debit == number, PaymentEventRow.id != row.id
        )
    )
    if taken is not None:
        if accepted:
            detail = f"debit {number} charged twice: transaction {row.id_trans} after {taken}; refund it"
            tell_overcharged(hub, session, shop, payment, row, flag="charged_twice", detail=detail, test=test)
            return Verdict.OVERCHARGED, detail
        row.detail = f"debit {number} {row.kind} after it was paid (transaction {taken}): ignored"
        return Verdict.STALE, row.detail
    row.detail = f"subscription {subscription.num_abo}: debit {number}"
    if accepted:
        subscription.debits_done += 1
        payment.paid_minor += row.amount_minor
        if payment.state == PaymentState.REFUNDED.value:
            payment.state = row.to_state = PaymentState.PARTIALLY_REFUNDED.value
        payment.updated_at = hub.clock()
    kind = EventKind(row.kind)
    if kind in (EventKind.PAID, EventKind.REFUSED):
        event = event_of(row, payment, kind, test=test, num_abo=subscription.num_abo)
        enqueue_effects(hub, session, shop, payment, event)
    return Verdict.ACCEPTED, f"debit {number} of {subscription.occurrences} {kind.value}"


def _counted(payment: Payment) -> list[ColumnElement[bool]]:
    """The conditions of ``payment``'s event rows that are debits counted as paid."""
    return [
        PaymentEventRow.payment_id == payment.id,
        PaymentEventRow.kind == EventKind.PAID.value,
        PaymentEventRow.parked.is_(False),
    ]
