"""WooCommerce's webhooks: the creation ping, the signature, what an order webhook says.

WooCommerce signs each delivery with ``X-WC-Webhook-Signature``: the base64
HMAC-SHA256 of the raw body, keyed with the webhook's secret. When a webhook is
created or re-activated it first POSTs ``webhook_id=<id>`` as form data,
unsigned, and keeps the webhook only if the answer is 200. A delivery's body
is the resource as the REST API would give it (the order), except for
``order.deleted``, whose body is ``{"id": <id>}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Sequence

from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind, WebhookRequest
from connectors.woocommerce.orders import REFUND_REASON, refund_reasons

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"

_PING = re.compile(rb"webhook_id=[0-9]{1,20}")

# What a status the merchant set in the shop means for the order's pay link. A
# refund made in WooCommerce's admin with "Refund manually" moves no money at
# Bluepaid: the order is closed and the note says so, for the merchant to check.
_CHANGES = {
    "cancelled": (ShopChangeKind.CANCELLED, "cancelled in WooCommerce"),
    "refunded": (ShopChangeKind.REFUNDED, "refunded in WooCommerce (check the refund at Bluepaid)"),
    "processing": (ShopChangeKind.PAID_ELSEWHERE, "paid in WooCommerce"),
    "completed": (ShopChangeKind.PAID_ELSEWHERE, "completed in WooCommerce"),
    "trash": (ShopChangeKind.DELETED, "moved to the trash in WooCommerce"),
    "pending": (ShopChangeKind.REOPENED, "pending payment again in WooCommerce"),
    "failed": (ShopChangeKind.REOPENED, "failed in WooCommerce, payable again"),
}


def signature(body: bytes, secret: str) -> str:
    """The signature WooCommerce sends for ``body`` with ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def is_ping(request: WebhookRequest) -> bool:
    """Whether ``request`` is the unsigned ping of a webhook being created.

    The body alone decides: WordPress sends it without a Content-Type with some
    HTTP transports, and nothing in it is trusted (a ping changes nothing).
    """
    return request.method == "POST" and _PING.fullmatch(request.body.strip()) is not None


def is_signed_by(request: WebhookRequest, secret: str) -> bool:
    """Whether the request's signature is that of its raw body with ``secret``, compared
    in constant time; False without a secret or a signature."""
    given = request.header(SIGNATURE_HEADER).strip()
    if not secret or not given:
        return False
    return hmac.compare_digest(given.encode("ascii", "replace"), signature(request.body, secret).encode())


def changes(request: WebhookRequest) -> Sequence[ShopChange]:
    """What an order webhook says changed for the hub; nothing for other topics.

    ``order.deleted`` deletes the order; ``order.updated`` (and ``order.created``,
    for an order made in the admin) says what its status means for its pay link.
    """
    topic = request.header(TOPIC_HEADER).strip().lower()
    if not topic.startswith("order."):
        return ()
    try:
        data = json.loads(request.body)
    except ValueError:
        return ()
    ref = data.get("id") if isinstance(data, dict) else None
    if isinstance(ref, bool) or not isinstance(ref, int | str) or not str(ref).isdigit():
        return ()
    if topic == "order.deleted":
        return (ShopChange(ShopChangeKind.DELETED, str(ref), "deleted in WooCommerce"),)
    status = str(data.get("status", ""))
    change = _CHANGES.get(status)
    if change is None:
        return ()
    reasons = refund_reasons(data)
    if status == "refunded" and reasons and all(r.startswith(REFUND_REASON) for r in reasons):
        # The hub's own refunds made it "refunded": nothing to check at Bluepaid.
        return (ShopChange(ShopChangeKind.CANCELLED, str(ref), "refunded at Bluepaid"),)
    return (ShopChange(change[0], str(ref), change[1]),)
