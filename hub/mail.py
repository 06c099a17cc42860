"""Mail the hub sends over SMTP: the mail it lends connectors (an order source's buyer
mail) and payment-event plugins (the merchant's mails, :mod:`hub.merchant_mail`)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from bluepaid_plugins.connector import Mailer
from hub.config import HubConfig


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
