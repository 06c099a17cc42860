"""The payment state machine: monotonic, so late or repeated messages never undo.

States are ranked; a confirmation moves a payment only to a higher rank. A
``ko`` that arrives after an ``ok`` (the platform retried an old message) is
recorded and ignored. Refunds (``mode=r``) add up on a paid payment until the
whole amount is refunded.
"""

from __future__ import annotations

from dataclasses import dataclass

from bluepaid_plugins.domain import EventKind
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, Etat, Mode
from hub.models import PaymentState

RANK = {
    PaymentState.CREATED: 0,
    PaymentState.PENDING: 1,
    PaymentState.REFUSED: 2,
    PaymentState.CANCELLED: 2,
    PaymentState.PAID: 3,
    PaymentState.PARTIALLY_REFUNDED: 4,
    PaymentState.REFUNDED: 5,
}

_TARGET = {
    Etat.OK: (PaymentState.PAID, EventKind.PAID),
    Etat.KO: (PaymentState.REFUSED, EventKind.REFUSED),
    Etat.ATTENTE: (PaymentState.PENDING, EventKind.PENDING),
    Etat.ANNU: (PaymentState.CANCELLED, EventKind.CANCELLED),
}

#: What each ``etat`` means as an event (a subscription's later debits too).
EVENT_OF = {etat: kind for etat, (_state, kind) in _TARGET.items()}


@dataclass(frozen=True)
class Move:
    """The outcome of one confirmation: a new state, or why nothing moves."""

    to_state: PaymentState
    kind: EventKind
    refunded_minor: int
    stale_reason: str = ""
    over_refund: bool = False

    @property
    def moves(self) -> bool:
        return not self.stale_reason and not self.over_refund


def decide(state: PaymentState, paid_minor: int, refunded_minor: int, conf: Confirmation) -> Move:
    """What ``conf`` does to a payment in ``state``; pure, no I/O.

    ``paid_minor`` is what the payment took in all (every debit of a
    subscription), ``refunded_minor`` what was refunded so far. For a refund,
    ``conf.amount`` is the refunded amount.
    """
    if conf.mode is Mode.REFUND:
        if conf.etat is not Etat.OK:
            reason = f"refund with etat={conf.etat.value}: nothing refunded"
            return Move(state, EventKind.REFUNDED, refunded_minor, stale_reason=reason)
        return decide_refund(state, paid_minor, refunded_minor, conf.amount)
    target, kind = _TARGET[conf.etat]
    if RANK[target] <= RANK[state]:
        return Move(state, kind, refunded_minor, stale_reason=f"{target.value} after {state.value}: ignored")
    return Move(target, kind, refunded_minor)


def decide_refund(state: PaymentState, paid_minor: int, refunded_minor: int, amount: Money) -> Move:
    """What an accepted refund of ``amount`` does to a payment in ``state``.

    Refunds add up to what was paid, never past it (an over-refund is
    reported, not applied); a payment not paid yet has nothing to refund.
    """
    kind = EventKind.REFUNDED
    if state not in (PaymentState.PAID, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED):
        return Move(state, kind, refunded_minor, stale_reason=f"refund of a payment in state {state.value}")
    if amount.minor == 0:
        return Move(state, kind, refunded_minor, stale_reason="refund of nothing (montant 0)")
    total = refunded_minor + amount.minor
    if total > paid_minor:
        return Move(state, kind, refunded_minor, over_refund=True)
    if total == paid_minor:
        return Move(PaymentState.REFUNDED, EventKind.REFUNDED, total)
    return Move(PaymentState.PARTIALLY_REFUNDED, EventKind.PARTIALLY_REFUNDED, total)
