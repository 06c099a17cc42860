"""API tokens: scoped to one shop, kept as a SHA-256 digest, revocable.

A token is 32 random bytes: its digest cannot be turned back, and a digest needs
no slow hash (a slow hash protects guessable passwords, not random keys). The
token is shown once, when created; its first characters name it afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bluepaid_plugins.errors import NotFound
from hub.context import Hub
from hub.models import ApiToken, Shop

PREFIX = "bp_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    id: int
    shop: str
    name: str
    shown: str
    created_at: datetime
    revoked_at: datetime | None


def create(hub: Hub, shop_slug: str, name: str) -> tuple[TokenInfo, str]:
    """A new token for the shop: its record, and the token itself (shown once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    with hub.db.transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.slug == shop_slug))
        if shop is None:
            raise NotFound(f"no shop {shop_slug!r}")
        row = ApiToken(
            shop_id=shop.id, name=name[:64], digest=digest(token), shown=token[:10], created_at=hub.clock()
        )
        session.add(row)
        session.flush()
        return TokenInfo(row.id, shop.slug, row.name, row.shown, row.created_at, None), token


def revoke(hub: Hub, token_id: int, shop_id: int | None = None) -> None:
    """Revoke a token (of ``shop_id`` only, when given): it opens nothing from now on."""
    with hub.db.transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None or (shop_id is not None and row.shop_id != shop_id):
            raise NotFound(f"no API token {token_id}")
        row.revoked_at = row.revoked_at or hub.clock()


def list_tokens(hub: Hub, shop_id: int | None = None) -> list[TokenInfo]:
    """Every token (of ``shop_id`` only, when given), oldest first."""
    query = select(ApiToken, Shop.slug).join(Shop, ApiToken.shop_id == Shop.id).order_by(ApiToken.id)
    if shop_id is not None:
        query = query.where(ApiToken.shop_id == shop_id)
    with hub.db.transaction() as session:
        rows = session.execute(query)
        return [TokenInfo(t.id, slug, t.name, t.shown, t.created_at, t.revoked_at) for t, slug in rows]


def shop_of(hub: Hub, token: str) -> int | None:
    """The id of the shop a live token opens, or None."""
    with hub.db.transaction() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.digest == digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        return row.shop_id
