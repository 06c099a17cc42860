"""The Shopware app's registration: the signed GET checked with the app SDK's own vector,
the proof and shop secret answered, the confirmation's credentials kept sealed (never in
clear in the database), used for the Admin API, and replaced by a re-registration."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from sqlalchemy import select

import connectors.shopware6
from bluepaid_plugins.connector import ConnectorContext
from bluepaid_plugins.domain import OrderStatus
from bluepaid_plugins.http import shop_session
from bluepaid_plugins.money import Money
from bluepaid_plugins.webhooks import WebhookReply, WebhookRequest
from connectors.shopware6 import ShopwareConnector
from connectors.shopware6.app import APP_SIGNATURE, PREVIOUS_SHOP_SIGNATURE, SHOP_SIGNATURE, signature
from hub import webhooks
from hub.models import Shop, WebhookMessage
from hub.shops import set_settings
from hub.testing.conformance import GivenOrder
from hub.testing.kit import PUBLIC_URL, Kit
from hub.webhooks import REDACTED
from tests.connectors.shopware_shop import APP_SECRET, BASE_URL, EXAMPLES, SHOP_SECRET, ShopwareShop
from tests.connectors.woocommerce_shop import NoOrders

VECTORS = json.loads((EXAMPLES / "shopware-webhook-signature-vectors.json").read_text("utf-8"))["cases"]
#: The app SDK's registration vector (RequestVerifierTest::testAuthenticateRegistrationRequestValid).
GET_VECTOR = next(case for case in VECTORS if case.get("header") == APP_SIGNATURE)
MANIFEST = Path(connectors.shopware6.__file__).parent / "app" / "BluepaidPayment" / "manifest.xml"
PAY_BODY = (EXAMPLES / "shopware-app-payment-pay.json").read_bytes()
WEBHOOK_URL = "https://hub.example/webhooks/sw/t0k3n"
# What Shopware makes for the app's integration: an access key ID and a secret access key.
API_KEY = "SWIAQZDHWXPQBLHYUG5FBG1QNQ"
SECRET_KEY = "UWpWTG9wY2Y3ekZkZXQ0TmhzYmFqdEp6bkV6bDFwZkJmQXdUVDE"


def hmac_hex(message: str, secret: str) -> str:
    """The HMAC as the SDK computes it (``hash_hmac('sha256', ...)``), written independently."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def registration(query: str, headers: dict[str, str] | None = None, url: str = WEBHOOK_URL) -> WebhookRequest:
    return WebhookRequest("GET", {k.lower(): v for k, v in (headers or {}).items()}, b"", "", query, url)


def confirmation_body(api_key: str = API_KEY, secret_key: str = SECRET_KEY) -> bytes:
    body = {
        "apiKey": api_key,
        "secretKey": secret_key,
        "timestamp": "1733580000",
        "shopUrl": "https://my-shop.com",
        "shopId": "123",
    }
    return json.dumps(body).encode()


@pytest.fixture
def make_connector() -> Iterator[Any]:
    with shop_session() as http:

        def make(**settings: str) -> ShopwareConnector:
            raw = {"base_url": BASE_URL, "app_secret": GET_VECTOR["secret"], **settings}
            context = ConnectorContext(shop="sw", http=http, orders=NoOrders())
            return ShopwareConnector(ShopwareConnector.validate_settings(raw), context)

        yield make


def registered(reply: WebhookReply | None) -> dict[str, Any]:
    assert reply is not None and reply.status == 200, reply
    assert reply.content_type == "application/json"
    answer: dict[str, Any] = json.loads(reply.body)
    return answer


# The registration GET


def test_the_sdk_registration_vector_is_accepted_and_answered(make_connector: Any) -> None:
    query = urlsplit(GET_VECTOR["request_url"]).query
    assert query == GET_VECTOR["signed_data"]
    reply = make_connector().handshake(registration(query, {APP_SIGNATURE: GET_VECTOR["signature"]}))
    answer = registered(reply)
    assert set(answer) == {"proof", "secret", "confirmation_url"}
    assert answer["proof"] == hmac_hex(
        "123" + "https://my-shop.com" + "BluepaidPayment", GET_VECTOR["secret"]
    )
    assert answer["confirmation_url"] == WEBHOOK_URL
    assert len(answer["secret"]) >= 32
    # The new secret waits for the confirmation; nothing else changes yet.
    assert reply is not None and dict(reply.settings) == {"pending_shop_secret": answer["secret"]}


