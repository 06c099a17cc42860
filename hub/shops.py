"""Creating and describing shops (merchant accounts served by this hub)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Any

from sqlalchemy import select

from bluepaid_plugins.errors import Problem, ValidationError
from hub.context import Hub
from hub.models import Shop
from hub.pay import confirmation_url, pay_url_template

#: The addresses the platform sent confirmations from (protocol document §3).
PLATFORM_ADDRESSES = ("193.33.47.34", "193.33.47.35", "193.33.47.39", "87.98.218.80")

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_ID_BOUTIQUE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def add_shop(
    hub: Hub,
    *,
    slug: str,
    id_boutique: str,
    name: str = "",
    connector: str = "payment_link",
    settings: dict[str, Any] | None = None,
    test_mode: bool = True,
    accept_test: bool | None = None,
    allowed_ips: list[str] | None = None,
    platform_url: str = "",
    redirect_method: str = "get",
    send_confirmation_url: bool = False,
    return_url: str = "",
    language: str = "FR",
    notify_email: str = "",
) -> Shop:
    """Validate and store a new shop; ValidationError lists every problem.

    ``send_confirmation_url`` puts the confirmation URL in every request
    (``url_retour_bo``), where the buyer can read it; leave it off and register
    the URL on the platform. ``accept_test`` defaults to ``test_mode``; ``allowed_ips`` to the platform's
    published addresses; ``platform_url`` to the hub's configured platform.
    """
    problems: list[Problem] = []
    if not _SLUG.match(slug):
        problems.append(Problem("shop", "lower-case letters, digits and '-', at most 64"))
    if not _ID_BOUTIQUE.match(id_boutique):
        problems.append(Problem("id_boutique", "1 to 32 letters, digits, '_' or '-'"))
    if redirect_method not in ("get", "post"):
        problems.append(Problem("redirect", "get or post"))
    if language not in ("FR", "EN", "DE", "ES", "IT", "NL", "PT"):
        problems.append(Problem("language", "one of FR EN DE ES IT NL PT"))
    for url_name, url in (("platform_url", platform_url), ("return_url", return_url)):
        if url and not url.startswith(("http://", "https://")):
            problems.append(Problem(url_name, "must start with http:// or https://"))
    ips = list(PLATFORM_ADDRESSES) if allowed_ips is None else allowed_ips
    for ip in ips:
        try:
            ipaddress.ip_network(ip, strict=False)
        except ValueError:
            problems.append(Problem("allow_ip", f"{ip!r} is not an IP address or network"))
    clean_settings: dict[str, Any] = {}
    try:
        clean_settings = hub.plugins.connector(connector).validate_settings(settings or {})
    except ValidationError as exc:
        problems += exc.problems
    except Exception as exc:
        # An unknown connector, or a partner's validate_settings that crashed:
        # either way the merchant reads it with the other problems.
        problems.append(Problem("connector", str(exc)))
    if problems:
        raise ValidationError(problems, "shop not created")
    with hub.db.transaction() as session:
        if session.scalar(select(Shop.id).where(Shop.slug == slug)):
            raise ValidationError(Problem("shop", f"a shop named {slug!r} already exists"))
        shop = Shop(
            slug=slug,
            name=name or slug,
            id_boutique=id_boutique,
            secret=secrets.token_urlsafe(32),
            confirm_token=secrets.token_urlsafe(24),
            test_mode=test_mode,
            accept_test=test_mode if accept_test is None else accept_test,
            allowed_ips=ips,
            connector=connector,
            connector_settings=clean_settings,
            platform_url=platform_url or hub.config.platform_url,
            redirect_method=redirect_method,
            send_confirmation_url=send_confirmation_url,
            return_url=return_url,
            language=language,
            notify_email=notify_email,
            created_at=hub.clock(),
        )
        session.add(shop)
    return shop


def shop_summary(hub: Hub, shop: Shop) -> dict[str, Any]:
    """What a merchant needs to know and register; secret settings are masked."""
    connector = hub.plugins.connectors.get(shop.connector)
    settings = connector.public_settings(shop.connector_settings) if connector else {}
    return {
        "shop": shop.slug,
        "name": shop.name,
        "id_boutique": shop.id_boutique,
        "confirmation_url": confirmation_url(hub, shop),
        "pay_url_template": pay_url_template(hub, shop),
        "test_mode": shop.test_mode,
        "accept_test": shop.accept_test,
        "allowed_ips": list(shop.allowed_ips),
        "connector": shop.connector,
        "connector_settings": settings,
        "platform_url": shop.platform_url,
        "redirect": shop.redirect_method,
        "send_confirmation_url": shop.send_confirmation_url,
        "return_url": shop.return_url,
        "language": shop.language,
    }


def list_shops(hub: Hub) -> list[Shop]:
    with hub.db.transaction() as session:
        return list(session.scalars(select(Shop).order_by(Shop.slug)))
