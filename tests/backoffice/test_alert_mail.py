"""Alerts and password resets by mail, through a real SMTP server on loopback (aiosmtpd),
an outage included."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from hub.backoffice.alert_mail import mail_alerts
from hub.context import Hub
from hub.models import OutboxTask, Shop
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import OWNER, Browser, paid_payment
from tests.conftest import FrozenClock
from tests.sandbox.backoffice_fixtures import SmtpSink, free_port


def live_shop_with_mail(hub: Hub, driver: HubDriver) -> None:
    with hub.db.transaction() as db:
        db.execute(
            update(Shop)
            .where(Shop.id == driver.shop.id)
            .values(test_mode=False, notify_email="boss@shop.test")
        )


def test_each_new_alert_is_mailed_once(hub: Hub, driver: HubDriver) -> None:
    payment = paid_payment(driver)
    live_shop_with_mail(hub, driver)
    with SmtpSink.running() as sink:
        hub.config = dataclasses.replace(hub.config, smtp_host="127.0.0.1", smtp_port=sink.port)

        first = mail_alerts(hub)
        second = mail_alerts(hub)

    assert (first, second) == (1, 0)
    assert [m.rcpt_tos for m in sink.received] == [["boss@shop.test"]]
    assert "test payment on a live shop" in sink.received[0].body
    assert payment in sink.received[0].body


def test_an_smtp_outage_loses_no_alert(hub: Hub, driver: HubDriver) -> None:
    paid_payment(driver)
    live_shop_with_mail(hub, driver)
    port = free_port()
    hub.config = dataclasses.replace(hub.config, smtp_host="127.0.0.1", smtp_port=port)

    during = mail_alerts(hub)
    with hub.db.transaction() as db:
        db.execute(update(OutboxTask).values(state="dead", last_error="shop down"))
    with SmtpSink.running() as sink:
        hub.config = dataclasses.replace(hub.config, smtp_port=sink.port)
        after = mail_alerts(hub)

    assert during == 0
    assert after == 2
    body = sink.received[0].body
    assert "test payment on a live shop" in body and "task given up" in body


def test_no_mail_server_configured_sends_nothing(hub: Hub, driver: HubDriver) -> None:
    paid_payment(driver)
    live_shop_with_mail(hub, driver)

    assert mail_alerts(hub) == 0


def test_the_password_reset_mail_carries_a_working_link(hub: Hub, app: Flask, users: None) -> None:
    browser = Browser(app.test_client())
    with SmtpSink.running() as sink:
        hub.config = dataclasses.replace(hub.config, smtp_host="127.0.0.1", smtp_port=sink.port)
        known = browser.post("/backoffice/forgot", {"email": OWNER})
        unknown = browser.post("/backoffice/forgot", {"email": "nobody@demo.test"})

    assert known.text.count("is on its way") == 1 and unknown.text.count("is on its way") == 1
    assert [m.rcpt_tos for m in sink.received] == [[OWNER]]
    link = re.search(r"http://hub\.test(/backoffice/reset/\S+)", sink.received[0].body)
    assert link is not None
    assert browser.post(link.group(1), {"password": "a brand new password"}).status_code == 302
    assert browser.login(OWNER, "a brand new password").status_code == 302


def test_the_merchants_sale_mail_survives_an_smtp_outage(
    hub: Hub, driver: HubDriver, clock: FrozenClock
) -> None:
    with hub.db.transaction() as db:
        db.execute(update(Shop).where(Shop.id == driver.shop.id).values(notify_email="boss@shop.test"))
    hub.config = dataclasses.replace(hub.config, smtp_host="127.0.0.1", smtp_port=free_port())
    driver.shop.notify_email = "boss@shop.test"
    paid_payment(driver)

    during = {o.state.value for o in driver.run_worker() if o.error}
    clock.advance(timedelta(hours=7))
    with SmtpSink.running() as sink:
        hub.config = dataclasses.replace(hub.config, smtp_port=sink.port)
        driver.run_worker()

    assert during == {"pending"}
    sale = next(m for m in sink.received if "REGLEMENT ACCEPTE" in m.subject)
    assert sale.rcpt_tos == ["boss@shop.test"]
    assert "TEST" in sale.subject
