"""The go-live check ("doctor"): what must hold before a shop takes real payments.

``bluepaid doctor SHOP`` and the back office's go-live page run it; switching a
shop to production from the back office requires every check to pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from sqlalchemy import String, cast, select

from bluepaid_plugins.errors import BluepaidError
from hub.context import Hub
from hub.models import PAID_STATES, AuditEntry, Payment, Shop
from hub.shops import check_connection, get_shop
from hub.urls import confirmation_url

#: Posts an empty form to a URL and returns the HTTP status (raises OSError when nothing answers).
Poster = Callable[[str], int]
MIN_SECRET = 16


def post_over_http(url: str) -> int:
    """The hub's own confirmation URL, posted to from here as the platform would."""
    # Not a shop call (bluepaid_plugins.http refuses private addresses): the hub's own URL.
    return requests.post(url, data={}, timeout=10, allow_redirects=False).status_code


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def doctor(hub: Hub, slug: str, post: Poster | None = None) -> list[Check]:
    """Every go-live check of the shop, each with what to fix when it fails; ``post``
    reaches the confirmation URL (by default over HTTP, :func:`post_over_http`)."""
    post = post or post_over_http
    shop = get_shop(hub, slug)
    url = confirmation_url(hub, shop)
    checks = []
    try:
        status = post(url)
        # An empty POST is refused (no fields, or not from the platform's address):
        # any HTTP answer from the hub proves the URL reaches it.
        checks.append(Check("confirmation_url", True, f"answered HTTP {status}"))
    except (OSError, requests.RequestException) as exc:
        # The error names the URL, whose token is secret: say what failed, and where, only.
        detail = (
            f"no answer from the confirmation URL at {urlsplit(url).netloc} ({type(exc).__name__}): "
            "check BLUEPAID_PUBLIC_URL and that the hub is reachable there"
        )
        checks.append(Check("confirmation_url", False, detail))
    checks.append(
        Check(
            "secrets",
            len(shop.secret) >= MIN_SECRET and len(shop.confirm_token) >= MIN_SECRET,
            "the shop secret and the confirmation URL's token are set",
        )
    )
    checks.append(
        Check(
            "allowed_ips",
            bool(shop.allowed_ips),
            ", ".join(shop.allowed_ips) if shop.allowed_ips else "no allowed address: add the platform's",
        )
    )
    return_ok = shop.return_url.startswith(("https://", "http://"))
    checks.append(
        Check(
            "return_url", return_ok, shop.return_url or "no return URL: buyers would not find the shop again"
        )
    )
    try:
        checks.append(Check("credentials", True, check_connection(hub, slug)))
    except (BluepaidError, OSError) as exc:
        checks.append(Check("credentials", False, str(exc)))
    checks.append(_test_payments(hub, shop))
    return checks


def _test_payments(hub: Hub, shop: Shop) -> Check:
    """Test payments switched off, or one paid: the merchant saw the setup work."""
    if not shop.accept_test:
        return Check("test_payments", True, "test payments are refused")
    with hub.db.transaction() as session:
        paid = session.scalar(
            select(Payment.id)
            .where(
                Payment.shop_id == shop.id,
                Payment.state.in_(PAID_STATES),
                cast(Payment.flags, String).like('%"test"%'),
            )
            .limit(1)
        )
    if paid is None:
        return Check("test_payments", False, "pay once with a test card (or refuse test payments) first")
    return Check("test_payments", True, "a test payment went through")


def go_live(hub: Hub, slug: str, actor: str, post: Poster | None = None) -> list[Check]:
    """Switch the shop to production if every check passes (recorded); the checks."""
    checks = doctor(hub, slug, post)
    if all(c.ok for c in checks):
        with hub.db.transaction() as session:
            shop = session.scalar(select(Shop).where(Shop.slug == slug).with_for_update())
            assert shop is not None
            shop.test_mode = False
            session.add(AuditEntry(shop_id=shop.id, actor=actor, action="go_live", at=hub.clock()))
    return checks
