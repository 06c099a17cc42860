"""Webhooks from shops: store the raw request, let the connector verify and read it.

:func:`store` commits the request before anything else (as the confirmation
inbox does); :func:`process` checks the URL's token, lets the shop's connector
answer a handshake, refuses and records what it cannot verify, and applies
what a verified webhook says changed: an order the shop cancelled, deleted or
saw paid elsewhere is closed (its pay link stops working), a reopened one is
payable again.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bluepaid_plugins.connector import Capability, Connector
from bluepaid_plugins.errors import BluepaidError, PluginBug
from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind, WebhookReply, WebhookRequest
from hub.context import Hub
from hub.models import PAID_STATES, ClosedOrder, Payment, Shop, WebhookMessage
from hub.plugins import guarded
from hub.redaction import MASK, redact
from hub.shops import set_settings
from hub.urls import webhook_url

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
#: The longest query string kept (after masking); a server refuses longer request lines first.
MAX_QUERY = 2048

# Headers a webhook is verified with; cookies and credentials are not stored.
_SKIPPED_HEADERS = {"cookie", "authorization", "proxy-authorization"}
REDACTED = "[redacted]"

_CLOSING = {
    ShopChangeKind.CANCELLED,
    ShopChangeKind.PAID_ELSEWHERE,
    ShopChangeKind.DELETED,
    ShopChangeKind.REFUNDED,
}


class WebhookVerdict(StrEnum):
    ACCEPTED = "accepted"
    HANDSHAKE = "handshake"
    UNVERIFIED = "unverified"
    REJECTED = "rejected"
    ERROR = "error"


@dataclass(frozen=True)
class Answer:
    """What the hub answers the shop."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


def store(
    hub: Hub,
    *,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    remote_addr: str,
    shop_slug: str,
    query: str = "",
) -> int:
    """Commit the request and return its id. Nothing is checked yet; the URL's
    token is not kept (it is checked by :func:`process` while the request lasts),
    nor the values of the body fields the shop's connector names in
    ``webhook_secret_fields`` (see :func:`kept_body`), nor the values of the
    query string ``query`` (raw, without ``?``; see :func:`kept_query`)."""
    kept = {k.lower(): v[:2048] for k, v in headers.items() if k.lower() not in _SKIPPED_HEADERS}
    with hub.db.transaction() as session:
        connector = session.scalar(select(Shop.connector).where(Shop.slug == shop_slug))
        cls = hub.plugins.connectors.get(connector) if connector is not None else None
        row = WebhookMessage(
            received_at=hub.clock(),
            method=method[:16],
            headers=kept,
            body=kept_body(cls, body),
            query=kept_query(query),
            remote_addr=remote_addr[:64],
            shop_slug=shop_slug.replace("\x00", "")[:64],
            reason="",
        )
        session.add(row)
        session.flush()
        return row.id


def kept_body(cls: type[Connector] | None, body: bytes) -> bytes:
    """``body`` as the webhook inbox keeps it: with the values of ``cls.webhook_secret_fields``
    replaced by :data:`REDACTED` when it is a JSON object holding one, empty when it names
    one but cannot be read as a JSON object, else as received."""
    fields = cls.webhook_secret_fields if cls is not None else frozenset()
    if not fields or not any(name.encode("utf-8") in body for name in fields):
        return body
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return b""
    masked = {k: REDACTED if k in fields else v for k, v in data.items()}
    return json.dumps(masked, ensure_ascii=False).encode("utf-8")


def kept_query(query: str) -> str:
    """``query`` as the webhook inbox keeps it: each parameter's name with its value
    replaced by :data:`~hub.redaction.MASK` (``shop-id=***&timestamp=***``), a
    parameter without ``=`` masked whole, what :func:`~hub.redaction.redact` knows
    to be secret masked in the rest, NUL replaced, cut to :data:`MAX_QUERY`.

    Every value is masked, as :func:`~hub.redaction.redact` does in logs: a shop may
    send a credential under any name (a webhook URL given as ``...?secret=...``),
    and the hub cannot tell which. The names still tell what came (a Shopware
    registration, a probe). The price: a signature over the query (Shopware's
    registration) cannot be checked again from the row, as one over a masked body
    cannot; :func:`process` sees the query as received while the request lasts.
    Masked here rather than by :func:`~hub.redaction.redact` alone, which sees a
    query only after a path or a ``?`` and ends a value at a space.
    """
    parts = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        if equals:
            parts.append(f"{name}={MASK}" if value else part)
        else:
            parts.append(MASK if part else "")
    return redact("&".join(parts)).replace("\x00", "\ufffd")[:MAX_QUERY]


