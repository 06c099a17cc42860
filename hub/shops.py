"""Creating, changing and describing shops (merchant accounts served by this hub)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bluepaid_plugins.connector import Capability, Connector
from bluepaid_plugins.domain import StatusEvent
from bluepaid_plugins.errors import NotFound, Problem, ShopUnavailable, ValidationError
from bluepaid_plugins.protocol.fields import language as language_rule
from bluepaid_plugins.protocol.fields import merchant_id
from bluepaid_plugins.settings import Secret
from hub.context import Hub, status_mapping_of
from hub.models import AuditEntry, Shop
from hub.plugins import guarded
from hub.redaction import redact
from hub.registry import mapping_problems
from hub.urls import confirmation_url, pay_url_template, webhook_url

#: The addresses the platform sent confirmations from (protocol document §3).
PLATFORM_ADDRESSES = ("193.33.47.34", "193.33.47.35", "193.33.47.39", "87.98.218.80")

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def add_shop(
    hub: Hub,
    *,
    slug: str,
    id_boutique: str,
    name: str = "",
    connector: str = "payment_link",
    settings: Mapping[str, Any] | None = None,
    status_mapping: Mapping[str, str] | None = None,
    test_mode: bool = True,
    accept_test: bool | None = None,
    allowed_ips: list[str] | None = None,
    platform_url: str = "",
    redirect_method: str = "get",
    send_confirmation_url: bool = False,
    return_url: str = "",
    language: str = "FR",
    notify_email: str = "",
    proxy_url: str = "",
    check: bool = False,
    on_checked: Callable[[str], None] | None = None,
) -> Shop:
    """Validate and store a new shop; ValidationError lists every problem.

    With ``check``, the connector first calls the shop with the settings
    (:meth:`~bluepaid_plugins.connector.Connector.check_connection`), and its
    error, saying what to fix, stops the creation; ``on_checked`` gets what it
    found when it passes (the shop software's version, its currency...).

    ``settings`` are the connector's (secret ones are sealed by the vault);
    ``status_mapping`` the merchant's changes to the connector's default
    mapping (event name to shop status, empty: leave the status alone).
    ``send_confirmation_url`` puts the confirmation URL in every request
    (``url_retour_bo``), where the buyer can read it; leave it off and register
    the URL on the platform. ``accept_test`` defaults to ``test_mode``;
    ``allowed_ips`` to the platform's published addresses; ``platform_url`` to
    the hub's configured platform. ``proxy_url`` is the HTTP proxy the
    connector's calls to the shop go through (empty: none, whatever the
    environment's proxy variables say).
    """
    problems: list[Problem] = []
    if not _SLUG.match(slug):
        problems.append(Problem("shop", "lower-case letters, digits and '-', at most 64"))
    for field, rule, value in (
        ("id_boutique", merchant_id, id_boutique),
        ("language", language_rule, language),
    ):
        found = rule(value)
        if found:
            problems.append(Problem(field, found))
    if redirect_method not in ("get", "post"):
        problems.append(Problem("redirect", "get or post"))
    for url_name, url in (("platform_url", platform_url), ("return_url", return_url)):
        if url and not url.startswith(("http://", "https://")):
            problems.append(Problem(url_name, "must start with http:// or https://"))
    problems += proxy_problems(proxy_url)
    ips = list(PLATFORM_ADDRESSES) if allowed_ips is None else allowed_ips
    for ip in ips:
        try:
            ipaddress.ip_network(ip, strict=False)
        except ValueError:
            problems.append(Problem("allow_ip", f"{ip!r} is not an IP address or network"))
    clean_settings: dict[str, Any] = {}
    mapping: dict[str, str | None] = {}
    try:
        cls = hub.plugins.connector(connector)
    except Exception as exc:
        problems.append(Problem("connector", str(exc)))
    else:
        try:
            with guarded(hub.plugins.owner(cls.id), "validate_settings"):
                clean_settings = cls.validate_settings(settings or {})
        except ValidationError as exc:
            problems += exc.problems
        except Exception as exc:
            # A partner's validate_settings that crashed: the merchant reads it with the rest.
            problems.append(Problem("connector", str(exc)))
        try:
            mapping = checked_mapping(cls, status_mapping or {})
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems, "shop not created")
    plain, sealed = _split_secrets(hub, clean_settings)
    with hub.db.transaction() as session:
        if session.scalar(select(Shop.id).where(Shop.slug == slug)):
            raise ValidationError(Problem("shop", f"a shop named {slug!r} already exists"))
    shop = Shop(
        slug=slug,
        name=name or slug,
        id_boutique=id_boutique,
        secret=secrets.token_urlsafe(32),
        confirm_token=secrets.token_urlsafe(24),
        webhook_token=secrets.token_urlsafe(24),
        test_mode=test_mode,
        accept_test=test_mode if accept_test is None else accept_test,
        allowed_ips=ips,
        connector=connector,
        connector_settings=plain,
        connector_secrets=sealed,
        status_mapping=mapping,
        platform_url=platform_url or hub.config.platform_url,
        redirect_method=redirect_method,
        send_confirmation_url=send_confirmation_url,
        return_url=return_url,
        language=language,
        notify_email=notify_email,
        proxy_url=proxy_url,
        created_at=hub.clock(),
    )
    if check:
        with hub.connector(shop) as instance, guarded(hub.plugins.owner(connector), "check_connection"):
            found = instance.check_connection()
        if on_checked is not None:
            on_checked(found)
    try:
        with hub.db.transaction() as session:
            session.add(shop)
    except IntegrityError:
        # Another process created it between our check and our insert.
        raise ValidationError(Problem("shop", f"a shop named {slug!r} already exists")) from None
    return shop


def set_settings(hub: Hub, slug: str, changes: Mapping[str, Any]) -> Shop:
    """Change some connector settings of a shop (the others are kept); ValidationError
    lists every problem and changes nothing. An empty value removes an optional setting."""
    with hub.db.transaction() as session:
        shop = _locked(session, slug)
        cls = hub.plugins.connector(shop.connector)
        current = {**shop.connector_settings, **hub.vault.open(shop.connector_secrets, f"shop {slug!r}")}
        with guarded(hub.plugins.owner(cls.id), "validate_settings"):
            clean = cls.validate_settings({**current, **changes})
        refuse_if_locked(hub, shop, sorted(k for k in {*clean, *current} if clean.get(k) != current.get(k)))
        shop.connector_settings, shop.connector_secrets = _split_secrets(hub, clean)
        return shop


def set_proxy(hub: Hub, slug: str, proxy_url: str) -> Shop:
    """Make the connector's calls to the shop go through ``proxy_url`` (empty: no
    proxy); ValidationError for a URL that is not a proxy's."""
    problems = proxy_problems(proxy_url)
    if problems:
        raise ValidationError(problems, "proxy not changed")
    with hub.db.transaction() as session:
        shop = _locked(session, slug)
        refuse_if_locked(hub, shop, ["proxy_url"] if proxy_url != shop.proxy_url else [])
        shop.proxy_url = proxy_url
        return shop


