"""Subscriptions and payments in instalments (``ABOv2``): the schedule of debits.

The first debit is the payment the buyer makes on the payment page; when it is
accepted, :func:`start_subscription` records the schedule. Every later debit is
made by :func:`run_due` when the sandbox clock reaches it (``bluepaid sandbox
tick`` moves the clock). The record gives the variables and little else; the
sandbox's rules:

- **Period**: ``PERIODE_NB`` x ``PERIODE_TYPE``, where ``M`` is a calendar month
  (the day of the month is kept, clamped to the month's last day: a schedule
  started on 31 January debits on 28 or 29 February, then on 31 March), ``S``
  a week (7 days) and ``J`` a day. Debit *n* is due at the first debit's time
  plus (*n* - 1) periods: the schedule stays anchored on the first debit, and
  re-presentations never shift the later debits.
- **Amounts**: the first debit is ``MONTANT_INITIAL`` when given, every other
  one ``MONTANT``; ``NB_OCCURENCES_MAX`` debits in all.
- **Refusals**: whether a renewal is accepted depends on the first payment's
  test card: ``renewals_refused`` refuses every renewal, ``renewal_refused_once``
  refuses each debit at its first presentation and accepts its
  re-presentation, any other card accepts. A refused debit is presented again
  ``TOLERANCE_JOURS`` days (at least 1) after the refused attempt, at most
  ``TOLERANCE_NBMAX`` times. When a debit is refused and no re-presentation is
  left, the subscription ends (state ``finished``): that refusal's confirmation
  (``etat=ko``) carries ``fini=oui`` and no other message is sent.
- **Confirmations**: every debit, accepted or refused, is confirmed with
  ``num_abo`` and ``num_prochaine_presentation``, the 1-based number of the
  debit to be presented next (the same number again after a refusal that will
  be re-presented). The confirmation that closes the schedule carries
  ``fini=oui`` and no ``num_prochaine_presentation``.
- **Ending by hand** (FAQ 14): the buyer's cancel link and the merchant's
  "fini" set the state ``finished``, "supprimer" sets ``deleted``. No debit
  follows and no confirmation is sent (no money moved); a buyer's cancellation
  is mailed to the merchant.
"""

from __future__ import annotations

import calendar
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluepaid_plugins.errors import NotFound, Problem, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import SUBSCRIPTION_FIELDS, validate_subscription_fields
from bluepaid_plugins.protocol.confirmation import Etat
from sandbox.cards import SandboxCard, Scenario
from sandbox.delivery import build_confirmation, schedule
from sandbox.mail import cancellation_mail, payment_mails
from sandbox.models import Subscription, Transaction, TxKind, TxStatus
from sandbox.numbers import new_id_trans, new_token
from sandbox.platform import Platform


class SubState(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"  # the schedule is over, the tolerance ran out, or "fini" / the buyer
    DELETED = "deleted"  # the merchant's "supprimer"


#: How a subscription may be ended by hand: the merchant's "fini", the
#: merchant's deletion, the buyer's cancel link.
END_HOWS = ("fini", "supprimer", "buyer")


def add_period(start: datetime, count: int, unit: str) -> datetime:
    """``start`` plus ``count`` units: ``M`` calendar months (day clamped), ``S`` weeks, ``J`` days."""
    if unit == "J":
        return start + timedelta(days=count)
    if unit == "S":
        return start + timedelta(weeks=count)
    if unit == "M":
        months = start.month - 1 + count
        year, month = start.year + months // 12, months % 12 + 1
        return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))
    raise ValueError(f"unknown period unit {unit!r}; expected M, S or J")


def due_date(subscription: Subscription, number: int) -> datetime:
    """When debit ``number`` (1-based) of ``subscription`` is due by the schedule."""
    return add_period(
        subscription.created_at, (number - 1) * subscription.period_nb, subscription.period_type
    )