def test_each_registration_hands_out_a_new_secret(make_connector: Any) -> None:
    request = registration(GET_VECTOR["signed_data"], {APP_SIGNATURE: GET_VECTOR["signature"]})
    first = registered(make_connector().handshake(request))["secret"]
    assert registered(make_connector().handshake(request))["secret"] != first


def test_the_signature_is_over_the_decoded_parameters_as_the_sdk_checks_it(make_connector: Any) -> None:
    # The same parameters percent-encoded in the URL: the SDK decodes them, then checks.
    encoded = f"shop-id=123&shop-url={quote('https://my-shop.com', safe='')}&timestamp=1234567890"
    reply = make_connector().handshake(registration(encoded, {APP_SIGNATURE: GET_VECTOR["signature"]}))
    assert registered(reply)["proof"]


@pytest.mark.parametrize(
    ("query", "given"),
    [
        # Wrong: one character of the signature changed.
        (GET_VECTOR["signed_data"], GET_VECTOR["signature"][:-1] + "0"),
        # A parameter changed after signing.
        ("shop-id=123&shop-url=https://evil.example&timestamp=1234567890", GET_VECTOR["signature"]),
        # Re-serialised: a signature over the encoded form is not Shopware's.
        (
            GET_VECTOR["signed_data"],
            hmac_hex(
                f"shop-id=123&shop-url={quote('https://my-shop.com', safe='')}&timestamp=1234567890",
                GET_VECTOR["secret"],
            ),
        ),
        # Signed with the shop secret instead of the app secret.
        (GET_VECTOR["signed_data"], hmac_hex(GET_VECTOR["signed_data"], SHOP_SECRET)),
    ],
)
def test_a_wrongly_signed_registration_is_refused(make_connector: Any, query: str, given: str) -> None:
    reply = make_connector().handshake(registration(query, {APP_SIGNATURE: given}))
    assert reply is not None and reply.status == 401
    assert not reply.settings and "secret" not in reply.body


def test_an_unsigned_registration_is_refused(make_connector: Any) -> None:
    reply = make_connector().handshake(registration(GET_VECTOR["signed_data"]))
    assert reply is not None and reply.status == 401 and not reply.settings


def test_without_an_app_secret_no_registration_passes(make_connector: Any) -> None:
    connector = make_connector(app_secret="")
    reply = connector.handshake(
        registration(GET_VECTOR["signed_data"], {APP_SIGNATURE: GET_VECTOR["signature"]})
    )
    assert reply is not None and reply.status == 401


def test_a_get_without_the_three_parameters_is_no_registration(make_connector: Any) -> None:
    reply = make_connector().handshake(registration("shop-id=123&shop-url=https://my-shop.com"))
    assert reply is None


def test_a_re_registration_must_carry_the_shop_secret_it_names(make_connector: Any) -> None:
    connector = make_connector(shop_secret=SHOP_SECRET)
    query = GET_VECTOR["signed_data"]
    right = {APP_SIGNATURE: GET_VECTOR["signature"], SHOP_SIGNATURE: hmac_hex(query, SHOP_SECRET)}
    assert registered(connector.handshake(registration(query, right)))["proof"]
    wrong = {APP_SIGNATURE: GET_VECTOR["signature"], SHOP_SIGNATURE: hmac_hex(query, "another")}
    refused = connector.handshake(registration(query, wrong))
    assert refused is not None and refused.status == 401


# The confirmation POST


def test_the_confirmation_hands_over_the_credentials(make_connector: Any) -> None:
    connector = make_connector(pending_shop_secret="p3nd1ng", shop_secret=SHOP_SECRET)
    body = confirmation_body()
    reply = connector.handshake(WebhookRequest("POST", {SHOP_SIGNATURE: signature(body, "p3nd1ng")}, body))
    assert reply is not None and reply.status == 204
    settings = dict(reply.settings)
    rotated_at = int(settings.pop("secrets_rotated_at"))
    assert settings == {
        "client_id": API_KEY,
        "client_secret": SECRET_KEY,
        "shop_secret": "p3nd1ng",
        "pending_shop_secret": "",
        # Replaced, the secret in use still signs what Shopware sent before it knew the new one.
        "previous_shop_secret": SHOP_SECRET,
    }
    assert abs(rotated_at - time.time()) < 5


def test_a_first_confirmation_keeps_no_previous_secret(make_connector: Any) -> None:
    connector = make_connector(pending_shop_secret="p3nd1ng")
    body = confirmation_body()
    reply = connector.handshake(WebhookRequest("POST", {SHOP_SIGNATURE: signature(body, "p3nd1ng")}, body))
    assert reply is not None and reply.status == 204
    assert "previous_shop_secret" not in reply.settings and "secrets_rotated_at" not in reply.settings


