"""The confirmation door answers POSTs to the confirmation URL as the route would."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from hub.headers import security_headers
from hub.testing.driver import HubDriver

SECURITY = [name for name, _value in security_headers(https=False)]


def test_a_confirmation_carries_the_same_security_headers_as_a_page(driver: HubDriver) -> None:
    order = driver.new_order()
    confirmation = driver.post(driver.confirmation(driver.start(order)))
    page = driver.client.get("/no-such-page")

    assert confirmation.status_code == 200
    assert confirmation.get_data(as_text=True) == "OK"
    assert confirmation.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert {name: confirmation.headers[name] for name in SECURITY} == {
        name: page.headers[name] for name in SECURITY
    }


def test_other_methods_still_reach_the_route_and_are_refused(driver: HubDriver) -> None:
    response = driver.post("etat=ok", method="PUT")

    assert response.status_code == 405
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/confirm/demo", "/confirm/demo/x/y", "/confirm//x"])
def test_a_post_to_another_path_goes_to_flask_s_router(driver: HubDriver, path: str) -> None:
    response = driver.post("etat=ok", url=path)

    assert response.status_code == 404
    assert "text/html" in response.headers["Content-Type"]


def test_a_store_failure_is_the_hub_s_error_page_and_a_logged_error(
    driver: HubDriver, caplog: pytest.LogCaptureFixture
) -> None:
    order = driver.new_order()
    fields = driver.confirmation(driver.start(order))
    driver.client.application.testing = False  # answer the error, as in production, instead of raising it
    with driver.hub.db.engine.begin() as connection:
        connection.execute(
            text("DROP TABLE inbox CASCADE" if connection.dialect.name != "sqlite" else "DROP TABLE inbox")
        )

    with caplog.at_level(logging.ERROR):
        response = driver.post(fields)

    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "text/html" in response.headers["Content-Type"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Something went wrong" in body
    assert "Traceback" not in body and "inbox" not in body
    logged = [r for r in caplog.records if r.exc_info and "/confirm/demo/" in r.getMessage()]
    assert logged, "the failure was not logged"
    assert driver.shop.confirm_token not in caplog.text