def proxy_problems(proxy_url: str) -> list[Problem]:
    """What is wrong with ``proxy_url`` as a proxy's URL (empty: no proxy, nothing wrong)."""
    if not proxy_url:
        return []
    try:
        parts = urlsplit(proxy_url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        usable = False
    if usable and parts.path in ("", "/") and not parts.query and not parts.fragment:
        return []
    return [Problem("proxy", "an http:// or https:// proxy URL, such as http://proxy.internal:3128")]


def set_status_mapping(hub: Hub, slug: str, changes: Mapping[str, str], reset: bool = False) -> Shop:
    """Change the shop's status mapping: ``changes`` maps event names to shop statuses
    (empty: leave the status alone); ``reset`` first goes back to the connector's defaults."""
    with hub.db.transaction() as session:
        shop = _locked(session, slug)
        cls = hub.plugins.connector(shop.connector)
        current = {} if reset else dict(shop.status_mapping or {})
        mapping = {**current, **checked_mapping(cls, changes)}
        before = effective_mapping(cls, shop)
        shop.status_mapping = mapping
        refuse_if_locked(
            hub, shop, [e for e, status in effective_mapping(cls, shop).items() if status != before[e]]
        )
        return shop


def effective_mapping(cls: type[Connector], shop: Shop) -> dict[str, str | None]:
    """The mapping the connector uses for ``shop``: its defaults with the merchant's changes."""
    merged: dict[StatusEvent, str | None] = {**cls.default_status_mapping, **status_mapping_of(shop)}
    return {event.value: merged.get(event) for event in StatusEvent}


def checked_mapping(cls: type[Connector], changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """``changes`` (event name to shop status, empty or None: leave it alone) if the
    connector knows every event and status; ValidationError otherwise."""
    clean: dict[str, str | None] = {}
    problems: list[Problem] = []
    for event, status in changes.items():
        value = (status or "").strip() or None
        found = mapping_problems(cls, {event: value}, "status mapping")
        problems += [Problem(event, text.split(": ", 1)[1]) for text in found]
        if not found:
            clean[event] = value
    if problems:
        raise ValidationError(problems, f"status mapping of connector {cls.id}")
    return clean


def check_connection(hub: Hub, slug: str) -> str:
    """Ask the shop's connector to call the shop once; its one-line finding.
    Raises the connector's errors (they say what to fix)."""
    shop = get_shop(hub, slug)
    try:
        with hub.connector(shop) as connector, guarded(hub.plugins.owner(shop.connector), "check_connection"):
            return connector.check_connection()
    except ShopUnavailable as exc:
        # Nothing retries a check: the merchant runs it again once the shop answers.
        said = str(exc).removesuffix("; will retry").split("; will retry (", 1)[0]
        raise ShopUnavailable(
            f"{said}; run the check again once it answers", exc.retry_after, status=exc.status
        ) from None


def rotate_secrets(hub: Hub) -> int:
    """Seal every shop's connector secrets again with the newest key; how many shops."""
    count = 0
    with hub.db.transaction() as session:
        for shop in session.scalars(select(Shop).where(Shop.connector_secrets != "").with_for_update()):
            shop.connector_secrets = hub.vault.rotate(shop.connector_secrets, f"shop {shop.slug!r}")
            count += 1
    return count


def shop_summary(hub: Hub, shop: Shop) -> dict[str, Any]:
    """What a merchant needs to know and register; secret settings and a proxy's password are masked."""
    cls = hub.plugins.connectors.get(shop.connector)
    settings: dict[str, Any] = dict(shop.connector_settings)
    if cls is not None:
        names = [f.name for f in cls.settings_schema if f.secret]
        sealed = set(names) if shop.connector_secrets else set()
        settings.update({name: "********" for name in names if name in sealed})
        settings = cls.public_settings(settings)
    summary: dict[str, Any] = {
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
        "status_mapping": effective_mapping(cls, shop) if cls else dict(shop.status_mapping),
        "platform_url": shop.platform_url,
        "redirect": shop.redirect_method,
        "send_confirmation_url": shop.send_confirmation_url,
        "return_url": shop.return_url,
        "language": shop.language,
    }
    if shop.proxy_url:
        # A proxy's URL may carry its password.
        summary["proxy"] = redact(shop.proxy_url)
    if cls is not None and Capability.WEBHOOKS in cls.capabilities:
        summary["webhook_url"] = webhook_url(hub, shop)
    return summary


def list_shops(hub: Hub) -> list[Shop]:
    with hub.db.transaction() as session:
        return list(session.scalars(select(Shop).order_by(Shop.slug)))


def get_shop(hub: Hub, slug: str) -> Shop:
    """The shop ``slug``; NotFound if there is none."""
    with hub.db.transaction() as session:
        shop = session.scalar(select(Shop).where(Shop.slug == slug))
    if shop is None:
        raise NotFound(f"no shop {slug!r}")
    return shop


#: How long an owner's unlock of a production shop's payment settings lasts.
UNLOCK_FOR = timedelta(hours=1)


def settings_locked(shop: Shop, now: datetime) -> bool:
    """Whether ``shop``'s payment settings are locked at ``now``: in production, not unlocked.

    The payment settings are everything that changes how its payments flow, as the
    platform's merchant area locked them (FAQ 28): the connector's settings, the
    status mapping, the proxy, the return URL, GET/POST and the allowed addresses.
    Every writer of them (CLI, back office) goes through a function of this module
    that refuses a change while they are locked.
    """
    return not shop.test_mode and (shop.unlocked_until is None or shop.unlocked_until <= now)


def refuse_if_locked(hub: Hub, shop: Shop, changed: list[str]) -> None:
    """ValidationError naming each of ``changed`` if there are any and ``shop``'s
    payment settings are locked; nothing otherwise (saving unchanged values is fine)."""
    if changed and settings_locked(shop, hub.clock()):
        raise ValidationError(
            [Problem(name, "locked in production: unlock the settings first") for name in changed],
            f"shop {shop.slug!r} not changed",
        )


def unlock_settings(hub: Hub, slug: str, actor: str, reason: str) -> Shop:
    """Unlock ``slug``'s payment settings for :data:`UNLOCK_FOR`; ``reason`` is
    required and recorded in the shop's audit log with ``actor``."""
    reason = reason.strip()
    if not reason:
        raise ValidationError([Problem("reason", "say why the settings are unlocked")], "not unlocked")
    now = hub.clock()
    with hub.db.transaction() as session:
        shop = _locked(session, slug)
        shop.unlocked_until = now + UNLOCK_FOR
        session.add(
            AuditEntry(shop_id=shop.id, actor=actor, action="unlock_settings", detail=reason[:1000], at=now)
        )
        return shop


def _locked(session: Session, slug: str) -> Shop:
    shop: Shop | None = session.scalar(select(Shop).where(Shop.slug == slug).with_for_update())
    if shop is None:
        raise NotFound(f"no shop {slug!r}")
    return shop


def _split_secrets(hub: Hub, settings: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Clear settings for the JSON column, and the secret ones sealed in one token."""
    plain = {k: v for k, v in settings.items() if not isinstance(v, Secret)}
    return plain, hub.vault.seal({k: v for k, v in settings.items() if isinstance(v, Secret)})