def process(
    hub: Hub, message_id: int, token: str, *, query: str | None = None, body: bytes | None = None
) -> Answer:
    """Check and apply one stored webhook request; the answer to send back.

    The request is read from its row; ``query`` (raw, without ``?``) and
    ``body``, the request's own while it lasts, replace the stored ones, which
    are masked (see :func:`kept_query` and :func:`kept_body`)."""
    with hub.db.transaction() as session:
        row = session.get(WebhookMessage, message_id, with_for_update=True)
        assert row is not None
        shop = session.scalar(select(Shop).where(Shop.slug == row.shop_slug))
        method, headers, remote_addr = row.method, dict(row.headers), row.remote_addr
        # One reading for every caller: whatever checks a row again without the request
        # (there is no such path yet: the URL's token is not kept either, and a shop sends
        # a failed webhook again) gets the masked query and body: a signature over them
        # fails, the connector refuses, nothing is acted on.
        received = row.body if body is None else body
        query = row.query if query is None else query
    cls = hub.plugins.connectors.get(shop.connector) if shop is not None else None
    if shop is None or not hmac.compare_digest(token.encode("utf-8", "replace"), shop.webhook_token.encode()):
        return _finish(hub, message_id, None, WebhookVerdict.REJECTED, "unknown shop or wrong token", 404)
    if cls is None or Capability.WEBHOOKS not in cls.capabilities:
        reason = f"connector {shop.connector} takes no webhooks"
        return _finish(hub, message_id, shop, WebhookVerdict.REJECTED, reason, 404)
    request = WebhookRequest(method, headers, received, remote_addr, query, webhook_url(hub, shop))
    changes: list[ShopChange] = []
    try:
        with hub.connector(shop) as connector, guarded(hub.plugins.owner(cls.id), "webhook"):
            reply = connector.handshake(request)
            if reply is None:
                if request.method != "POST":
                    reason = f"method {request.method} refused"
                    return _finish(hub, message_id, shop, WebhookVerdict.REJECTED, reason, 405)
                if not connector.verify_webhook(request):
                    reason = "signature missing or wrong"
                    return _finish(hub, message_id, shop, WebhookVerdict.UNVERIFIED, reason, 401)
                changes = list(connector.read_webhook(request))
                odd = [c for c in changes if not isinstance(c, ShopChange)]
                if odd:
                    raise TypeError(f"read_webhook() gave a {type(odd[0]).__name__}, not a ShopChange")
        if reply is not None and reply.settings:
            # What the shop handed over (credentials at an app's registration), kept as a
            # merchant's change would be: validated, the secret ones sealed; the shop hears
            # of success only once they are stored.
            set_settings(hub, shop.slug, reply.settings)
    except (BluepaidError, OSError) as exc:
        # A bug, one of our errors (a refused body, secrets the vault cannot open) or the
        # network: recorded, not lost; the shop sends the webhook again.
        detail = f"\n{exc.traceback}" if isinstance(exc, PluginBug) else ""
        reason = str(exc) if isinstance(exc, BluepaidError) else f"{type(exc).__name__}: {exc}"
        log.error("webhook %s of shop %s: %s%s", message_id, shop.slug, reason, detail)
        return _finish(hub, message_id, shop, WebhookVerdict.ERROR, reason[:1000], 500)
    if reply is not None:
        return _reply(hub, message_id, shop, reply)
    _apply(hub, shop, changes)
    summary = ", ".join(f"{c.kind.value} {c.order_ref}" for c in changes) or "nothing to change"
    return _finish(hub, message_id, shop, WebhookVerdict.ACCEPTED, summary[:1000], 200)


