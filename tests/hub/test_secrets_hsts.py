"""Pages served over https tell the browser to keep to https (HSTS), behind a proxy too."""

from __future__ import annotations

import pytest

from tests.hub.conftest import MakeDriver

# A year: browsers keep to https for the hub's host that long after a visit.
HSTS = "max-age=31536000"
HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


@pytest.mark.parametrize("path", ["/pay/demo/A1?key=nope", "/return/demo/nope/ok", "/no-such-page"])
def test_a_page_requested_over_https_through_the_proxy_carries_hsts(
    make_driver: MakeDriver, path: str
) -> None:
    driver = make_driver(config={"trust_proxy": True})

    response = driver.client.get(path, headers=HTTPS)

    assert response.headers["Strict-Transport-Security"] == HSTS


def test_a_confirmation_answered_over_https_through_the_proxy_carries_hsts(make_driver: MakeDriver) -> None:
    driver = make_driver(config={"trust_proxy": True})

    response = driver.client.post(f"/confirm/demo/{driver.shop.confirm_token}", headers=HTTPS, data="etat=ok")

    assert response.headers["Strict-Transport-Security"] == HSTS


def test_a_page_requested_over_http_through_the_proxy_has_no_hsts(make_driver: MakeDriver) -> None:
    driver = make_driver(config={"trust_proxy": True})

    response = driver.client.get("/return/demo/nope/ok", headers={"X-Forwarded-Proto": "http"})

    assert "Strict-Transport-Security" not in response.headers


def test_a_client_claiming_https_without_a_trusted_proxy_gets_no_hsts(make_driver: MakeDriver) -> None:
    driver = make_driver()

    response = driver.client.get("/return/demo/nope/ok", headers=HTTPS)

    assert "Strict-Transport-Security" not in response.headers


def test_a_page_served_over_https_directly_carries_hsts(make_driver: MakeDriver) -> None:
    driver = make_driver()

    response = driver.client.get("/return/demo/nope/ok", base_url="https://hub.test")

    assert response.headers["Strict-Transport-Security"] == HSTS