@pytest.mark.parametrize(("seconds_ago", "accepted"), [(0, True), (59, True), (60, False), (3600, False)])
def test_the_previous_secret_signs_for_one_minute_after_a_new_registration(
    make_connector: Any, seconds_ago: int, accepted: bool
) -> None:
    # As the official app SDK's DualSignatureRequestVerifier (INFLIGHT_ALLOWANCE: 60 seconds).
    connector = make_connector(
        shop_secret="n3w",
        previous_shop_secret=SHOP_SECRET,
        secrets_rotated_at=str(int(time.time()) - seconds_ago),
    )
    # The buyer's return (a finalize call) Shopware signed just before the new registration.
    returned = json.loads(PAY_BODY)
    del returned["order"]
    body = json.dumps(returned).encode()
    reply = connector.handshake(WebhookRequest("POST", {SHOP_SIGNATURE: signature(body, SHOP_SECRET)}, body))
    old = WebhookRequest("POST", {SHOP_SIGNATURE: signature(PAY_BODY, SHOP_SECRET)}, PAY_BODY)
    assert reply is not None and (reply.status == 200) is accepted
    assert connector.verify_webhook(old) is accepted
    if accepted:
        # The answer is signed with the secret Shopware holds now.
        assert reply.headers[APP_SIGNATURE] == signature(reply.body.encode(), "n3w")
    new = WebhookRequest("POST", {SHOP_SIGNATURE: signature(PAY_BODY, "n3w")}, PAY_BODY)
    assert connector.verify_webhook(new)
    another = WebhookRequest("POST", {SHOP_SIGNATURE: signature(PAY_BODY, "another")}, PAY_BODY)
    assert not connector.verify_webhook(another)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SHOP_SIGNATURE: "0" * 64},
        # Signed with the secret in use rather than the one the registration handed out.
        {SHOP_SIGNATURE: signature(confirmation_body(), SHOP_SECRET)},
        # The right new secret, but a wrong previous one.
        {
            SHOP_SIGNATURE: signature(confirmation_body(), "p3nd1ng"),
            PREVIOUS_SHOP_SIGNATURE: signature(confirmation_body(), "another"),
        },
    ],
)
def test_a_wrongly_signed_confirmation_changes_nothing(make_connector: Any, headers: dict[str, str]) -> None:
    connector = make_connector(pending_shop_secret="p3nd1ng", shop_secret=SHOP_SECRET)
    reply = connector.handshake(WebhookRequest("POST", headers, confirmation_body()))
    assert reply is not None and reply.status == 401 and not reply.settings


def test_a_confirmation_without_a_registration_is_refused(make_connector: Any) -> None:
    body = confirmation_body()
    reply = make_connector().handshake(WebhookRequest("POST", {SHOP_SIGNATURE: signature(body, "")}, body))
    assert reply is not None and reply.status == 401 and not reply.settings


# Through the hub: install, pay, update


@pytest.fixture
def hub_and_shop(bluepaid_make_kit: Any) -> tuple[Kit, ShopwareShop]:
    shops: list[ShopwareShop] = []
    kit: Kit = bluepaid_make_kit(
        ShopwareConnector,
        # What the merchant gives: the shop URL and the manifest's app secret, nothing more.
        settings={"base_url": BASE_URL, "app_secret": APP_SECRET},
        shop_url=BASE_URL,
        install=lambda api: shops.append(ShopwareShop(api)),
    )
    return kit, shops[0]


