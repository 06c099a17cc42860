"""A real hub with two shops, their users, and a browser-like client that logs in
through the forms (CSRF tokens included)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hub.backoffice.users import add_user
from hub.context import Hub
from hub.models import Role, Shop
from hub.shops import add_shop
from hub.testing.driver import HubDriver
from tests.hub.conftest import SANDBOX_IP, app, driver, hub, shop

__all__ = ["app", "driver", "hub", "shop"]

PASSWORD = "correct horse battery"
OWNER = "owner@demo.test"
READER = "reader@demo.test"
STRANGER = "owner@other.test"

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(page: TestResponse) -> str:
    found = _TOKEN.search(page.text)
    assert found, "the page has no CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """A test client that fills the forms as a person would."""

    client: FlaskClient

    def get(self, path: str, **kwargs: object) -> TestResponse:
        return self.client.get(path, **kwargs)  # type: ignore[arg-type]

    def post(
        self, path: str, data: dict[str, str] | None = None, page: str = "/backoffice/login"
    ) -> TestResponse:
        """POST ``data`` with the CSRF token of ``page`` (any back-office page)."""
        token = csrf(self.client.get(page))
        return self.client.post(path, data={"csrf_token": token, **(data or {})})

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        return self.post("/backoffice/login", {"email": email, "password": password})


@pytest.fixture
def other_shop(hub: Hub) -> Shop:
    return add_shop(hub, slug="other", id_boutique="99999www", test_mode=True, allowed_ips=[SANDBOX_IP])


@pytest.fixture
def users(hub: Hub, shop: Shop, other_shop: Shop) -> None:
    add_user(hub, OWNER, PASSWORD, {shop.slug: Role.OWNER})
    add_user(hub, READER, PASSWORD, {shop.slug: Role.READ_ONLY})
    add_user(hub, STRANGER, PASSWORD, {other_shop.slug: Role.OWNER})


@pytest.fixture
def browser(app: Flask, users: None) -> Browser:
    return Browser(app.test_client())


def paid_payment(driver: HubDriver, amount: str = "36.60", **overrides: str) -> str:
    """A payment of the driver's shop, started and confirmed (a test card by default)."""
    started = driver.start(driver.new_order(amount))
    response = driver.post(driver.confirmation(started, **overrides))
    assert response.status_code == 200
    return started.payment_id


@pytest.fixture
def owner(browser: Browser) -> Browser:
    assert browser.login(OWNER).status_code == 302
    return browser
