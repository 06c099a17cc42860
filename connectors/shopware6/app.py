"""What the Bluepaid app in the shop sends the hub: signed payment calls and webhooks.

Shopware signs every request of an app with ``shopware-shop-signature``: the
lower-case hex HMAC-SHA256 of the raw body, keyed with the app's secret. Two
kinds reach the hub's webhook URL of the shop:

- the ``pay`` call of the app's payment method (asynchronous flow): the body
  holds ``source``, ``order`` and ``orderTransaction``; the hub answers
  ``{"redirectUrl": ...}``, its pay URL for the order with the order's
  ``deepLinkCode`` as proof, signed back with ``shopware-app-signature``;
- the ``finalize`` call, when a buyer comes back to the shop's ``returnUrl``
  (``source``, ``orderTransaction``, ``queryParameters``, no order): answered
  with no status, which leaves the payment as it is. A return is no proof of
  payment: the hub moves the payment through the Admin API once Bluepaid
  confirms it;
- the app's webhooks (``{"data": {"event": ..., "payload": ...}, "source": ...}``):
  an order cancelled or reopened in the admin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind, WebhookReply, WebhookRequest

SHOP_SIGNATURE = "shopware-shop-signature"
APP_SIGNATURE = "shopware-app-signature"

#: The order state events of the app's webhooks, and what they mean for the order's pay link.
_ORDER_EVENTS = {
    "state_enter.order.state.cancelled": (ShopChangeKind.CANCELLED, "cancelled in Shopware"),
    "state_enter.order.state.open": (ShopChangeKind.REOPENED, "reopened in Shopware"),
}


def signature(body: bytes, secret: str) -> str:
    """The signature Shopware (or the app, for an answer) sends for ``body`` with ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def is_signed_by(request: WebhookRequest, secret: str) -> bool:
    """Whether ``shopware-shop-signature`` is that of the raw body with ``secret``, compared
    in constant time; False without a secret or a signature."""
    given = request.header(SHOP_SIGNATURE).strip().lower()
    if not secret or not given:
        return False
    return hmac.compare_digest(given.encode("ascii", "replace"), signature(request.body, secret).encode())


def _decoded(request: WebhookRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def pay_call(request: WebhookRequest) -> tuple[str, str] | None:
    """The order number and ``deepLinkCode`` of a ``pay`` call; None for any other request."""
    data = _decoded(request) if request.method == "POST" else {}
    order, transaction = data.get("order"), data.get("orderTransaction")
    if not isinstance(order, dict) or not isinstance(transaction, dict):
        return None
    return str(order.get("orderNumber") or ""), str(order.get("deepLinkCode") or "")


def is_finalize_call(request: WebhookRequest) -> bool:
    """Whether ``request`` is the ``finalize`` call of the asynchronous payment flow."""
    data = _decoded(request) if request.method == "POST" else {}
    return isinstance(data.get("orderTransaction"), dict) and "order" not in data and "source" in data


def signed_reply(status: int, answer: Mapping[str, str], secret: str) -> WebhookReply:
    """A JSON answer to the app's call, signed with ``shopware-app-signature`` as Shopware
    checks it."""
    body = json.dumps(answer)
    headers = {APP_SIGNATURE: signature(body.encode("utf-8"), secret)} if secret else {}
    return WebhookReply(status, body, "application/json", headers)


def changes(request: WebhookRequest) -> Sequence[ShopChange]:
    """What an app webhook says changed for the hub; nothing for other events."""
    data = _decoded(request).get("data")
    if not isinstance(data, dict):
        return ()
    change = _ORDER_EVENTS.get(str(data.get("event") or ""))
    payload = data.get("payload")
    order = payload.get("order") if isinstance(payload, dict) else None
    number = order.get("orderNumber") if isinstance(order, dict) else None
    if change is None or not isinstance(number, str) or not number:
        return ()
    return (ShopChange(change[0], number, change[1]),)
