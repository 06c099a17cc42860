"""Mail the hub sends: the merchant's notice of each payment event, and the mail it
lends connectors (an order source's buyer mail), over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from bluepaid_plugins.connector import Mailer
from bluepaid_plugins.domain import EventKind, PaymentEvent
from hub.config import HubConfig
from hub.models import Shop

_SUBJECTS = {
    EventKind.PAID: "REGLEMENT ACCEPTE / payment accepted",
    EventKind.REFUSED: "REGLEMENT REFUSE / payment refused",
    EventKind.OVERCHARGED: "A REMBOURSER, DEBIT EN TROP / overcharged, refund it",
    EventKind.OVERCHARGE_REFUNDED: "DEBIT EN TROP REMBOURSE / overcharge refunded",
}


def merchant_notice(config: HubConfig, shop: Shop, event: PaymentEvent) -> EmailMessage:
    """The merchant's mail about ``event``, in French and English."""
    subject = _SUBJECTS.get(event.kind, f"Paiement {event.kind.value} / payment {event.kind.value}")
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = shop.notify_email
    message["Subject"] = f"[{shop.name}] {'TEST ' if event.test else ''}{subject} {event.order_ref}"
    lines = [
        "*** TEST ***" if event.test else "",
        f"Commande / order: {event.order_ref}",
        f"Montant / amount: {event.amount} {event.amount.currency}",
        f"Transaction: {event.id_trans}",
        f"Etat / state: {event.kind.value}" + (" ✔" if event.kind is EventKind.PAID else ""),
    ]
    message.set_content("\n".join(line for line in lines if line) + "\n")
    return message


def mailer(config: HubConfig) -> Mailer:
    """The :class:`~bluepaid_plugins.connector.Mailer` of connector contexts: plain text
    from the hub's sender address, through :func:`send`; False without a mail server."""

    def mail(to: str, subject: str, body: str) -> bool:
        if not config.smtp_host:
            return False
        message = EmailMessage()
        message["From"] = config.mail_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        send(config, message)
        return True

    return mail


def send(config: HubConfig, message: EmailMessage) -> None:
    """Hand ``message`` to the configured SMTP server (raises OSError when it is away)."""
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=15) as smtp:
        smtp.send_message(message)
