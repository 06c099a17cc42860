"""The hub's own URLs for one shop: what the merchant registers, what buyers open."""

from __future__ import annotations

from bluepaid_plugins import paylink
from hub.context import Hub
from hub.models import Shop


def return_urls(hub: Hub, shop: Shop, payment_id: str) -> tuple[str, str]:
    """The browser returns (``url_retour_ok``, ``url_retour_stop``) of one payment."""
    base = f"{hub.config.public_url}/return/{shop.slug}/{payment_id}"
    return f"{base}/ok", f"{base}/stop"


def confirmation_url(hub: Hub, shop: Shop) -> str:
    """The URL to register as the shop's confirmation URL (it carries the secret token)."""
    return f"{hub.config.public_url}/confirm/{shop.slug}/{shop.confirm_token}"


def webhook_url(hub: Hub, shop: Shop) -> str:
    """The URL to give the shop for its webhooks (it carries the secret token)."""
    return f"{hub.config.public_url}/webhooks/{shop.slug}/{shop.webhook_token}"


def pay_url_template(hub: Hub, shop: Shop) -> str:
    """The link a shop's checkout sends the buyer to: ``{order_ref}`` and ``{key}``
    (the order's proof) are filled in by the shop."""
    return paylink.pay_url_template(hub.config.public_url, shop.slug)
