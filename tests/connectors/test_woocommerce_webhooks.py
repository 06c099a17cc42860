"""WooCommerce webhooks: signatures with vectors computed here, the creation ping, what a
delivery tells the hub, and the same through the hub's webhook URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from bluepaid_plugins.connector import ConnectorContext
from bluepaid_plugins.http import shop_session
from bluepaid_plugins.webhooks import ShopChange, ShopChangeKind, WebhookRequest
from connectors.woocommerce import WooCommerceConnector
from hub.webhooks import is_closed
from tests.connectors.woocommerce_shop import (
    BASE_URL,
    EXAMPLES,
    SETTINGS,
    WEBHOOK_SECRET,
    NoOrders,
    WooShop,
    signed_headers,
)

ORDER_BODY = (EXAMPLES / "woocommerce-order.json").read_bytes()


def vector(body: bytes, secret: str) -> str:
    """The signature as WooCommerce computes it: base64 of the raw HMAC-SHA256 digest."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def request(body: bytes, headers: dict[str, str] | None = None, method: str = "POST") -> WebhookRequest:
    return WebhookRequest(method, {k.lower(): v for k, v in (headers or {}).items()}, body)


@pytest.fixture
def connector() -> Iterator[WooCommerceConnector]:
    with shop_session() as http:
        context = ConnectorContext(shop="woo", http=http, orders=NoOrders())
        yield WooCommerceConnector(WooCommerceConnector.validate_settings(SETTINGS), context)


def test_a_written_down_vector_is_verified() -> None:
    # Computed once with Python's hmac and base64 and written down here.
    body, secret = b'{"id":727}', "s3cret"
    signature = "hJQ2uH/LJ/qsyUTCTT1X/SZxhIjBLKtnXn97aOK1oWc="
    assert vector(body, secret) == signature
    settings = WooCommerceConnector.validate_settings({**SETTINGS, "webhook_secret": secret})
    with shop_session() as http:
        connector = WooCommerceConnector(settings, ConnectorContext(shop="woo", http=http, orders=NoOrders()))
        assert connector.verify_webhook(request(body, {"X-WC-Webhook-Signature": signature}))


def test_a_delivery_signed_with_the_secret_is_verified(connector: WooCommerceConnector) -> None:
    headers = {
        "X-WC-Webhook-Signature": vector(ORDER_BODY, WEBHOOK_SECRET),
        "X-WC-Webhook-Topic": "order.updated",
    }
    assert connector.verify_webhook(request(ORDER_BODY, headers))


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(vector(ORDER_BODY, "another-secret"), id="other secret"),
        pytest.param(vector(ORDER_BODY + b"\n", WEBHOOK_SECRET), id="other body"),
        pytest.param(hmac.new(WEBHOOK_SECRET.encode(), ORDER_BODY, hashlib.sha256).hexdigest(), id="hex"),
        pytest.param("", id="empty"),
        pytest.param("é" * 44, id="not ascii"),
    ],
)
def test_a_wrong_signature_is_refused(connector: WooCommerceConnector, signature: str) -> None:
    assert not connector.verify_webhook(request(ORDER_BODY, {"X-WC-Webhook-Signature": signature}))


def test_a_delivery_without_signature_is_refused(connector: WooCommerceConnector) -> None:
    assert not connector.verify_webhook(request(ORDER_BODY, {"X-WC-Webhook-Topic": "order.updated"}))


def test_the_signature_covers_the_raw_body_not_its_json(connector: WooCommerceConnector) -> None:
    reserialised = json.dumps(json.loads(ORDER_BODY), separators=(",", ":")).encode()
    assert reserialised != ORDER_BODY
    headers = {"X-WC-Webhook-Signature": vector(ORDER_BODY, WEBHOOK_SECRET)}
    assert not connector.verify_webhook(request(reserialised, headers))


