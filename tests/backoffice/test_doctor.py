"""The go-live check on good and broken setups, and switching to production."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import update

from hub.backoffice.doctor import doctor
from hub.backoffice.views import DOCTOR_POST
from hub.cli.base import HubHolder, cli
from hub.context import Hub
from hub.models import Shop
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import Browser, paid_payment


def through_the_app(app: Flask) -> Callable[[str], int]:
    """Post to the hub's confirmation URL through the app, as the network would."""

    def post(url: str) -> int:
        return app.test_client().post(urlsplit(url).path, data={}).status_code

    return post


def unreachable(url: str) -> int:
    # As requests says it: with the whole URL, secret token included.
    raise OSError(f"Connection refused: {url}")


@pytest.fixture
def ready(hub: Hub, driver: HubDriver, app: Flask) -> None:
    """A shop with a return URL and a test payment paid: every check passes."""
    with hub.db.transaction() as db:
        db.execute(update(Shop).where(Shop.id == driver.shop.id).values(return_url="https://shop.test/"))
    paid_payment(driver)
    app.extensions[DOCTOR_POST] = through_the_app(app)


def test_a_good_setup_passes_and_goes_live(owner: Browser, hub: Hub, ready: None) -> None:
    page = owner.get("/backoffice/shops/demo/go-live").text
    switched = owner.post("/backoffice/shops/demo/go-live", page="/backoffice/")

    assert "✘" not in page and "Switch to production" in page
    assert switched.status_code == 200
    with hub.db.transaction() as db:
        assert db.query(Shop).filter_by(slug="demo").one().test_mode is False


def test_a_broken_setup_says_what_to_fix_and_stays_in_test(
    owner: Browser, hub: Hub, app: Flask, driver: HubDriver
) -> None:
    app.extensions[DOCTOR_POST] = unreachable

    checks = {c.name: c for c in doctor(hub, "demo", unreachable)}
    owner.post("/backoffice/shops/demo/go-live", page="/backoffice/")

    found = checks["confirmation_url"]
    assert not found.ok
    assert found.detail.startswith("no answer from the confirmation URL at hub.test (OSError)")
    assert driver.shop.confirm_token not in found.detail
    assert not checks["return_url"].ok
    assert not checks["test_payments"].ok
    assert checks["allowed_ips"].ok and checks["secrets"].ok
    with hub.db.transaction() as db:
        assert db.query(Shop).filter_by(slug="demo").one().test_mode is True


def test_no_allowed_address_fails(hub: Hub, driver: HubDriver, app: Flask) -> None:
    with hub.db.transaction() as db:
        db.execute(update(Shop).where(Shop.id == driver.shop.id).values(allowed_ips=[]))

    checks = {c.name: c.ok for c in doctor(hub, "demo", through_the_app(app))}

    assert checks["allowed_ips"] is False


def test_a_read_only_user_cannot_go_live(browser: Browser, ready: None) -> None:
    browser.login("reader@demo.test")

    assert browser.post("/backoffice/shops/demo/go-live", page="/backoffice/").status_code == 403


def test_bluepaid_doctor_exits_1_on_a_failing_check(
    hub: Hub, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = HubHolder(hub.config, hub.plugins)
    holder._hub = hub
    monkeypatch.setattr("hub.backoffice.doctor.post_over_http", unreachable)

    result = CliRunner().invoke(cli, ["doctor", "demo"], obj=holder)

    assert result.exit_code == 1
    assert "FAIL return_url" in result.output
