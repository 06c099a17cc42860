"""Who may see and do what in the back office: logins, roles, shops kept apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from hub.backoffice.users import MAX_FAILURES, reset_token
from hub.backoffice.views import DOCTOR_POST
from hub.context import Hub
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import OWNER, PASSWORD, READER, STRANGER, Browser, paid_payment
from tests.conftest import FrozenClock

PAGES = ["/backoffice/", "/backoffice/payments", "/backoffice/payments.csv", "/backoffice/subscriptions"]


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(browser: Browser, path: str) -> None:
    response = browser.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/backoffice/login")


def test_a_user_logs_in_and_sees_the_dashboard(browser: Browser) -> None:
    response = browser.login(OWNER)

    assert response.status_code == 302
    page = browser.get("/backoffice/")
    assert page.status_code == 200
    assert "Dashboard" in page.text


def test_a_wrong_password_is_refused(browser: Browser) -> None:
    response = browser.login(OWNER, "not the password")

    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.text
    assert browser.get("/backoffice/").status_code == 302


def test_a_login_without_csrf_token_is_refused(app: Flask, users: None) -> None:
    response = app.test_client().post("/backoffice/login", data={"email": OWNER, "password": PASSWORD})

    assert response.status_code == 400


def test_logins_are_rate_limited_per_email_then_allowed_again(browser: Browser, clock: FrozenClock) -> None:
    for _ in range(MAX_FAILURES):
        assert browser.login(OWNER, "guess").status_code == 401

    locked = browser.login(OWNER)
    clock.advance(timedelta(minutes=16))
    later = browser.login(OWNER)

    assert locked.status_code == 429
    assert later.status_code == 302


def test_logout_ends_the_session(owner: Browser) -> None:
    owner.post("/backoffice/logout", page="/backoffice/")

    assert owner.get("/backoffice/").status_code == 302


def test_another_shops_payment_is_not_found(browser: Browser, driver: HubDriver) -> None:
    payment = paid_payment(driver)
    browser.login(STRANGER)

    assert browser.get(f"/backoffice/payments/{payment}").status_code == 404
    assert driver.shop.slug not in browser.get("/backoffice/payments").text
    assert payment not in browser.get("/backoffice/payments.csv").text


def test_a_read_only_user_sees_but_cannot_act(browser: Browser, driver: HubDriver) -> None:
    payment = paid_payment(driver)
    task = driver.task_rows()[0].id if driver.task_rows() else 1
    browser.login(READER)

    page = browser.get(f"/backoffice/payments/{payment}")
    action = browser.post(f"/backoffice/payments/{payment}/tasks/{task}/retry", page="/backoffice/")

    assert page.status_code == 200
    assert action.status_code == 403


def test_a_reset_link_sets_a_new_password_once(browser: Browser, hub: Hub) -> None:
    token = reset_token(hub, OWNER)
    assert token is not None
    path = f"/backoffice/reset/{token}"

    first = browser.post(path, {"password": "a brand new password"})
    second = browser.post(path, {"password": "yet another password"})

    assert first.status_code == 302
    assert second.status_code == 410
    assert browser.login(OWNER, "a brand new password").status_code == 302


def test_a_reset_link_expires(browser: Browser, hub: Hub, clock: FrozenClock) -> None:
    token = reset_token(hub, OWNER)
    clock.advance(timedelta(minutes=31))

    response = browser.post(f"/backoffice/reset/{token}", {"password": "a brand new password"})

    assert response.status_code == 410


def test_a_password_change_ends_the_old_sessions(owner: Browser, hub: Hub) -> None:
    token = reset_token(hub, OWNER)
    Browser(owner.client.application.test_client()).post(
        f"/backoffice/reset/{token}", {"password": "a brand new password"}
    )

    assert owner.get("/backoffice/").status_code == 302


def test_the_chosen_language_is_remembered_with_the_user(owner: Browser, app: Flask) -> None:
    owner.post("/backoffice/language", {"language": "fr"}, page="/backoffice/")
    fresh = Browser(app.test_client())
    fresh.login(OWNER)

    assert '<html lang="fr">' in fresh.get("/backoffice/").text


def shop_pages(driver: HubDriver) -> list[str]:
    """Every back-office page of one shop's things (a payment, its shop's settings...)."""
    payment = paid_payment(driver)
    return [
        f"/backoffice/payments/{payment}",
        "/backoffice/shops/demo/settings",
        "/backoffice/shops/demo/go-live",
        "/backoffice/statements/demo/2026-11.csv",
        "/backoffice/statements/demo/2026-11.pdf",
    ]


SHOP_ACTIONS = [
    "/backoffice/shops/demo/settings",
    "/backoffice/shops/demo/unlock",
    "/backoffice/shops/demo/go-live",
    "/backoffice/statements/demo/plan",
]


def test_every_page_of_a_shop_is_hidden_from_anonymous_and_other_shops(
    app: Flask, browser: Browser, driver: HubDriver
) -> None:
    app.extensions[DOCTOR_POST] = lambda url: 403
    pages = shop_pages(driver)
    anonymous = Browser(app.test_client())
    browser.login(STRANGER)

    for path in pages:
        assert anonymous.get(path).status_code == 302, path
        assert browser.get(path).status_code == 404, path
    for path in SHOP_ACTIONS:
        assert anonymous.post(path).status_code == 302, path
        assert browser.post(path, page="/backoffice/").status_code == 404, path


def test_no_shop_action_for_a_read_only_user(browser: Browser, app: Flask) -> None:
    app.extensions[DOCTOR_POST] = lambda url: 403
    browser.login(READER)

    for path in SHOP_ACTIONS:
        assert browser.post(path, {"reason": "x", "plan": "pro"}, page="/backoffice/").status_code == 403, (
            path
        )