def test_without_a_webhook_secret_every_delivery_is_refused() -> None:
    settings = WooCommerceConnector.validate_settings({**SETTINGS, "webhook_secret": ""})
    with shop_session() as http:
        connector = WooCommerceConnector(settings, ConnectorContext(shop="woo", http=http, orders=NoOrders()))
        headers = {"X-WC-Webhook-Signature": vector(ORDER_BODY, "")}
        assert not connector.verify_webhook(request(ORDER_BODY, headers))


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", ""])
def test_the_creation_ping_is_answered_200(connector: WooCommerceConnector, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = connector.handshake(request(b"webhook_id=12", headers))
    assert reply is not None and reply.status == 200


@pytest.mark.parametrize("body", [b"webhook_id=", b"webhook_id=12&x=1", ORDER_BODY, b""])
def test_anything_else_is_no_ping(connector: WooCommerceConnector, body: bytes) -> None:
    assert connector.handshake(request(body)) is None
    assert connector.handshake(request(b"webhook_id=12", method="GET")) is None


def _delivery(status: str, topic: str = "order.updated") -> WebhookRequest:
    body = json.dumps({**json.loads(ORDER_BODY), "status": status}).encode()
    return request(body, signed_headers(body, topic))


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("cancelled", ShopChangeKind.CANCELLED),
        ("refunded", ShopChangeKind.REFUNDED),
        ("processing", ShopChangeKind.PAID_ELSEWHERE),
        ("completed", ShopChangeKind.PAID_ELSEWHERE),
        ("trash", ShopChangeKind.DELETED),
        ("pending", ShopChangeKind.REOPENED),
        ("failed", ShopChangeKind.REOPENED),
    ],
)
def test_an_order_update_says_what_changed(
    connector: WooCommerceConnector, status: str, kind: ShopChangeKind
) -> None:
    [change] = connector.read_webhook(_delivery(status))
    assert (change.kind, change.order_ref) == (kind, "727")
    assert "WooCommerce" in change.note


def test_an_order_refunded_by_the_hubs_own_refunds_is_not_flagged_for_checking(
    connector: WooCommerceConnector,
) -> None:
    data = {**json.loads(ORDER_BODY), "status": "refunded"}
    data["refunds"] = [{"id": 9, "reason": "Bluepaid refund BP000000000102 (event e1)", "total": "-29.35"}]
    body = json.dumps(data).encode()
    [change] = connector.read_webhook(request(body, signed_headers(body)))
    assert (change.kind, change.note) == (ShopChangeKind.CANCELLED, "refunded at Bluepaid")


def test_an_order_on_hold_changes_nothing(connector: WooCommerceConnector) -> None:
    assert connector.read_webhook(_delivery("on-hold")) == ()


def test_a_deleted_order_is_deleted(connector: WooCommerceConnector) -> None:
    body = b'{"id":727}'
    changes = connector.read_webhook(request(body, signed_headers(body, "order.deleted")))
    assert changes == (ShopChange(ShopChangeKind.DELETED, "727", "deleted in WooCommerce"),)


@pytest.mark.parametrize(
    ("body", "topic"),
    [
        (ORDER_BODY, "product.updated"),
        (b"not json", "order.updated"),
        (b'{"id":"7/2"}', "order.updated"),
        (b"[]", "order.updated"),
    ],
)
def test_other_deliveries_change_nothing(connector: WooCommerceConnector, body: bytes, topic: str) -> None:
    assert connector.read_webhook(request(body, signed_headers(body, topic))) == ()


# Through the hub's webhook URL


def test_the_hub_answers_the_ping_and_closes_a_cancelled_order(bluepaid_make_kit: Any) -> None:
    shops: list[WooShop] = []
    kit = bluepaid_make_kit(
        WooCommerceConnector,
        settings=SETTINGS,
        shop_url=BASE_URL,
        install=lambda api: shops.append(WooShop(api)),
    )
    path = f"/webhooks/kit/{kit.shop.webhook_token}"
    ping = kit.driver.client.post(
        path, data=b"webhook_id=12", content_type="application/x-www-form-urlencoded"
    )
    assert (ping.status_code, ping.text) == (200, "OK")
    body = json.dumps({**json.loads(ORDER_BODY), "id": 4401, "status": "cancelled"}).encode()
    forged = kit.driver.client.post(
        path, data=body, headers={**signed_headers(body), "X-WC-Webhook-Signature": vector(body, "guess")}
    )
    assert forged.status_code == 401
    signed = kit.driver.client.post(path, data=body, headers=signed_headers(body))
    assert signed.status_code == 200
    assert is_closed(kit.hub, kit.shop.id, "4401")
