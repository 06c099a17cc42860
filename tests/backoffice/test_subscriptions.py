"""Subscriptions in the back office, and the buyer's signed, expiring, single-use cancel link."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from bluepaid_plugins.domain import Schedule
from bluepaid_plugins.money import Money
from hub.backoffice.subscriptions import cancel_token
from hub.context import Hub
from hub.models import AuditEntry, Subscription
from hub.orders import create_link_order
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import Browser
from tests.conftest import FrozenClock


def subscribe(driver: HubDriver) -> int:
    """A subscription of three debits, its pay link opened (the hub then holds it)."""
    order = create_link_order(
        driver.hub.db,
        driver.shop,
        Money.parse("9.90", "EUR"),
        now=driver.hub.clock(),
        schedule=Schedule(occurrences=3),
    )
    assert driver.client.get(driver.pay_path(order.ref)).status_code == 302
    with driver.hub.db.transaction() as db:
        return int(db.scalars(select(Subscription.id)).one())


def test_the_list_and_detail_show_debits_and_state(owner: Browser, driver: HubDriver) -> None:
    sub = subscribe(driver)

    listing = owner.get("/backoffice/subscriptions").text
    detail = owner.get(f"/backoffice/subscriptions/{sub}").text

    assert f"/backoffice/subscriptions/{sub}" in listing
    assert "0 / 3" in listing
    assert "running" in detail
    assert "/subscriptions/cancel/" in detail
    assert "nothing to stop there" in detail  # no debit yet: the platform has no subscription


def test_another_shops_user_cannot_see_it(browser: Browser, driver: HubDriver) -> None:
    sub = subscribe(driver)
    browser.login("owner@other.test")

    assert browser.get(f"/backoffice/subscriptions/{sub}").status_code == 404
    assert browser.post(f"/backoffice/subscriptions/{sub}/end", page="/backoffice/").status_code == 404


def test_the_merchant_sets_it_finished_then_deletes_it(owner: Browser, hub: Hub, driver: HubDriver) -> None:
    sub = subscribe(driver)

    owner.post(f"/backoffice/subscriptions/{sub}/end", page="/backoffice/")
    ended = owner.get(f"/backoffice/subscriptions/{sub}").text
    owner.post(f"/backoffice/subscriptions/{sub}/delete", page="/backoffice/")

    assert "ended" in ended and "owner@demo.test" in ended
    assert f"/backoffice/subscriptions/{sub}" not in owner.get("/backoffice/subscriptions").text
    with hub.db.transaction() as db:
        actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["end_subscription", "delete_subscription"]


def test_a_read_only_user_cannot_end_it(browser: Browser, driver: HubDriver) -> None:
    sub = subscribe(driver)
    browser.login("reader@demo.test")

    assert browser.post(f"/backoffice/subscriptions/{sub}/end", page="/backoffice/").status_code == 403


def test_the_cancel_link_asks_then_cancels_once(browser: Browser, hub: Hub, driver: HubDriver) -> None:
    sub = subscribe(driver)
    path = f"/subscriptions/cancel/{cancel_token(hub, sub)}"

    ask = browser.get(path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', ask.text)
    assert token is not None
    first = browser.client.post(path, data={"csrf_token": token.group(1)})
    second = browser.client.post(path, data={"csrf_token": token.group(1)})

    assert "Cancel your subscription?" in ask.text
    assert "Your subscription is cancelled." in first.text
    assert "This subscription had already ended." in second.text
    assert "Nothing was changed." in second.text
    with hub.db.transaction() as db:
        row = db.get(Subscription, sub)
        assert row is not None and row.ended_by == "buyer"


def test_a_get_on_the_cancel_link_changes_nothing(browser: Browser, hub: Hub, driver: HubDriver) -> None:
    sub = subscribe(driver)

    browser.get(f"/subscriptions/cancel/{cancel_token(hub, sub)}")

    with hub.db.transaction() as db:
        row = db.get(Subscription, sub)
        assert row is not None and row.ended_at is None


def test_an_expired_or_forged_cancel_link_is_refused(
    browser: Browser, hub: Hub, driver: HubDriver, clock: FrozenClock
) -> None:
    sub = subscribe(driver)
    token = cancel_token(hub, sub)
    clock.advance(timedelta(days=31))

    assert browser.get(f"/subscriptions/cancel/{token}").status_code == 404
    assert browser.get(f"/subscriptions/cancel/{token[:-2]}xx").status_code == 404


def test_a_numbered_subscription_says_how_to_stop_it_on_the_platform(
    owner: Browser, driver: HubDriver
) -> None:
    sub = subscribe(driver)
    with driver.hub.db.transaction() as db:
        db.execute(update(Subscription).where(Subscription.id == sub).values(num_abo="ABO-77"))

    detail = owner.get(f"/backoffice/subscriptions/{sub}").text

    assert "does not stop the debits" in detail
    assert "find subscription ABO-77 and press “fini”" in detail