def next_presentation(subscription: Subscription) -> tuple[int | None, bool]:
    """``(num_prochaine_presentation, fini)`` for the confirmation of the debit just made.

    While the subscription is active, the next debit to present is the one
    after the accepted ones (``debits_done + 1``: after a refusal that is the
    same debit again); once it is over, there is none and ``fini`` is true.
    """
    if subscription.state == SubState.ACTIVE.value:
        return subscription.debits_done + 1, False
    return None, True


def start_subscription(
    platform: Platform, session: Session, tx: Transaction, card: SandboxCard
) -> Subscription:
    """Record the schedule whose first debit, ``tx``, was just accepted.

    ``tx.request`` holds the upper-case ``ABOv2`` variables (already checked by
    the request page; checked again here, and a ValidationError names any
    variable at fault). The first debit counts as made: ``debits_done`` is 1
    and the next debit is due one period from now, or, with
    ``NB_OCCURENCES_MAX=1``, the subscription is already finished. Sets
    ``tx.subscription_id``. The caller confirms ``tx`` with
    :func:`next_presentation` of the result and sends its mails.
    """
    request = {name: value for name, value in tx.request.items() if name in SUBSCRIPTION_FIELDS}
    problems = validate_subscription_fields(request)
    if problems:
        raise ValidationError(problems, f"transaction {tx.id_trans} holds no valid subscription")
    amount = Money.parse(request["MONTANT"], request["DEVISE"], "MONTANT")
    initial = request.get("MONTANT_INITIAL")
    now = platform.now(session)
    occurrences = int(request["NB_OCCURENCES_MAX"])
    subscription = Subscription(
        num_abo=_new_num_abo(),
        id_boutique=tx.id_boutique,
        request=dict(tx.request),
        amount_minor=amount.minor,
        initial_minor=Money.parse(initial, amount.currency, "MONTANT_INITIAL").minor if initial else None,
        currency=amount.currency,
        occurrences=occurrences,
        period_nb=int(request.get("PERIODE_NB") or 1),
        period_type=request.get("PERIODE_TYPE") or "M",
        tolerance_days=int(request.get("TOLERANCE_JOURS") or 0),
        tolerance_max=int(request.get("TOLERANCE_NBMAX") or 0),
        debits_done=1,
        representations=0,
        state=SubState.ACTIVE.value if occurrences > 1 else SubState.FINISHED.value,
        cancel_token=new_token(),
        card_type=card.type.value,
        card_last4=card.number[-4:],
        scenario=card.scenario.value,
        created_at=now,
    )
    subscription.next_due_at = due_date(subscription, 2) if occurrences > 1 else None
    session.add(subscription)
    session.flush()
    tx.subscription_id = subscription.id
    return subscription


