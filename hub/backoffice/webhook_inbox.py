"""The webhook inbox as the back office shows it: the latest requests that reached a
shop's webhook URL, what they asked and what the hub answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hub.context import Hub
from hub.models import WebhookMessage
from hub.redaction import redact

#: How many requests a page shows, newest first.
SHOWN = 100


@dataclass(frozen=True)
class WebhookLine:
    """One stored request, its texts masked for a page."""

    received_at: datetime
    method: str
    query: str
    remote_addr: str
    verdict: str
    reason: str


def latest(hub: Hub, shop_slug: str, limit: int = SHOWN) -> list[WebhookLine]:
    """The ``limit`` latest requests stored for ``shop_slug``, newest first, those refused
    for a wrong token included (a probe, a shop with an old URL).

    The query is stored with its values masked (:func:`hub.webhooks.kept_query`);
    the reason is redacted again, for the rows stored before reasons were."""
    with hub.db.transaction() as session:
        rows = session.scalars(
            select(WebhookMessage)
            .where(WebhookMessage.shop_slug == shop_slug)
            .order_by(WebhookMessage.id.desc())
            .limit(limit)
        ).all()
        return [
            WebhookLine(
                received_at=row.received_at,
                method=row.method,
                query=row.query,
                remote_addr=row.remote_addr,
                verdict=row.verdict or "",
                reason=redact(row.reason),
            )
            for row in rows
        ]
