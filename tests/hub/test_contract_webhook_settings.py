"""Contract 1.3 at the webhook URL: the query string and the hub's URL reach the connector,
settings a handshake hands back are kept sealed, and secret body fields never stored."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from bluepaid_plugins import WebhookReply, WebhookRequest
from bluepaid_plugins.settings import SettingField
from hub.models import Shop, WebhookMessage
from hub.webhooks import REDACTED, kept_body
from tests.hub.conftest import HubDriver, MakeDriver
from tests.hub.contract_connectors import WEBHOOK_SECRET, OrderBook, WebhookShop, book_driver, book_shop

TOKEN = "t0k3n-h4nd3d-0v3r"


class EnrollingShop(WebhookShop):
    """A shop that enrols with the hub: ``?step=enrol`` and a JSON body whose ``token`` is the
    API token to keep (``"refused"`` hands back a setting the connector does not have)."""

    id = "enrolling_shop"
    settings_schema = (
        *WebhookShop.settings_schema,
        SettingField("api_token", "API token", type="secret", required=False, help="Set by the enrolment"),
    )
    webhook_secret_fields = frozenset({"token"})

    def handshake(self, request: WebhookRequest) -> WebhookReply | None:
        if request.query_params().get("step") != "enrol":
            return super().handshake(request)
        token = json.loads(request.body)["token"]
        name = "no_such_setting" if token == "refused" else "api_token"
        return WebhookReply(200, request.url, settings={name: token})


def enrolling(make_driver: MakeDriver) -> HubDriver:
    connector = book_shop(OrderBook(), EnrollingShop)
    return book_driver(make_driver, connector, settings={"webhook_secret": WEBHOOK_SECRET})


def enrol(driver: HubDriver, body: bytes, query: str = "step=enrol") -> TestResponse:
    path = f"/webhooks/demo/{driver.shop.webhook_token}?{query}"
    return driver.client.post(path, data=body, content_type="application/json")


def everything_stored(driver: HubDriver) -> str:
    with driver.hub.db.transaction() as session:
        shop = session.get(Shop, driver.shop.id)
        assert shop is not None
        rows = [(m.headers, m.body, m.reason) for m in session.scalars(select(WebhookMessage))]
        return repr((shop.connector_settings, shop.connector_secrets, rows))


def settings_of(driver: HubDriver) -> dict[str, Any]:
    with driver.hub.db.transaction() as session:
        shop = session.get(Shop, driver.shop.id)
        assert shop is not None
    return driver.hub.connector_settings(shop)


def test_settings_handed_back_are_kept_sealed_and_the_body_redacted(
    make_driver: MakeDriver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    driver = enrolling(make_driver)
    answer = enrol(driver, json.dumps({"token": TOKEN, "shop": "north"}).encode())
    assert answer.status_code == 200
    # The connector saw the query and the hub's public webhook URL of the shop (no query).
    assert answer.text == f"{driver.hub.config.public_url}/webhooks/demo/{driver.shop.webhook_token}"
    assert settings_of(driver)["api_token"].reveal() == TOKEN
    assert TOKEN not in everything_stored(driver)
    assert TOKEN not in caplog.text
    with driver.hub.db.transaction() as session:
        row = session.scalars(select(WebhookMessage)).one()
        assert json.loads(row.body) == {"token": REDACTED, "shop": "north"}
        assert row.verdict == "handshake"


def test_settings_that_do_not_validate_change_nothing(make_driver: MakeDriver) -> None:
    driver = enrolling(make_driver)
    answer = enrol(driver, json.dumps({"token": "refused"}).encode())
    assert answer.status_code == 500
    assert settings_of(driver)["api_token"] is None
    with driver.hub.db.transaction() as session:
        row = session.scalars(select(WebhookMessage)).one()
        assert row.verdict == "error" and "no_such_setting" in row.reason


def test_a_body_naming_a_secret_field_that_is_not_json_is_not_kept(make_driver: MakeDriver) -> None:
    driver = enrolling(make_driver)
    answer = enrol(driver, b"token=" + TOKEN.encode(), query="step=other")
    assert answer.status_code == 401
    with driver.hub.db.transaction() as session:
        assert session.scalars(select(WebhookMessage.body)).one() == b""


def test_bodies_of_a_connector_without_secret_fields_are_kept_as_received() -> None:
    body = b'{"token": "visible"}'
    assert kept_body(WebhookShop, body) == body
    assert kept_body(None, body) == body
    assert kept_body(EnrollingShop, b'{"other": 1}') == b'{"other": 1}'
    assert json.loads(kept_body(EnrollingShop, b'{"token": "x", "n": 1}')) == {"token": REDACTED, "n": 1}
    assert kept_body(EnrollingShop, b'["token"]') == b""
