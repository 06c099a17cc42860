"""The Shopware app's calls to the hub: signatures checked with Shopware's own vectors,
the ``pay`` call of the payment method answered with the hub's pay URL, and the
app's webhooks, each also through the hub's webhook URL of the shop."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

import connectors.shopware6
from bluepaid_plugins.connector import ConnectorContext
from bluepaid_plugins.domain import OrderStatus
from bluepaid_plugins.http import shop_session
from bluepaid_plugins.money import Money
from bluepaid_plugins.webhooks import ShopChangeKind, WebhookRequest
from connectors.shopware6 import ShopwareConnector
from connectors.shopware6.app import APP_SIGNATURE, SHOP_SIGNATURE, signature
from connectors.shopware6.orders import ASSOCIATIONS
from connectors.shopware6.transitions import DESTINATIONS, TRANSITIONS
from hub.testing.conformance import GivenOrder
from hub.testing.kit import Kit
from hub.webhooks import is_closed
from tests.connectors.shopware_shop import BASE_URL, EXAMPLES, SETTINGS, SHOP_SECRET, ShopwareShop
from tests.connectors.woocommerce_shop import NoOrders

VECTORS = json.loads((EXAMPLES / "shopware-webhook-signature-vectors.json").read_text("utf-8"))["cases"]
POST_VECTOR = next(case for case in VECTORS if case.get("header") == SHOP_SIGNATURE)
PAY_BODY = (EXAMPLES / "shopware-app-payment-pay.json").read_bytes()
MANIFEST = Path(connectors.shopware6.__file__).parent / "app" / "BluepaidPayment" / "manifest.xml"
PRODUCT_WRITTEN = (EXAMPLES / "shopware-webhook-product-written.json").read_bytes()
ORDER = (EXAMPLES / "shopware-order.json").read_bytes()


def request(body: bytes, headers: dict[str, str] | None = None, method: str = "POST") -> WebhookRequest:
    return WebhookRequest(method, {k.lower(): v for k, v in (headers or {}).items()}, body)


@pytest.fixture
def make_connector() -> Iterator[Any]:
    with shop_session() as http:

        def make(secret: str = SHOP_SECRET) -> ShopwareConnector:
            settings = ShopwareConnector.validate_settings({**SETTINGS, "shop_secret": secret})

            def pay_url(order_ref: str, proof: str = "") -> str:
                return f"https://hub.example/pay/sw/{order_ref}?key={proof}"

            context = ConnectorContext(shop="sw", http=http, orders=NoOrders(), pay_url=pay_url)
            return ShopwareConnector(settings, context)

        yield make


# Signatures, with the vectors of Shopware's own app SDK


def test_shopwares_vector_is_computed_alike() -> None:
    body, secret = POST_VECTOR["signed_data"].encode(), POST_VECTOR["secret"]
    assert signature(body, secret) == POST_VECTOR["signature"]


def test_shopwares_vector_is_verified(make_connector: Any) -> None:
    connector = make_connector(POST_VECTOR["secret"])
    signed = {SHOP_SIGNATURE: POST_VECTOR["signature"]}
    assert connector.verify_webhook(request(POST_VECTOR["signed_data"].encode(), signed))


def test_a_wrong_signature_is_refused(make_connector: Any) -> None:
    connector = make_connector(POST_VECTOR["secret"])
    wrong = POST_VECTOR["signature"][:-1] + ("0" if POST_VECTOR["signature"][-1] != "0" else "1")
    assert not connector.verify_webhook(request(POST_VECTOR["signed_data"].encode(), {SHOP_SIGNATURE: wrong}))


def test_a_missing_signature_is_refused(make_connector: Any) -> None:
    connector = make_connector(POST_VECTOR["secret"])
    assert not connector.verify_webhook(request(POST_VECTOR["signed_data"].encode()))


def test_another_secret_is_refused(make_connector: Any) -> None:
    connector = make_connector("not-" + POST_VECTOR["secret"])
    signed = {SHOP_SIGNATURE: POST_VECTOR["signature"]}
    assert not connector.verify_webhook(request(POST_VECTOR["signed_data"].encode(), signed))


def test_a_re_serialised_body_is_refused(make_connector: Any) -> None:
    # The same JSON, decoded and encoded again: other bytes, so not what was signed.
    connector = make_connector()
    signed = {SHOP_SIGNATURE: signature(PRODUCT_WRITTEN, SHOP_SECRET)}
    assert connector.verify_webhook(request(PRODUCT_WRITTEN, signed))
    again = json.dumps(json.loads(PRODUCT_WRITTEN)).encode()
    assert again != PRODUCT_WRITTEN
    assert not connector.verify_webhook(request(again, signed))


def test_before_a_registration_every_webhook_is_refused(make_connector: Any) -> None:
    connector = ShopwareConnector(
        ShopwareConnector.validate_settings({k: v for k, v in SETTINGS.items() if k != "shop_secret"}),
        make_connector().context,
    )
    assert not connector.verify_webhook(request(b"body", {SHOP_SIGNATURE: signature(b"body", "")}))


# The pay call


def test_the_published_pay_call_is_answered_with_the_pay_url_signed_back(make_connector: Any) -> None:
    connector = make_connector()
    reply = connector.handshake(request(PAY_BODY, {SHOP_SIGNATURE: signature(PAY_BODY, SHOP_SECRET)}))
    assert reply is not None and reply.status == 200
    assert reply.content_type == "application/json"
    assert json.loads(reply.body) == {
        "redirectUrl": "https://hub.example/pay/sw/10077?key=bSMFEC_9bc6HYjzgpnXfCFP3mKAPeK7S"
    }
    assert reply.headers[APP_SIGNATURE] == signature(reply.body.encode(), SHOP_SECRET)


def test_an_unsigned_pay_call_sends_nobody_anywhere(make_connector: Any) -> None:
    reply = make_connector().handshake(request(PAY_BODY))
    assert reply is not None and reply.status == 401
    assert "redirectUrl" not in reply.body


def finalize_body(state: str | None) -> bytes:
    """What Shopware sends when the buyer comes back to its returnUrl: no order, the
    transaction (in ``state``; None: without its state)."""
    body = json.loads(PAY_BODY)
    del body["order"]
    body["queryParameters"] = {}
    if state is None:
        del body["orderTransaction"]["stateMachineState"]
    else:
        body["orderTransaction"]["stateMachineState"]["technicalName"] = state
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("state", "status"),
    [
        # Waiting for Bluepaid's confirmation: "process_unconfirmed" again is no change.
        ("unconfirmed", "process_unconfirmed"),
        ("open", "reopen"),
        # The hub already wrote what Bluepaid confirmed: said again, it changes nothing.
        ("paid", "paid"),
        ("failed", "fail"),
        ("cancelled", "cancel"),
        # Unknown or unsaid: the payment awaits its confirmation.
        ("a_plugins_own_state", "process_unconfirmed"),
        (None, "process_unconfirmed"),
    ],
)
def test_a_finalize_call_is_answered_with_the_status_that_changes_nothing(
    make_connector: Any, state: str | None, status: str
) -> None:
    # Never without a status: Shopware before 6.6.2 reads that as "paid", a return as proof.
    raw = finalize_body(state)
    reply = make_connector().handshake(request(raw, {SHOP_SIGNATURE: signature(raw, SHOP_SECRET)}))
    assert reply is not None and (reply.status, json.loads(reply.body)) == (200, {"status": status})
    assert reply.headers[APP_SIGNATURE] == signature(reply.body.encode(), SHOP_SECRET)
    if state in TRANSITIONS:
        # Shopware's state machine applies it as no transition at all.
        assert DESTINATIONS[status] == state


def test_an_unsigned_finalize_call_is_refused(make_connector: Any) -> None:
    unsigned = make_connector().handshake(request(finalize_body("unconfirmed")))
    assert unsigned is not None and unsigned.status == 401


def test_a_webhook_is_no_pay_call(make_connector: Any) -> None:
    signed = {SHOP_SIGNATURE: signature(PRODUCT_WRITTEN, SHOP_SECRET)}
    assert make_connector().handshake(request(PRODUCT_WRITTEN, signed)) is None


# Webhooks


def test_the_published_product_webhook_changes_nothing(make_connector: Any) -> None:
    assert make_connector().read_webhook(request(PRODUCT_WRITTEN)) == ()


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("state_enter.order.state.cancelled", ShopChangeKind.CANCELLED),
        ("state_enter.order.state.open", ShopChangeKind.REOPENED),
    ],
)
def test_an_order_state_webhook_tells_the_hub(make_connector: Any, event: str, kind: ShopChangeKind) -> None:
    body = json.loads(PRODUCT_WRITTEN)
    # A state event's payload is its data, the whole order (OrderStateMachineStateChangeEvent).
    body["data"] = {"payload": {"order": json.loads(ORDER)}, "event": event}
    changes = make_connector().read_webhook(request(json.dumps(body).encode()))
    assert [(c.kind, c.order_ref) for c in changes] == [(kind, "10077")]


# Through the hub


@pytest.fixture
def hub_and_shop(bluepaid_make_kit: Any) -> tuple[Kit, ShopwareShop]:
    shops: list[ShopwareShop] = []
    kit: Kit = bluepaid_make_kit(
        ShopwareConnector,
        settings=SETTINGS,
        shop_url=BASE_URL,
        install=lambda api: shops.append(ShopwareShop(api)),
    )
    return kit, shops[0]


def test_the_pay_call_through_the_hub_leads_the_buyer_to_the_platform(
    hub_and_shop: tuple[Kit, ShopwareShop],
) -> None:
    kit, shop = hub_and_shop
    proof = shop.add(GivenOrder("10077", Money.parse("395.01", "EUR"), OrderStatus.OPEN))
    body = json.loads(PAY_BODY)
    body["order"]["deepLinkCode"] = proof
    raw = json.dumps(body).encode()
    path = f"/webhooks/kit/{kit.shop.webhook_token}"
    answer = kit.driver.client.post(path, data=raw, headers={SHOP_SIGNATURE: signature(raw, SHOP_SECRET)})
    assert answer.status_code == 200
    assert answer.headers[APP_SIGNATURE] == signature(answer.data, SHOP_SECRET)
    url = urlsplit(answer.json["redirectUrl"])
    assert url.path == "/pay/kit/10077" and parse_qs(url.query)["key"] == [proof]
    opened = kit.driver.open_pay("10077", proof)
    assert opened.status_code in (200, 302)
    assert len(kit.driver.payments_of("10077")) == 1


def test_a_pay_call_signed_with_another_secret_is_refused_by_the_hub(
    hub_and_shop: tuple[Kit, ShopwareShop],
) -> None:
    kit, _shop = hub_and_shop
    path = f"/webhooks/kit/{kit.shop.webhook_token}"
    answer = kit.driver.client.post(path, data=PAY_BODY, headers={SHOP_SIGNATURE: signature(PAY_BODY, "x")})
    assert answer.status_code == 401
    assert "redirectUrl" not in answer.text


def test_a_cancel_webhook_through_the_hub_closes_the_order(hub_and_shop: tuple[Kit, ShopwareShop]) -> None:
    kit, shop = hub_and_shop
    shop.add(GivenOrder("10078", Money.parse("36.60", "EUR")))
    headers, body = shop.webhook("10078", "state_enter.order.state.cancelled")
    answer = kit.driver.client.post(f"/webhooks/kit/{kit.shop.webhook_token}", data=body, headers=headers)
    assert answer.status_code == 200
    assert is_closed(kit.hub, kit.shop.id, "10078")


# The app's manifest


def test_the_shopware_manifest_declares_an_asynchronous_payment_method() -> None:
    root = ET.parse(MANIFEST).getroot()
    assert root.findtext("meta/name") == "BluepaidPayment"
    method = root.find("payments/payment-method")
    assert method is not None and method.findtext("identifier") == "bluepaid"
    # A finalize URL makes it asynchronous: Shopware sends the buyer where the pay answer says.
    assert method.findtext("pay-url") == method.findtext("finalize-url") == "HUB_WEBHOOK_URL"
    events = {hook.get("event") for hook in root.iter("webhook")}
    assert events == {"state_enter.order.state.cancelled", "state_enter.order.state.open"}
    fields = [field.get("name") for field in root.iter("text-area")]
    assert fields == ["bluepaid_notes"]


def test_the_manifest_is_valid_against_shopwares_own_schema() -> None:
    schema = etree.XMLSchema(etree.parse(EXAMPLES / "manifest-2.0.xsd"))
    assert schema.validate(etree.parse(MANIFEST)), schema.error_log


#: The entity behind each association the order search embeds (shopware/shopware
#: OrderDefinition, LanguageDefinition, OrderAddressDefinition, OrderDeliveryDefinition).
ENTITY_OF = {
    "currency": "currency",
    "language": "language",
    "locale": "locale",
    "lineItems": "order_line_item",
    "orderCustomer": "order_customer",
    "stateMachineState": "state_machine_state",
    "transactions": "order_transaction",
    "billingAddress": "order_address",
    "country": "country",
    "deliveries": "order_delivery",
    "shippingOrderAddress": "order_address",
}


def _embedded(associations: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for name, nested in associations.items():
        found |= {ENTITY_OF[name]} | _embedded(nested.get("associations", {}))
    return found


def test_the_manifest_asks_exactly_the_permissions_the_connector_uses() -> None:
    root = ET.parse(MANIFEST).getroot()
    asked = {(grant.tag, grant.text) for grant in root.iterfind("permissions/*")}
    # Shopware's AclCriteriaValidator wants read on the order and on every embedded entity;
    # the note is an update of the order, a transition one of the transaction.
    needed = {("read", entity) for entity in {"order", *_embedded(ASSOCIATIONS)}}
    needed |= {("update", "order"), ("update", "order_transaction")}
    assert asked == needed
