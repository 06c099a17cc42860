"""The mails the sandbox platform sends: to the merchant on every sale, to the buyer
when a payment is accepted, to the merchant on refunds and cancellations.

Bluepaid's own texts are lost; the FAQ only says that the merchant got a
notification, then "REGLEMENT ACCEPTE" or "REGLEMENT REFUSE", and that the
buyer's receipt of a subscription carried a cancel link. The sandbox's rules:

- every mail is kept as a :class:`~sandbox.models.Mail` row
  (the console's mailbox), whether or not it can be sent;
- it is sent by SMTP only when ``smtp_host`` is configured and the mail has an
  address, and only **after** the caller's transaction commits: a rolled-back
  payment sends nothing, and no SMTP conversation ever holds the database lock;
- ``smtp_result`` says what happened: ``sent``, ``failed: <reason>``,
  ``not sent: SMTP not configured``, ``not sent: no address``, or ``queued``
  while the commit has not happened yet;
- an SMTP failure is recorded, never raised: a mail never breaks a payment;
- mails about a test payment start with the line :data:`TEST_BANNER` and their
  subject with ``[TEST]``;
- merchant mails are in French and English; the buyer's receipt is in the
  buyer's ``langue`` when it is French, otherwise in English.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum

from babel.numbers import format_currency
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bluepaid_plugins.money import Money
from sandbox.models import Account, Mail, Subscription, Transaction, TxKind, TxStatus
from sandbox.platform import Platform

log = logging.getLogger(__name__)

#: First line of every mail about a test payment (FAQ: "a test banner").
TEST_BANNER = "*** PAIEMENT DE TEST / TEST PAYMENT ***"

#: Path of the buyer's cancel page; the console's ``buyer_bp`` serves it.
CANCEL_PATH = "/abo/resilier/"

#: Seconds an SMTP conversation may take before it counts as failed.
SMTP_TIMEOUT = 10.0

QUEUED = "queued"
SENT = "sent"
NOT_CONFIGURED = "not sent: SMTP not configured"
NO_ADDRESS = "not sent: no address"


class MailKind(StrEnum):
    NOTIFICATION = "notification"  # merchant: a sale happened (every outcome)
    ACCEPTED = "accepted"  # merchant: REGLEMENT ACCEPTE
    REFUSED = "refused"  # merchant: REGLEMENT REFUSE
    RECEIPT = "receipt"  # buyer: the payment is accepted
    REFUND = "refund"  # merchant: a refund was made
    CANCELLED = "cancelled"  # merchant: the buyer cancelled a subscription


def cancel_url(platform: Platform, token: str) -> str:
    """The absolute link a buyer follows to cancel a subscription."""
    return f"{platform.config.public_url.rstrip('/')}{CANCEL_PATH}{token}"


def payment_mails(
    platform: Platform, session: Session, tx: Transaction, subscription: Subscription | None = None
) -> None:
    """Record (and, after commit, send) the mails of one payment outcome.

    Call once per outcome, inside the transaction that records it. ``tx`` is a
    payment or a subscription debit whose ``status`` is accepted or refused;
    any other status has no outcome yet and records nothing. ``subscription``,
    for a subscription's debits, adds the schedule to the mails and the cancel
    link to the buyer's receipt while the subscription is active.

    Mails, in this order: the notification to the merchant, then "REGLEMENT
    ACCEPTE" or "REGLEMENT REFUSE" to the merchant, then the buyer's receipt
    (accepted only).
    """
    if tx.status not in (TxStatus.ACCEPTED.value, TxStatus.REFUSED.value):
        return
    account = session.get(Account, tx.id_boutique)
    merchant_to = account.merchant_email if account else ""
    merchant_name = account.name if account else tx.id_boutique
    accepted = tx.status == TxStatus.ACCEPTED.value
    facts = _merchant_facts(tx, subscription)
    mails = [
        _mail(
            tx,
            MailKind.NOTIFICATION,
            merchant_to,
            f"Nouvelle vente / new sale {tx.id_trans} ({tx.id_boutique})",
            [
                "Une vente vient d'être présentée sur votre compte.",
                "A sale was just made on your account.",
                "",
                *facts,
            ],
        )
    ]
    if accepted:
        mails.append(
            _mail(
                tx,
                MailKind.ACCEPTED,
                merchant_to,
                f"REGLEMENT ACCEPTE / payment accepted {tx.id_trans}",
                ["Le règlement est accepté.", "The payment is accepted.", "", *facts],
            )
        )
        mails.append(
            _mail(
                tx,
                MailKind.RECEIPT,
                tx.email_client,
                _receipt_subject(tx, merchant_name),
                _receipt_lines(platform, tx, merchant_name, subscription),
            )
        )
    else:
        mails.append(
            _mail(
                tx,
                MailKind.REFUSED,
                merchant_to,
                f"REGLEMENT REFUSE / payment refused {tx.id_trans}",
                ["Le règlement est refusé.", "The payment is refused.", "", *facts],
            )
        )
    _record(platform, session, mails)


def refund_mail(platform: Platform, session: Session, refund: Transaction, parent: Transaction) -> None:
    """Record (and, after commit, send) the merchant's mail about ``refund`` of ``parent``.

    Subject ``REMBOURSEMENT / refund <refund id_trans>``; the body names both
    transactions, the amount refunded and what remains refundable.
    """
    account = session.get(Account, refund.id_boutique)
    remaining = parent.amount_minor - parent.refunded_minor
    lines = [
        "Un remboursement a été effectué.",
        "A refund was made.",
        "",
        f"Remboursement / refund: {refund.id_trans}",
        f"Transaction remboursée / refunded transaction: {parent.id_trans}",
        f"Montant remboursé / amount refunded: {refund.amount} {refund.currency}",
        f"Reste remboursable / still refundable: {_major(remaining, parent)} {parent.currency}",
        f"Référence / id_client: {refund.id_client}",
    ]
    mail = _mail(
        refund,
        MailKind.REFUND,
        account.merchant_email if account else "",
        f"REMBOURSEMENT / refund {refund.id_trans} ({parent.id_trans})",
        lines,
    )
    _record(platform, session, [mail])


def cancellation_mail(platform: Platform, session: Session, subscription: Subscription) -> None:
    """Record (and, after commit, send) the merchant's mail: the buyer cancelled ``subscription``.

    Subject ``RESILIATION / subscription cancelled <num_abo>``.
    """
    account = session.get(Account, subscription.id_boutique)
    first = session.scalar(
        select(Transaction)
        .where(Transaction.subscription_id == subscription.id)
        .order_by(Transaction.id)
        .limit(1)
    )
    lines = [
        "L'acheteur a résilié son abonnement : aucun autre prélèvement ne sera fait.",
        "The buyer cancelled the subscription: no further debit will be made.",
        "",
        f"Abonnement / subscription: {subscription.num_abo}",
        f"Prélèvements faits / debits made: {subscription.debits_done} / {subscription.occurrences}",
    ]
    if first is not None:
        lines.append(f"Référence / id_client: {first.id_client}")
    mail = Mail(
        transaction_id=first.id if first else None,
        kind=MailKind.CANCELLED.value,
        to=account.merchant_email if account else "",
        subject=f"RESILIATION / subscription cancelled {subscription.num_abo}",
        body="\n".join(lines) + "\n",
    )
    _record(platform, session, [mail])


def _mail(tx: Transaction, kind: MailKind, to: str, subject: str, lines: list[str]) -> Mail:
    if tx.test:
        subject = f"[TEST] {subject}"
        lines = [TEST_BANNER, "", *lines]
    return Mail(transaction_id=tx.id, kind=kind.value, to=to, subject=subject, body="\n".join(lines) + "\n")


def _major(minor: int, tx: Transaction) -> str:
    return str(Money.from_minor(minor, tx.currency))


def _merchant_facts(tx: Transaction, subscription: Subscription | None) -> list[str]:
    kind = {
        TxKind.PAYMENT.value: "paiement / payment",
        TxKind.DEBIT.value: "prélèvement d'abonnement / subscription debit",
    }.get(tx.kind, tx.kind)
    lines = [
        f"Boutique / shop: {tx.id_boutique}",
        f"Transaction: {tx.id_trans} ({kind})",
        f"Référence / id_client: {tx.id_client}",
        f"Montant / amount: {tx.amount} {tx.currency}",
        f"Carte / card: {tx.card_type} **** {tx.card_last4}" if tx.card_last4 else "",
        f"Acheteur / buyer: {tx.email_client}" if tx.email_client else "",
        f"Motif / reason: {tx.reason}" if tx.reason and tx.status == TxStatus.REFUSED.value else "",
    ]
    if subscription is not None:
        # debits_done counts accepted debits, this one included when it was accepted.
        index = subscription.debits_done + (0 if tx.status == TxStatus.ACCEPTED.value else 1)
        lines.append(
            f"Abonnement / subscription: {subscription.num_abo}, "
            f"prélèvement / debit {index} / {subscription.occurrences}"
        )
    return [line for line in lines if line]


def _is_french(tx: Transaction) -> bool:
    # The record shows seven page languages; the sandbox writes French and English only.
    return tx.langue.upper() == "FR"


def _receipt_subject(tx: Transaction, merchant_name: str) -> str:
    if _is_french(tx):
        return f"Votre paiement à {merchant_name} est accepté ({tx.id_trans})"
    return f"Your payment to {merchant_name} is accepted ({tx.id_trans})"


def _receipt_lines(
    platform: Platform, tx: Transaction, merchant_name: str, subscription: Subscription | None
) -> list[str]:
    french = _is_french(tx)
    amount = format_currency(tx.amount.amount, tx.currency, locale="fr_FR" if french else "en_GB")
    when = _when(tx.updated_at)
    if french:
        lines = [
            "Bonjour,",
            "",
            f"Votre paiement de {amount} à {merchant_name} est accepté.",
            f"Transaction : {tx.id_trans}",
            f"Référence : {tx.id_client}",
            f"Date : {when}",
        ]
    else:
        lines = [
            "Hello,",
            "",
            f"Your payment of {amount} to {merchant_name} is accepted.",
            f"Transaction: {tx.id_trans}",
            f"Reference: {tx.id_client}",
            f"Date: {when}",
        ]
    if tx.card_last4:
        lines.append(f"{'Carte' if french else 'Card'} : {tx.card_type} **** {tx.card_last4}")
    if subscription is not None and subscription.state == "active":
        link = cancel_url(platform, subscription.cancel_token)
        lines += [
            "",
            f"Abonnement {subscription.num_abo}. Pour le résilier, suivez ce lien :"
            if french
            else f"Subscription {subscription.num_abo}. To cancel it, follow this link:",
            link,
        ]
    return lines


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _record(platform: Platform, session: Session, mails: Iterable[Mail]) -> None:
    """Add ``mails`` to the mailbox and arrange their sending after commit."""
    now = platform.now(session)
    to_send: list[Mail] = []
    for mail in mails:
        mail.created_at = now
        if not mail.to:
            mail.smtp_result = NO_ADDRESS
        elif not platform.config.smtp_host:
            mail.smtp_result = NOT_CONFIGURED
        else:
            mail.smtp_result = QUEUED
            to_send.append(mail)
        session.add(mail)
    if to_send:
        session.flush()  # ids, so the after-commit step can find the rows again
        ids = [mail.id for mail in to_send]
        event.listen(session, "after_commit", lambda _session: _send(platform, ids), once=True)


def _send(platform: Platform, ids: list[int]) -> None:
    """Send the queued mails ``ids`` and record each result; never raises."""
    try:
        with platform.db.transaction() as session:
            mails = list(session.scalars(select(Mail).where(Mail.id.in_(ids)).order_by(Mail.id)))
            session.expunge_all()
    except Exception:  # the payment is committed; a mail must not undo or break it
        log.exception("cannot read the mails %s to send", ids)
        return
    results = _smtp(platform, mails)
    try:
        with platform.db.transaction() as session:
            for mail_id, result in results.items():
                row = session.get(Mail, mail_id)
                if row is not None:
                    row.smtp_result = result[:255]
    except Exception:
        log.exception("cannot record the SMTP results of mails %s", ids)


def _message(platform: Platform, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = platform.config.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="sandbox.bluepaid.invalid")
    message.set_content(mail.body)
    return message


def _smtp(platform: Platform, mails: list[Mail]) -> dict[int, str]:
    """Send ``mails`` over one SMTP connection; the result of each, by id."""
    results: dict[int, str] = {}
    try:
        # One connection for the batch: an unreachable server costs one timeout, not one per mail.
        with smtplib.SMTP(platform.config.smtp_host, platform.config.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            for mail in mails:
                try:
                    smtp.send_message(_message(platform, mail))
                except smtplib.SMTPRecipientsRefused as exc:
                    results[mail.id] = f"failed: {type(exc).__name__}: {exc}"
                else:
                    results[mail.id] = SENT
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mails %s not sent: %s", [mail.id for mail in mails], exc)
        for mail in mails:
            results.setdefault(mail.id, f"failed: {type(exc).__name__}: {exc}")
    return results
