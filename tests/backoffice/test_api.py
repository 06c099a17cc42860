"""The JSON API: tokens per shop, the routes, errors as JSON, and schemathesis run
against the OpenAPI document the hub generates."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from hub.api.tokens import create, revoke
from hub.context import Hub
from hub.models import Shop
from hub.shops import add_shop
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import paid_payment


@pytest.fixture
def token(hub: Hub, shop: Shop) -> str:
    return create(hub, shop.slug, "tests")[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_token_or_a_wrong_one_is_401_in_json(app: Flask, token: str) -> None:
    client = app.test_client()

    for headers in ({}, bearer("bp_wrong"), {"Authorization": token}):
        response = client.get("/api/v1/payments", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "unauthorized"


def test_a_revoked_token_opens_nothing(app: Flask, hub: Hub, shop: Shop) -> None:
    info, token = create(hub, shop.slug, "old")
    revoke(hub, info.id)

    assert app.test_client().get("/api/v1/payments", headers=bearer(token)).status_code == 401


def test_tokens_are_kept_as_digests(hub: Hub, shop: Shop) -> None:
    _info, token = create(hub, shop.slug, "x")

    with hub.db.engine.connect() as connection:
        stored = " ".join(str(row) for row in connection.exec_driver_sql("select * from api_tokens"))
    assert token not in stored


def test_payments_list_and_detail_with_the_timeline(app: Flask, driver: HubDriver, token: str) -> None:
    payment = paid_payment(driver, "12.50", id_trans="T77")
    client = app.test_client()

    listed = client.get("/api/v1/payments?q=T77", headers=bearer(token)).get_json()
    detail = client.get(f"/api/v1/payments/{payment}", headers=bearer(token)).get_json()

    assert [p["id"] for p in listed["payments"]] == [payment]
    assert listed["payments"][0]["amount"] == "12.50"
    assert [e["kind"] for e in detail["timeline"]][:2] == ["request", "message"]


def test_another_shops_token_sees_nothing_of_this_shop(app: Flask, hub: Hub, driver: HubDriver) -> None:
    payment = paid_payment(driver)
    add_shop(hub, slug="other", id_boutique="99999www")
    other = create(hub, "other", "other")[1]
    client = app.test_client()

    assert client.get("/api/v1/payments", headers=bearer(other)).get_json()["total"] == 0
    missing = client.get(f"/api/v1/payments/{payment}", headers=bearer(other))
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "not_found"


def test_a_link_is_created_then_cancelled_once(app: Flask, token: str) -> None:
    client = app.test_client()

    made = client.post("/api/v1/links", json={"amount": "19.90", "description": "Mug"}, headers=bearer(token))
    ref = made.get_json()["ref"]
    cancelled = client.post(f"/api/v1/links/{ref}/cancel", headers=bearer(token))
    again = client.post(f"/api/v1/links/{ref}/cancel", headers=bearer(token))

    assert made.status_code == 201
    assert made.get_json()["pay_url"].startswith("http://hub.test/pay/demo/")
    assert cancelled.get_json()["status"] == "cancelled"
    assert again.status_code == 404


def test_a_malformed_email_is_a_json_error(app: Flask, token: str) -> None:
    response = app.test_client().post(
        "/api/v1/links", json={"amount": "5.00", "email": "nobody"}, headers=bearer(token)
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert "email" in response.get_json()["reason"]


def test_a_bad_body_is_a_json_error_with_a_reason(app: Flask, token: str) -> None:
    response = app.test_client().post("/api/v1/links", json={"amount": "lots"}, headers=bearer(token))

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert "amount" in response.get_json()["reason"]


def test_statements_of_the_last_six_months(app: Flask, driver: HubDriver, token: str) -> None:
    paid_payment(driver, "100.00", mode="")
    client = app.test_client()

    month = client.get("/api/v1/statements/2026-11", headers=bearer(token)).get_json()
    old = client.get("/api/v1/statements/2025-01", headers=bearer(token))

    assert [(line["kind"], line["estimated_fee"]) for line in month["lines"]] == [("payment", "3.20")]
    assert old.status_code == 404


def test_the_openapi_document_describes_every_route(app: Flask) -> None:
    document = app.test_client().get("/api/doc/openapi.json").get_json()

    assert set(document["paths"]) == {
        "/api/v1/payments",
        "/api/v1/payments/{payment_id}",
        "/api/v1/links",
        "/api/v1/links/{ref}/cancel",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{subscription_id}/finish",
        "/api/v1/statements/{year}-{month}",
    }


def test_schemathesis_finds_no_response_outside_the_document(app: Flask, token: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/doc/openapi.json", app)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=bearer(token))

    for operation in schema.get_all_operations():
        strategy = operation.ok().as_strategy()
        given(strategy)(check)()
