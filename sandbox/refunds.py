"""Refunds: full or partial, from the console or a test card's scenario.

A refund is a transaction of its own (kind ``refund``, its own ``id_trans``,
``parent_id`` pointing at the refunded one) and is confirmed to the shop with
``mode=r``, ``etat=ok`` and the refunded amount in ``montant``. The sandbox's
rules, the record being silent:

- only an accepted payment or subscription debit can be refunded;
- the amount is above zero, in the payment's currency, and at most what
  remains (the amount minus what earlier refunds took); refunds add up;
- the refund's confirmation echoes the refunded payment's ``id_client``,
  ``divers`` and ``langue`` and carries the refund's own ``id_trans``, so two
  partial refunds of the same amount are two messages, not one repeated;
- a refund of a subscription debit carries no ``num_abo``;
- the merchant gets a mail ("REMBOURSEMENT / refund").
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bluepaid_plugins.errors import NotFound, Problem, ValidationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol.confirmation import Etat, Mode
from sandbox.delivery import build_confirmation, schedule
from sandbox.mail import refund_mail
from sandbox.models import Transaction, TxKind, TxStatus
from sandbox.numbers import new_id_trans, new_token
from sandbox.platform import Platform

REFUNDABLE_KINDS = (TxKind.PAYMENT.value, TxKind.DEBIT.value)


def remaining(parent: Transaction) -> Money:
    """What is still refundable of ``parent``."""
    return Money.from_minor(parent.amount_minor - parent.refunded_minor, parent.currency)


def create_refund(
    platform: Platform, session: Session, parent: Transaction, amount: Money, *, delay: float = 0.0
) -> Transaction:
    """Refund ``amount`` of ``parent`` inside the caller's transaction.

    Locks ``parent`` (re-read ``FOR UPDATE``, so concurrent refunds add up
    instead of overwriting each other), checks the rules of this module,
    records the refund transaction (status accepted), adds ``amount`` to
    ``parent.refunded_minor``, schedules the ``mode=r`` confirmation ``delay``
    seconds of sandbox time from now, and records the merchant's mail.
    Raises ValidationError (field ``amount``, or ``id_trans`` for a transaction
    that cannot be refunded) and changes nothing when a rule is broken.
    """
    # Flushed first: refresh() would otherwise discard the caller's unsaved changes
    # (the "refund later" card refunds a payment accepted in this same transaction).
    session.flush()
    session.refresh(parent, with_for_update=True)
    if parent.kind not in REFUNDABLE_KINDS or parent.status != TxStatus.ACCEPTED.value:
        raise ValidationError(
            Problem(
                "id_trans",
                f"transaction {parent.id_trans} is a {parent.kind} in state {parent.status}; "
                "only an accepted payment or subscription debit can be refunded",
            )
        )
    left = remaining(parent)
    if amount.currency != parent.currency:
        raise ValidationError(
            Problem(
                "amount", f"is in {amount.currency} but transaction {parent.id_trans} is in {parent.currency}"
            )
        )
    if amount.minor <= 0:
        raise ValidationError(Problem("amount", "a refund must be more than 0"))
    if left < amount:
        raise ValidationError(
            Problem(
                "amount",
                f"{amount} {amount.currency} is more than what remains refundable of "
                f"{parent.id_trans}: {left} {left.currency} (paid {parent.amount}, refunded "
                f"{Money.from_minor(parent.refunded_minor, parent.currency)})",
            )
        )
    now = platform.now(session)
    refund = Transaction(
        id_trans=new_id_trans(session),
        page_token=new_token(),
        id_boutique=parent.id_boutique,
        kind=TxKind.REFUND.value,
        status=TxStatus.ACCEPTED.value,
        test=parent.test,
        amount_minor=amount.minor,
        currency=amount.currency,
        langue=parent.langue,
        id_client=parent.id_client,
        divers=parent.divers,
        email_client=parent.email_client,
        url_ok=parent.url_ok,
        url_stop=parent.url_stop,
        url_confirm=parent.url_confirm,
        card_type=parent.card_type,
        card_last4=parent.card_last4,
        parent_id=parent.id,
        created_at=now,
        updated_at=now,
    )
    session.add(refund)
    parent.refunded_minor += amount.minor
    parent.updated_at = now
    session.flush()
    fields = build_confirmation(refund, etat=Etat.OK.value, mode=Mode.REFUND.value, amount=amount).fields()
    kind = "full" if amount == parent.amount else "partial"
    schedule(platform, session, refund, fields, delay=delay, note=f"{kind} refund of {parent.id_trans}")
    refund_mail(platform, session, refund, parent)
    return refund


def refund(
    platform: Platform, id_trans: str, amount: Money | None = None, *, delay: float = 0.0
) -> Transaction:
    """Refund transaction ``id_trans`` in its own database transaction (the console's entry).

    ``amount`` None refunds everything that remains. Raises NotFound for an
    unknown ``id_trans`` and ValidationError as :func:`create_refund` does
    (nothing left to refund included).
    """
    with platform.db.transaction() as session:
        parent = session.scalars(
            select(Transaction).where(Transaction.id_trans == id_trans).with_for_update()
        ).first()
        if parent is None:
            raise NotFound(f"no transaction {id_trans!r}")
        if amount is None:
            amount = remaining(parent)
            if amount.minor == 0 and parent.status == TxStatus.ACCEPTED.value:
                raise ValidationError(
                    Problem("amount", f"transaction {id_trans} is already refunded in full")
                )
        return create_refund(platform, session, parent, amount, delay=delay)
