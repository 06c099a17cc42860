"""Alerts by mail: each new alert of the dashboard, mailed once to the shop's
``notify_email``.

The worker runs :func:`mail_alerts` with the reconciliation's expiry. An alert is
recorded as mailed only once the SMTP server took the mail, so a mail server
away for a while loses nothing: the next round sends it.
"""

from __future__ import annotations

import hashlib
import logging
from email.message import EmailMessage

from sqlalchemy import select

from hub import mail
from hub.backoffice.dashboard import Alert, alerts
from hub.context import Hub
from hub.models import AlertMail, Shop

log = logging.getLogger(__name__)

_TITLES = {
    "amount_mismatch": "Montant different / amount mismatch",
    "dead_task": "Tache abandonnee / task given up",
    "two_payments": "Deux paiements pour une commande / two payments for one order",
    "charged_twice": "Debite deux fois / charged twice",
    "test_on_live": "Paiement de test en production / test payment on a live shop",
}


def key_of(alert: Alert) -> str:
    return hashlib.sha256(f"{alert.kind}\0{alert.payment}\0{alert.detail}".encode()).hexdigest()


def mail_alerts(hub: Hub) -> int:
    """Mail each shop its alerts not mailed yet, one mail per shop; return how many
    alerts were mailed. Nothing is sent without ``BLUEPAID_SMTP_HOST``."""
    if not hub.config.smtp_host:
        return 0
    with hub.db.transaction() as session:
        shops = [
            (s.id, s.slug, s.name, s.notify_email) for s in session.scalars(select(Shop)) if s.notify_email
        ]
    mailed = 0
    for shop_id, slug, name, to in shops:
        with hub.db.transaction() as session:
            sent = set(session.scalars(select(AlertMail.key).where(AlertMail.shop_id == shop_id)))
        fresh = {key_of(a): a for a in alerts(hub, [shop_id]) if key_of(a) not in sent}
        if not fresh:
            continue
        message = EmailMessage()
        message["From"] = hub.config.mail_from
        message["To"] = to
        message["Subject"] = f"[{name or slug}] ALERTE / alert: {len(fresh)}"
        lines = [f"{_TITLES[a.kind]}: {a.detail} {a.payment}".rstrip() for a in fresh.values()]
        link = f"{hub.config.public_url.rstrip('/')}/backoffice/"
        message.set_content("\n".join([*lines, "", link]) + "\n")
        try:
            mail.send(hub.config, message)
        except OSError as exc:
            log.warning("alert mail to shop %s not sent, will try again: %s", slug, exc)
            continue
        with hub.db.transaction() as session:
            session.add_all(AlertMail(shop_id=shop_id, key=key, sent_at=hub.clock()) for key in fresh)
        mailed += len(fresh)
    return mailed
