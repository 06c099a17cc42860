"""Mail the hub sends itself: the merchant's notice of each payment event, over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

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


def send(config: HubConfig, message: EmailMessage) -> None:
    """Hand ``message`` to the configured SMTP server (raises OSError when it is away)."""
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=15) as smtp:
        smtp.send_message(message)
