"""A shop's settings in the back office: the payment settings, the connector's
settings (a form made from its typed schema; secrets write-only) and the status
mapping. In production the payment settings (return URL, redirect method,
allowed addresses: what the platform's merchant area locked, FAQ 28) are locked
until an owner unlocks them, with a reason, for :data:`hub.shops.UNLOCK_FOR`;
recorded. The connector's settings and the mapping are locked too, by :mod:`hub.shops`
(so the command line obeys the same lock).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from bluepaid_plugins.errors import Problem, ValidationError
from bluepaid_plugins.protocol.fields import LANGUAGES
from hub.context import Hub
from hub.models import AuditEntry, Shop
from hub.shops import (
    effective_mapping,
    refuse_if_locked,
    set_settings,
    set_status_mapping,
    settings_locked,
    unlock_settings,
)

#: The payment settings of the form itself a shop in production keeps locked;
#: the connector's settings and the mapping are locked by :mod:`hub.shops`.
LOCKED = ("return_url", "redirect_method", "allowed_ips")


def locked(hub: Hub, shop: Shop) -> bool:
    """Whether the shop's payment settings are locked now (in production, not unlocked)."""
    return settings_locked(shop, hub.clock())


def unlock(hub: Hub, slug: str, actor: str, reason: str) -> None:
    """Unlock the payment settings for :data:`hub.shops.UNLOCK_FOR`; the reason is required and recorded."""
    unlock_settings(hub, slug, actor, reason)


def form_values(hub: Hub, shop: Shop) -> dict[str, Any]:
    """What the form shows: public settings as they are, secrets never (only whether set)."""
    secrets = hub.vault.open(shop.connector_secrets, f"shop {shop.slug!r}")
    cls = hub.plugins.connector(shop.connector)
    return {
        "settings": {
            f.name: shop.connector_settings.get(f.name, "") for f in cls.settings_schema if not f.secret
        },
        "secrets_set": {f.name for f in cls.settings_schema if f.secret and secrets.get(f.name)},
        "mapping": effective_mapping(cls, shop),
        "statuses": dict(cls.statuses),
        "languages": LANGUAGES,
    }


def _ips(text: str) -> list[str]:
    found = [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]
    for value in found:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ValidationError(
                [Problem("allowed_ips", f"{value!r} is not an address")], "not saved"
            ) from exc
    return found


def save(hub: Hub, shop_id: int, form: Mapping[str, str], actor: str) -> list[str]:
    """Save the form; return the names of what changed. ValidationError (nothing
    saved) for a bad value, or for a locked payment setting that would change."""
    with hub.db.transaction() as session:
        shop = session.get(Shop, shop_id)
        assert shop is not None
        session.expunge(shop)
    # A field the form did not send keeps its value: only what was sent changes.
    payment = {
        "return_url": form.get("return_url", shop.return_url).strip(),
        "redirect_method": form.get("redirect_method", shop.redirect_method),
        "allowed_ips": _ips(form["allowed_ips"]) if "allowed_ips" in form else list(shop.allowed_ips),
    }
    language = form.get("language", shop.language)
    if language not in LANGUAGES:
        raise ValidationError([Problem("language", f"one of {', '.join(LANGUAGES)}")], "not saved")
    if payment["redirect_method"] not in ("get", "post"):
        raise ValidationError([Problem("redirect_method", "get or post")], "not saved")
    url = str(payment["return_url"])
    if url and not url.startswith(("https://", "http://")):
        raise ValidationError([Problem("return_url", "an http(s) URL")], "not saved")
    changed = [name for name in LOCKED if payment[name] != getattr(shop, name)]
    refuse_if_locked(hub, shop, changed)
    cls = hub.plugins.connector(shop.connector)
    # A secret left empty keeps its value: the form never shows it, so empty means "unchanged".
    connector: dict[str, Any] = {
        f.name: form.get(f"setting_{f.name}", "")
        for f in cls.settings_schema
        if not (f.secret and not form.get(f"setting_{f.name}"))
    }
    if any(f.type == "bool" for f in cls.settings_schema):
        connector.update(
            {f.name: form.get(f"setting_{f.name}") == "yes" for f in cls.settings_schema if f.type == "bool"}
        )
    if connector:
        set_settings(hub, shop.slug, connector)
    mapping = {
        event: form[f"mapping_{event}"]
        for event in effective_mapping(cls, shop)
        if f"mapping_{event}" in form
    }
    if mapping:
        set_status_mapping(hub, shop.slug, mapping)
    with hub.db.transaction() as session:
        row = session.scalar(select(Shop).where(Shop.id == shop_id).with_for_update())
        assert row is not None
        row.return_url = url
        row.redirect_method = str(payment["redirect_method"])
        row.allowed_ips = list(payment["allowed_ips"])
        row.notify_email = form.get("notify_email", row.notify_email).strip()
        row.language = language
        session.add(
            AuditEntry(
                shop_id=shop_id,
                actor=actor,
                action="settings",
                detail=", ".join(changed + sorted(connector) + sorted(mapping)),
                at=hub.clock(),
            )
        )
    return changed