def _apply(hub: Hub, shop: Shop, changes: list[ShopChange]) -> None:
    now = hub.clock()
    with hub.db.transaction() as session:
        for change in changes:
            ref = change.order_ref[:64]
            if change.kind is ShopChangeKind.REOPENED:
                session.execute(
                    delete(ClosedOrder).where(ClosedOrder.shop_id == shop.id, ClosedOrder.order_ref == ref)
                )
                # Open again: a payment of it is a payment to keep, not one to refund.
                for payment in _unpaid_payments(session, shop, ref):
                    payment.flags = [f for f in payment.flags if f != "order_closed"]
                continue
            if change.kind not in _CLOSING:
                continue
            closed = session.scalar(
                select(ClosedOrder)
                .where(ClosedOrder.shop_id == shop.id, ClosedOrder.order_ref == ref)
                .with_for_update()
            )
            if closed is None:
                session.add(
                    ClosedOrder(
                        shop_id=shop.id,
                        order_ref=ref,
                        kind=change.kind.value,
                        note=change.note,
                        closed_at=now,
                    )
                )
            for payment in _unpaid_payments(session, shop, ref):
                payment.flag("order_closed")
            if change.kind is ShopChangeKind.REFUNDED:
                _refunded_in_shop(session, shop, ref)


def _refunded_in_shop(session: Session, shop: Shop, order_ref: str) -> None:
    """Flag the payments of ``order_ref`` that took money Bluepaid still holds: the shop
    refunded the order in its own admin, which gives the buyer nothing back at Bluepaid."""
    payments = session.scalars(
        select(Payment).where(Payment.shop_id == shop.id, Payment.order_ref == order_ref).with_for_update()
    )
    for payment in payments:
        if payment.state in PAID_STATES and payment.refunded_minor < payment.paid_minor:
            payment.flag("refunded_in_shop")
            log.warning(
                "order %s of shop %s was refunded in the shop; payment %s still holds %s %s at Bluepaid: "
                "refund it there if the buyer is to be paid back",
                order_ref,
                shop.slug,
                payment.public_id,
                payment.paid - payment.refunded,
                payment.currency,
            )


def _unpaid_payments(session: Session, shop: Shop, order_ref: str) -> list[Payment]:
    """The payments of ``order_ref`` that have not paid it, locked."""
    payments = session.scalars(
        select(Payment).where(Payment.shop_id == shop.id, Payment.order_ref == order_ref).with_for_update()
    )
    return [payment for payment in payments if payment.state not in PAID_STATES]


def refuse(hub: Hub, message_id: int, reason: str, status: int) -> Answer:
    """Record a request refused before it could be read (too large) and answer ``status``."""
    return _finish(hub, message_id, None, WebhookVerdict.REJECTED, reason, status)


def _reply(hub: Hub, message_id: int, shop: Shop, reply: WebhookReply) -> Answer:
    _finish(hub, message_id, shop, WebhookVerdict.HANDSHAKE, f"answered {reply.status}", reply.status)
    return Answer(reply.status, reply.body, reply.content_type, dict(reply.headers))


def _finish(
    hub: Hub, message_id: int, shop: Shop | None, verdict: WebhookVerdict, reason: str, status: int
) -> Answer:
    with hub.db.transaction() as session:
        row = session.get(WebhookMessage, message_id, with_for_update=True)
        assert row is not None
        row.shop_id = shop.id if shop is not None else None
        # A reason may quote an error holding a URL with its keys (a shop's API unreachable).
        row.verdict, row.reason, row.processed_at = verdict.value, redact(reason), hub.clock()
    if verdict is not WebhookVerdict.ACCEPTED:
        log.info("webhook %s: %s (%s)", message_id, verdict.value, reason)
    return Answer(status, "OK" if status == 200 else verdict.value)


def is_closed(hub: Hub, shop_id: int, order_ref: str) -> bool:
    """Whether the shop closed ``order_ref`` (a webhook said cancelled, deleted, paid elsewhere)."""
    with hub.db.transaction() as session:
        found = session.scalar(
            select(ClosedOrder.id).where(ClosedOrder.shop_id == shop_id, ClosedOrder.order_ref == order_ref)
        )
    return found is not None