def run_due(platform: Platform) -> int:
    """Make every subscription debit due at the sandbox's now; return how many were made.

    Each debit is made in its own transaction, which claims the subscription
    row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers),
    records the debit, moves the schedule, schedules the confirmation and
    records the mails: two processes never make the same debit twice. A clock
    advanced past several due dates makes each missed debit in turn.
    """
    made = 0
    while True:
        with platform.db.transaction() as session:
            now = platform.now(session)
            subscription = session.scalars(
                select(Subscription)
                .where(Subscription.state == SubState.ACTIVE.value, Subscription.next_due_at <= now)
                .order_by(Subscription.next_due_at, Subscription.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if subscription is None:
                return made
            _debit(platform, session, subscription, now)
        made += 1


def _renewal_accepted(subscription: Subscription) -> bool:
    if subscription.scenario == Scenario.RENEWALS_REFUSED.value:
        return False
    if subscription.scenario == Scenario.RENEWAL_REFUSED_ONCE.value:
        return subscription.representations > 0
    return True


def _debit(platform: Platform, session: Session, subscription: Subscription, now: datetime) -> Transaction:
    """Present debit ``debits_done + 1`` of ``subscription``, which is due."""
    first = session.scalars(
        select(Transaction).where(Transaction.subscription_id == subscription.id).order_by(Transaction.id)
    ).first()
    if first is None:
        raise NotFound(f"subscription {subscription.num_abo} has no first transaction")
    number = subscription.debits_done + 1
    attempt = subscription.representations
    # The attempt happens, as far as the schedule knows, when it was due: a clock
    # advanced past several dates replays them as a running platform would have.
    attempted_at = subscription.next_due_at or now
    accepted = _renewal_accepted(subscription)
    debit = Transaction(
        id_trans=new_id_trans(session),
        page_token=new_token(),
        id_boutique=first.id_boutique,
        kind=TxKind.DEBIT.value,
        status=TxStatus.ACCEPTED.value if accepted else TxStatus.REFUSED.value,
        test=first.test,
        amount_minor=subscription.amount_minor,
        currency=subscription.currency,
        langue=first.langue,
        id_client=first.id_client,
        divers=first.divers,
        email_client=first.email_client,
        url_ok=first.url_ok,
        url_stop=first.url_stop,
        url_confirm=first.url_confirm,
        card_type=subscription.card_type,
        card_last4=subscription.card_last4,
        scenario=subscription.scenario,
        reason="" if accepted else f"renewal refused by the test card's scenario ({subscription.scenario})",
        subscription_id=subscription.id,
        created_at=now,
        updated_at=now,
    )
    session.add(debit)
    session.flush()
    if accepted:
        subscription.debits_done = number
        subscription.representations = 0
        if number >= subscription.occurrences:
            _close(subscription, SubState.FINISHED)
        else:
            subscription.next_due_at = due_date(subscription, number + 1)
    elif attempt < subscription.tolerance_max:
        subscription.representations = attempt + 1
        subscription.next_due_at = attempted_at + timedelta(days=max(1, subscription.tolerance_days))
    else:
        _close(subscription, SubState.FINISHED)
    next_index, fini = next_presentation(subscription)
    fields = build_confirmation(
        debit,
        etat=Etat.OK.value if accepted else Etat.KO.value,
        subscription=subscription,
        next_index=next_index,
        fini=fini,
    ).fields()
    note = f"subscription {subscription.num_abo}: debit {number}/{subscription.occurrences}"
    if attempt:
        note += f", re-presentation {attempt}/{subscription.tolerance_max}"
    schedule(platform, session, debit, fields, note=note)
    payment_mails(platform, session, debit, subscription)
    return debit


def _close(subscription: Subscription, state: SubState) -> None:
    subscription.state = state.value
    subscription.next_due_at = None


def end_subscription(platform: Platform, num_abo: str, how: str) -> Subscription:
    """End subscription ``num_abo`` by hand; no debit follows.

    ``how``: ``fini`` (the merchant marks it over) and ``buyer`` (the buyer's
    cancel link) set ``finished``; ``supprimer`` (the merchant deletes it) sets
    ``deleted``. Ending is idempotent: an ended subscription stays ended, and
    only a deletion changes a finished one. A buyer's cancellation of an
    active subscription is mailed to the merchant. Raises NotFound for an
    unknown ``num_abo``, ValidationError for an unknown ``how``.
    """
    if how not in END_HOWS:
        raise ValidationError(Problem("how", f"{how!r}; expected one of {', '.join(END_HOWS)}"))
    with platform.db.transaction() as session:
        subscription = session.scalars(
            select(Subscription).where(Subscription.num_abo == num_abo).with_for_update()
        ).first()
        if subscription is None:
            raise NotFound(f"no subscription {num_abo!r}")
        was_active = subscription.state == SubState.ACTIVE.value
        if how == "supprimer":
            _close(subscription, SubState.DELETED)
        elif was_active:
            _close(subscription, SubState.FINISHED)
        if how == "buyer" and was_active:
            cancellation_mail(platform, session, subscription)
    return subscription


def find_by_cancel_token(platform: Platform, token: str) -> Subscription | None:
    """The subscription whose buyer cancel link carries ``token``, if any."""
    with platform.db.transaction() as session:
        return session.scalars(select(Subscription).where(Subscription.cancel_token == token)).first()


def _new_num_abo() -> str:
    """A fresh subscription number: ``A`` and 10 random digits (the real format is unknown)."""
    return f"A{secrets.randbelow(10**10):010d}"
