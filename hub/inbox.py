"""Confirmations: store every request raw, then authenticate it.

:func:`store` commits the raw request before anything else, so nothing the
platform sent is ever lost. :func:`process` then runs the authenticity checks
of the protocol document (§3): POST, shop, URL token, source address, a
readable body, ``id_boutique``, ``divers``; an authentic message goes to
:func:`hub.apply.apply_confirmation` in the same transaction. Processing an
inbox row twice is harmless: a row that has a verdict is left alone, and a
payment event is unique per payment.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluepaid_plugins.errors import ConfirmationError
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, check_divers, parse_confirmation
from hub.apply import Result, apply_confirmation, finish
from hub.context import Hub
from hub.models import (
    InboxMessage,
    Payment,
    Shop,
    Verdict,
)
from hub.redaction import redact, token_digest

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024

# Headers worth keeping for an audit; cookies and credentials are not stored.
_KEPT_HEADERS = {"content-type", "content-length", "user-agent", "x-forwarded-for", "host", "referer"}


def store(
    hub: Hub,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    remote_addr: str,
    shop_slug: str,
    url_token: str,
) -> int:
    """Commit the raw request to the inbox and return its id. Nothing is checked yet.

    The URL's token is kept as its digest (:func:`hub.redaction.token_digest`),
    enough to check it later; the path and the headers are kept with their
    secrets masked.
    """
    values = raw_values(
        hub,
        method=method,
        path=path,
        headers=headers,
        body=body,
        remote_addr=remote_addr,
        shop_slug=shop_slug,
        url_token=url_token,
    )
    with hub.db.transaction() as session:
        row = InboxMessage(**values)
        session.add(row)
        session.flush()
        return row.id


def raw_values(
    hub: Hub,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    remote_addr: str,
    shop_slug: str,
    url_token: str,
) -> dict[str, Any]:
    """The columns :func:`store` writes for one request (secrets masked, sizes cut),
    for every writer of raw requests (:mod:`hub.hotpath` too)."""
    return {
        "received_at": hub.clock(),
        "method": _storable(method, 16),
        "path": _storable(redact(path), 512),
        "headers": {k: _storable(redact(v), 512) for k, v in headers.items() if k.lower() in _KEPT_HEADERS},
        # One byte past the limit is kept: it says the body was cut (see _process).
        "body": body[: MAX_BODY + 1],
        "remote_addr": _storable(remote_addr, 64),
        "shop_slug": _storable(shop_slug, 64),
        "url_token_digest": token_digest(url_token),
        "reason": "",
    }


def _storable(text: str, limit: int) -> str:
    """``text`` cut to ``limit``, NUL replaced: PostgreSQL text refuses NUL, and
    anyone can put ``%00`` in a URL."""
    return text.replace("\x00", "\ufffd")[:limit]


def process(hub: Hub, inbox_id: int) -> Result:
    """Check and apply one stored request; idempotent."""
    try:
        with hub.db.transaction() as session:
            return _process(hub, session, inbox_id)
    except IntegrityError:
        # Another process applied the same confirmation between our check and our insert.
        with hub.db.transaction() as session:
            row = session.get(InboxMessage, inbox_id, with_for_update=True)
            assert row is not None
            return finish(hub, row, Verdict.DUPLICATE, "already applied")


def process_pending(hub: Hub) -> int:
    """Process every stored request that has no verdict yet (after a crash); return how many."""
    return process_unfinished(hub, older_than=timedelta(0))


def process_unfinished(hub: Hub, older_than: timedelta) -> int:
    """Process stored requests without a verdict received at least ``older_than``
    ago; return how many. Safe while other processes handle the same rows."""
    cutoff = hub.clock() - older_than
    with hub.db.transaction() as session:
        ids = session.scalars(
            select(InboxMessage.id)
            .where(InboxMessage.processed_at.is_(None), InboxMessage.received_at <= cutoff)
            .order_by(InboxMessage.id)
        ).all()
    for inbox_id in ids:
        process(hub, inbox_id)
    if ids:
        log.info("processed %d stored confirmation(s) left without a verdict", len(ids))
    return len(ids)


def _process(hub: Hub, session: Session, inbox_id: int) -> Result:
    row = session.get(InboxMessage, inbox_id, with_for_update=True)
    assert row is not None
    if row.verdict is not None:
        return Result(row.id, Verdict(row.verdict), row.reason)

    def reject(reason: str, status: int = 403) -> Result:
        return finish(hub, row, Verdict.REJECTED, reason, status)

    if row.method != "POST":
        return reject(f"method {row.method} refused: the platform confirms with POST", 405)
    if len(row.body) > MAX_BODY:
        # Never read a cut body: its deciding fields may lie past the cut.
        return reject(f"body over {MAX_BODY} bytes: refused, not read", 413)
    shop = session.scalar(select(Shop).where(Shop.slug == row.shop_slug))
    if shop is None:
        return reject(f"unknown shop {row.shop_slug!r}", 404)
    row.shop_id = shop.id
    keys = ShopKeys(shop.id_boutique, shop.confirm_token, list(shop.allowed_ips))
    fields = form_fields(row.body, content_type(row.headers))
    checked = authenticate(keys, row.url_token_digest, row.remote_addr, fields)
    if isinstance(checked, Refusal):
        return reject(checked.reason, checked.status)
    conf = checked
    payment, siblings = _payment_of_divers(session, shop, conf)
    if payment is None:
        return reject("divers does not match any payment of this order")
    row.payment_id = payment.id
    return apply_confirmation(hub, session, row, shop, payment, siblings, conf)


@dataclass(frozen=True)
class ShopKeys:
    """What the authenticity checks need of a shop."""

    id_boutique: str
    confirm_token: str
    allowed_ips: list[str]


@dataclass(frozen=True)
class Refusal:
    """Why a stored request is no authentic confirmation, and the status to answer."""

    reason: str
    status: int = 403


def authenticate(
    shop: ShopKeys, url_token_digest: str, remote_addr: str, fields: list[tuple[str, str]]
) -> Confirmation | Refusal:
    """The checks of a POST of acceptable size to ``shop``'s URL that need no
    payment, in this order: the URL token (by digest, constant time), the source
    address, a readable confirmation (``fields``: its body's, by
    :func:`form_fields`), ``id_boutique``. Pure: no I/O, so callers may run it
    before they take any lock."""
    if not hmac.compare_digest(url_token_digest.encode(), token_digest(shop.confirm_token).encode()):
        return Refusal("url token does not match the shop's confirmation URL", 404)
    if not ip_allowed(remote_addr, shop.allowed_ips):
        return Refusal(f"source address {remote_addr} is not in the shop's allowed list")
    try:
        conf = parse_confirmation(fields)
    except ConfirmationError as exc:
        return Refusal(f"malformed confirmation: {exc}"[:1000], 400)
    if conf.id_boutique != shop.id_boutique:
        return Refusal(f"id_boutique {conf.id_boutique!r} is not this shop's")
    return conf


def divers_owner(
    conf: Confirmation, secret: str, id_boutique: str, candidates: Sequence[tuple[str, Money, str]]
) -> int | None:
    """The index among ``candidates`` (order ref, amount, public id: the payments of
    ``conf``'s order, oldest first) of the payment whose ``divers`` this is. Pure:
    these columns never change, so the HMACs may be computed before any lock."""
    for index, (order_ref, amount, public_id) in enumerate(candidates):
        if check_divers(conf.divers, secret, id_boutique, order_ref, amount, public_id):
            return index
    return None


def _payment_of_divers(
    session: Session, shop: Shop, conf: Confirmation
) -> tuple[Payment | None, list[Payment]]:
    """The payment whose ``divers`` this is, and every payment of the same order.

    All of the order's payments are locked: confirmations about one order are
    applied one after the other, so "is another payment of it already paid?"
    has one answer at a time.
    """
    candidates = list(
        session.scalars(
            select(Payment)
            .where(Payment.shop_id == shop.id, Payment.order_ref == conf.id_client)
            .order_by(Payment.id)
            .with_for_update()
        )
    )
    keys = [(candidate.order_ref, candidate.amount, candidate.public_id) for candidate in candidates]
    index = divers_owner(conf, shop.secret, shop.id_boutique, keys)
    return (None if index is None else candidates[index]), candidates


def form_fields(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """The fields of a form body, in the charset it declares, or else UTF-8, or else
    ISO-8859-1: an old PHP platform sends Latin-1 bytes (``é`` as 0xE9), raw or
    percent-encoded, without saying so."""
    declared = ""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "charset":
            declared = value.strip().strip('"').lower()
    for charset in dict.fromkeys(c for c in (declared, "utf-8", "iso-8859-1") if c):
        try:
            text = body.decode(charset)
            return parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict")
        except (LookupError, UnicodeDecodeError):
            continue
    raise AssertionError("ISO-8859-1 decodes any bytes")  # pragma: no cover


def content_type(headers: Mapping[str, str]) -> str:
    """The Content-Type of a request, whatever the case of the header's name."""
    return next((v for k, v in headers.items() if k.lower() == "content-type"), "")


def ip_allowed(address: str, allowed: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A server bound to [::] sees IPv4 clients as ::ffff:a.b.c.d.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allowed)
