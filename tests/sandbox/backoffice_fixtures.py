"""Helpers for the back-office tests: transactions made without the payment pages,
a real SMTP server, CSRF tokens out of real pages.

Plain functions and classes: each test module declares the few fixtures it
needs around them, so nothing here is a hidden plugin.
"""

from __future__ import annotations

import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bluepaid_plugins.money import Money
from sandbox import mail
from sandbox.app import create_sandbox_app
from sandbox.cards import SandboxCard
from sandbox.delivery import build_confirmation, schedule
from sandbox.models import Delivery, Mail, Subscription, Transaction, TxKind, TxStatus
from sandbox.platform import Platform
from sandbox.subscriptions import next_presentation, start_subscription
from tests.sandbox.conftest import ID_BOUTIQUE


def add_transaction(platform: Platform, **values: Any) -> Transaction:
    """Insert a transaction as the payment pages would leave it; ``values`` override.

    Default: an accepted 2.07 EUR test payment of account ``ID_BOUTIQUE`` paid
    with a VISA test card, in French, with no confirmation URL (pass
    ``url_confirm`` to have confirmations scheduled).
    """
    with platform.db.transaction() as session:
        now = platform.now(session)
        row = {
            "id_trans": f"T{secrets.randbelow(10**11):011d}",
            "page_token": secrets.token_urlsafe(16),
            "id_boutique": ID_BOUTIQUE,
            "kind": TxKind.PAYMENT.value,
            "status": TxStatus.ACCEPTED.value,
            "test": True,
            "amount_minor": 207,
            "currency": "EUR",
            "langue": "FR",
            "id_client": "52",
            "divers": "1aca230749db383749bd1bb1c471dab1",
            "email_client": "buyer@example.com",
            "card_type": "VISA",
            "card_last4": "0004",
            "scenario": "accepted",
            "created_at": now,
            "updated_at": now,
        }
        row.update(values)
        tx = Transaction(**row)
        session.add(tx)
    return tx


def subscription_request(**changes: str) -> dict[str, str]:
    """Valid ``ABOv2`` variables for ``ID_BOUTIQUE``; an empty value drops the variable."""
    fields = {
        "ID_BOUTIQUE": ID_BOUTIQUE,
        "ID_CLIENT": "sub-7",
        "MONTANT": "9.90",
        "MONTANT_INITIAL": "19.90",
        "NB_OCCURENCES_MAX": "3",
        "PERIODE_NB": "1",
        "PERIODE_TYPE": "M",
        "TYPE_ABO": "STANDARD",
        "TOLERANCE_JOURS": "3",
        "TOLERANCE_NBMAX": "2",
        "DEVISE": "EUR",
        "LANGUE": "FR",
        "DIVERS": "abo-token",
        "EMAIL_CLIENT": "abonne@example.com",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value}


def start(platform: Platform, card: SandboxCard, url_confirm: str = "", **changes: str) -> Subscription:
    """Play the accepted first debit of an ``ABOv2`` request as the card step does.

    Records the first transaction (amount ``MONTANT_INITIAL`` or ``MONTANT``),
    starts the subscription, schedules the first ``ok`` confirmation and
    records the mails. Returns the subscription.
    """
    request = subscription_request(**changes)
    first = Money.parse(request.get("MONTANT_INITIAL") or request["MONTANT"], request["DEVISE"])
    tx = add_transaction(
        platform,
        kind=TxKind.DEBIT.value,
        amount_minor=first.minor,
        currency=first.currency,
        langue=request["LANGUE"],
        id_client=request["ID_CLIENT"],
        divers=request["DIVERS"],
        email_client=request["EMAIL_CLIENT"],
        url_confirm=url_confirm,
        request=request,
        card_type=card.type.value,
        card_last4=card.number[-4:],
        scenario=card.scenario.value,
    )
    with platform.db.transaction() as session:
        tx = session.get(Transaction, tx.id) or tx
        subscription = start_subscription(platform, session, tx, card)
        next_index, fini = next_presentation(subscription)
        fields = build_confirmation(
            tx, etat="ok", subscription=subscription, next_index=next_index, fini=fini
        ).fields()
        schedule(platform, session, tx, fields)
        mail.payment_mails(platform, session, tx, subscription)
    return subscription


def deliveries(platform: Platform, tx_id: int | None = None) -> list[Delivery]:
    """Every delivery (of transaction ``tx_id`` when given), oldest first."""
    query = select(Delivery).order_by(Delivery.id)
    if tx_id is not None:
        query = query.where(Delivery.transaction_id == tx_id)
    with platform.db.transaction() as session:
        return list(session.scalars(query))


def transactions(platform: Platform, **where: Any) -> list[Transaction]:
    """Transactions whose columns equal ``where``, oldest first."""
    query = select(Transaction).filter_by(**where).order_by(Transaction.id)
    with platform.db.transaction() as session:
        return list(session.scalars(query))


def mails(platform: Platform) -> list[Mail]:
    with platform.db.transaction() as session:
        return list(session.scalars(select(Mail).order_by(Mail.id)))


def get(platform: Platform, model: type[Any], key: Any) -> Any:
    with platform.db.transaction() as session:
        return session.get(model, key)


# ---------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return str(self.message.get_content())


@dataclass
class SmtpSink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

    port: int
    received: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[SmtpSink]:
        sink = cls(free_port())
        controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
        controller.start()
        try:
            yield sink
        finally:
            controller.stop()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# ---------------------------------------------------------------- pages with CSRF


def csrf_app(platform: Platform) -> Flask:
    """The sandbox app with CSRF protection on, as in production."""
    app = create_sandbox_app(platform=platform)
    app.config.update(TESTING=True)
    return app


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the first form on the page at ``path``."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1) or found.group(2)