def install(kit: Kit, api_key: str, secret_key: str, shop_secret: str = "") -> str:
    """Register the app as Shopware does, through the hub's webhook URL; the new shop secret."""
    query = "shop-id=Zx9b4s7mQ2&shop-url=https://shopware.example&timestamp=1733580000"
    headers = {APP_SIGNATURE: hmac_hex(query, APP_SECRET)}
    if shop_secret:
        headers[SHOP_SIGNATURE] = hmac_hex(query, shop_secret)
    path = f"/webhooks/kit/{kit.shop.webhook_token}"
    answer = kit.driver.client.get(f"{path}?{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    got = answer.json
    assert got is not None
    assert got["proof"] == hmac_hex("Zx9b4s7mQ2https://shopware.exampleBluepaidPayment", APP_SECRET)
    assert got["confirmation_url"] == f"{PUBLIC_URL}{path}"
    body = confirmation_body(api_key, secret_key)
    confirm = {SHOP_SIGNATURE: signature(body, got["secret"]), "Content-Type": "application/json"}
    if shop_secret:
        confirm[PREVIOUS_SHOP_SIGNATURE] = signature(body, shop_secret)
    confirmed = kit.driver.client.post(urlsplit(got["confirmation_url"]).path, data=body, headers=confirm)
    assert confirmed.status_code == 204, confirmed.text
    kit.reload_shop()
    return str(got["secret"])


def stored(kit: Kit) -> str:
    """Every column of the shop's row and of the webhook inbox, as stored."""
    with kit.hub.db.transaction() as session:
        shop = session.get(Shop, kit.shop.id)
        assert shop is not None
        rows = [(m.headers, m.body) for m in session.scalars(select(WebhookMessage))]
        return repr((shop.connector_settings, shop.connector_secrets, rows))


def pay_call(kit: Kit, shop: ShopwareShop, number: str, secret: str) -> Any:
    proof = shop.add(GivenOrder(number, Money.parse("395.01", "EUR"), OrderStatus.OPEN))
    body = json.loads(PAY_BODY)
    body["order"]["orderNumber"], body["order"]["deepLinkCode"] = number, proof
    raw = json.dumps(body).encode()
    path = f"/webhooks/kit/{kit.shop.webhook_token}"
    return kit.driver.client.post(path, data=raw, headers={SHOP_SIGNATURE: signature(raw, secret)}), proof


def test_the_app_installs_and_its_credentials_are_kept_sealed(hub_and_shop: tuple[Kit, Any]) -> None:
    kit, _shop = hub_and_shop
    secret = install(kit, API_KEY, SECRET_KEY)
    everything = stored(kit)
    for clear in (API_KEY, SECRET_KEY, secret):
        assert clear not in everything
    # The confirmation is in the inbox, its credentials redacted.
    with kit.hub.db.transaction() as session:
        bodies = [
            m.body for m in session.scalars(select(WebhookMessage).where(WebhookMessage.method == "POST"))
        ]
    assert [json.loads(b)["apiKey"] for b in bodies] == [REDACTED]
    assert [json.loads(b)["secretKey"] for b in bodies] == [REDACTED]
    # Sealed, the vault opens them as the connector's settings.
    settings = kit.hub.connector_settings(kit.shop)
    assert settings["client_id"].reveal() == API_KEY
    assert settings["client_secret"].reveal() == SECRET_KEY
    assert settings["shop_secret"].reveal() == secret
    assert settings["pending_shop_secret"] is None


def test_after_installing_the_admin_api_is_called_with_the_app_credentials(
    hub_and_shop: tuple[Kit, ShopwareShop],
) -> None:
    kit, shop = hub_and_shop
    shop.credentials = (API_KEY, SECRET_KEY)
    secret = install(kit, API_KEY, SECRET_KEY)
    answer, proof = pay_call(kit, shop, "10077", secret)
    assert answer.status_code == 200
    assert answer.headers[APP_SIGNATURE] == signature(answer.data, secret)
    opened = kit.driver.open_pay("10077", proof)
    assert opened.status_code in (200, 302)
    assert shop.issued_to == [API_KEY]
    with kit.connector() as connector:
        assert connector.check_connection().startswith("Shopware 6.5.8.8")


def test_before_installing_nothing_is_signed_and_nothing_called(
    hub_and_shop: tuple[Kit, ShopwareShop],
) -> None:
    kit, shop = hub_and_shop
    answer, _proof = pay_call(kit, shop, "10077", APP_SECRET)
    assert answer.status_code == 401
    with kit.connector() as connector, pytest.raises(Exception, match="no Admin API credentials yet"):
        connector.check_connection()
    assert shop.issued == 0


def test_an_update_registers_again_and_replaces_the_credentials(
    hub_and_shop: tuple[Kit, ShopwareShop],
) -> None:
    kit, shop = hub_and_shop
    first = install(kit, API_KEY, SECRET_KEY)
    new_key, new_secret = "SWIAV0NLRKXQZ3TFM1NUQ2JPSG", "c2VjcmV0LW9mLXRoZS11cGRhdGVkLWFwcC1pbnRlZ3JhdGlvbg"
    shop.credentials = (new_key, new_secret)
    second = install(kit, new_key, new_secret, shop_secret=first)
    assert second != first
    assert all(clear not in stored(kit) for clear in (API_KEY, SECRET_KEY, new_key, new_secret))
    settings = kit.hub.connector_settings(kit.shop)
    assert (settings["client_id"].reveal(), settings["client_secret"].reveal()) == (new_key, new_secret)
    # Just after the update, what Shopware signed with the old secret is still accepted...
    late, _ = pay_call(kit, shop, "10077", first)
    assert late.status_code == 200
    # ...but not once the minute the SDK allows is over.
    rotated_at = kit.hub.connector_settings(kit.shop)["secrets_rotated_at"]
    set_settings(kit.hub, kit.shop.slug, {"secrets_rotated_at": str(rotated_at - 61)})
    kit.reload_shop()
    old, _ = pay_call(kit, shop, "10078", first)
    assert old.status_code == 401
    new, proof = pay_call(kit, shop, "10079", second)
    assert new.status_code == 200
    kit.driver.open_pay("10079", proof)
    assert shop.issued_to == [new_key]


def test_until_shopware_confirms_the_secret_in_use_stays(hub_and_shop: tuple[Kit, Any]) -> None:
    kit, shop = hub_and_shop
    first = install(kit, API_KEY, SECRET_KEY)
    query = "shop-id=Zx9b4s7mQ2&shop-url=https://shopware.example&timestamp=1733580100"
    headers = {APP_SIGNATURE: hmac_hex(query, APP_SECRET), SHOP_SIGNATURE: hmac_hex(query, first)}
    started = kit.driver.client.get(f"/webhooks/kit/{kit.shop.webhook_token}?{query}", headers=headers)
    assert started.status_code == 200
    answer, _proof = pay_call(kit, shop, "10080", first)
    assert answer.status_code == 200


def test_a_forged_confirmation_through_the_hub_changes_nothing(
    hub_and_shop: tuple[Kit, ShopwareShop],
) -> None:
    kit, _shop = hub_and_shop
    body = confirmation_body("SWIAFORGED", "forged-secret")
    path = f"/webhooks/kit/{kit.shop.webhook_token}"
    answer = kit.driver.client.post(path, data=body, headers={SHOP_SIGNATURE: signature(body, "guess")})
    assert answer.status_code == 401
    settings = kit.hub.connector_settings(kit.shop)
    assert settings["client_id"] is None and "forged-secret" not in stored(kit)


def test_the_manifest_registers_at_the_hubs_webhook_route(hub_and_shop: tuple[Kit, Any]) -> None:
    kit, _shop = hub_and_shop
    root = ET.parse(MANIFEST).getroot()
    assert root.findtext("meta/name") == "BluepaidPayment"
    assert root.findtext("setup/registrationUrl") == "HUB_WEBHOOK_URL"
    assert root.findtext("setup/secret") == "APP_SECRET"
    # What the guide says to put there: the shop's webhook URL; the registration answers at it.
    url = f"{PUBLIC_URL}/webhooks/kit/{kit.shop.webhook_token}"
    query = "shop-id=a&shop-url=https://shopware.example&timestamp=1"
    answer = kit.driver.client.get(
        f"{urlsplit(url).path}?{query}", headers={APP_SIGNATURE: hmac_hex(query, APP_SECRET)}
    )
    assert answer.status_code == 200 and answer.json is not None
    assert answer.json["confirmation_url"] == url


# The registration in the webhook inbox


def test_the_registration_is_stored_with_its_parameter_names_and_no_value(
    hub_and_shop: tuple[Kit, Any],
) -> None:
    kit, _shop = hub_and_shop
    install(kit, API_KEY, SECRET_KEY)
    with kit.hub.db.transaction() as session:
        (query,) = session.scalars(select(WebhookMessage.query).where(WebhookMessage.method == "GET"))
    # The hub checked the signature over the query as sent; the inbox keeps only its shape.
    assert [name for name, _ in parse_qsl(query)] == ["shop-id", "shop-url", "timestamp"]
    for value in ("Zx9b4s7mQ2", "shopware.example", "1733580000"):
        assert value not in query


def test_a_registration_checked_again_from_its_row_is_refused(hub_and_shop: tuple[Kit, Any]) -> None:
    kit, _shop = hub_and_shop
    query = "shop-id=Zx9b4s7mQ2&shop-url=https://shopware.example&timestamp=1733580000"
    message_id = webhooks.store(
        kit.hub,
        method="GET",
        headers={APP_SIGNATURE: hmac_hex(query, APP_SECRET)},
        body=b"",
        remote_addr="127.0.0.1",
        shop_slug=kit.shop.slug,
        query=query,
    )

    # Without the request's own query, the masked one is checked: it is not what was signed.
    answer = webhooks.process(kit.hub, message_id, kit.shop.webhook_token)

    assert answer.status == 401
    assert kit.hub.connector_settings(kit.shop)["pending_shop_secret"] is None
    # The same row with the query as the request brought it passes.
    assert webhooks.process(kit.hub, message_id, kit.shop.webhook_token, query=query).status == 200
