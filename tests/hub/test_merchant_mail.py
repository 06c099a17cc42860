"""The merchant's mails, a built-in plugin on the payment-event hook: one outbox
task per event, only for a shop with a notification address on a hub with a mail
server, written in the shop's language, delivered over real SMTP (aiosmtpd), and
kept through a mail server outage."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from bluepaid_plugins import PaymentEvent, PaymentView, ShopView, hookimpl
from hub import merchant_mail
from hub.models import Shop
from hub.plugins import make_plugins
from hub.tasks import EVENT_HOOKS, MAIL_MERCHANT, enqueue
from tests.conftest import FrozenClock
from tests.hub.conftest import HubDriver, MakeDriver
from tests.sandbox.backoffice_fixtures import SmtpSink, free_port

NOTIFY = "merchant@shop.test"


class Recorder:
    """Another plugin on the same hook, which must get its task whatever the mail."""

    __name__ = "recorder"

    @hookimpl
    def bluepaid_payment_event(self, shop: ShopView, payment: PaymentView, event: PaymentEvent) -> None:
        pass


def smtp(port: int) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": port, "mail_from": "hub@shop.test"}


def pay(driver: HubDriver, **overrides: str) -> str:
    started = driver.start(driver.new_order("36.60"))
    assert driver.post(driver.confirmation(started, id_trans="T42", **overrides)).status_code == 200
    return started.payment_id


def mail_tasks(driver: HubDriver) -> list[str]:
    return [t.state for t in driver.task_rows(EVENT_HOOKS) if t.payload["plugin"] == merchant_mail.NAME]


def test_the_sale_mail_is_in_the_shops_language_with_a_test_banner(make_driver: MakeDriver) -> None:
    with SmtpSink.running() as sink:
        driver = make_driver(config=smtp(sink.port), notify_email=NOTIFY, language="EN")
        pay(driver)

        assert mail_tasks(driver) == ["pending"]
        driver.run_worker()

    assert mail_tasks(driver) == ["done"]
    (mail,) = sink.received
    assert mail.rcpt_tos == [NOTIFY]
    assert mail.subject.startswith("[demo] TEST PAYMENT ACCEPTED, order ")
    assert "no real card was charged" in mail.body
    assert "Amount: 36.60 EUR" in mail.body and "Transaction: T42" in mail.body


def test_a_refused_live_payment_is_told_in_french_by_default(make_driver: MakeDriver) -> None:
    with SmtpSink.running() as sink:
        driver = make_driver(config=smtp(sink.port), notify_email=NOTIFY)
        pay(driver, etat="ko", mode="")
        driver.run_worker()

    (mail,) = sink.received
    assert "REGLEMENT REFUSE, commande " in mail.subject and "TEST" not in mail.subject
    assert "Montant\u00a0: 36.60 EUR" in mail.body and "TEST" not in mail.body


def test_a_shop_language_without_a_catalog_gets_french(make_driver: MakeDriver) -> None:
    with SmtpSink.running() as sink:
        driver = make_driver(config=smtp(sink.port), notify_email=NOTIFY, language="DE")
        pay(driver)
        driver.run_worker()

    assert "REGLEMENT ACCEPTE" in sink.received[0].subject


@pytest.mark.parametrize(
    ("config", "shop"),
    [(smtp(25), {}), ({}, {"notify_email": NOTIFY})],
    ids=["no address", "no mail server"],
)
def test_no_mail_task_without_an_address_or_a_mail_server(
    make_driver: MakeDriver, config: dict[str, Any], shop: dict[str, str]
) -> None:
    driver = make_driver(Recorder(), config=config, **shop)
    pay(driver)

    assert mail_tasks(driver) == []
    assert [t.payload["plugin"] for t in driver.task_rows(EVENT_HOOKS)] == ["recorder"]


def test_a_mail_server_outage_delays_the_mail_and_loses_nothing(
    make_driver: MakeDriver, clock: FrozenClock
) -> None:
    port = free_port()  # nothing listens there yet: the server is away
    driver = make_driver(config=smtp(port), notify_email=NOTIFY)
    pay(driver)

    during = driver.run_worker()
    assert mail_tasks(driver) == ["pending"]
    assert any(o.error for o in during)
    clock.advance(timedelta(hours=7))
    with SmtpSink.running() as sink:
        driver.hub.config = dataclasses.replace(driver.hub.config, smtp_port=sink.port)
        driver.run_worker()

    assert mail_tasks(driver) == ["done"]
    assert [m.rcpt_tos for m in sink.received] == [[NOTIFY]]


def test_a_mail_task_of_an_older_hub_still_sends_its_mail(make_driver: MakeDriver) -> None:
    with SmtpSink.running() as sink:
        driver = make_driver(config=smtp(sink.port), notify_email=NOTIFY)
        pay(driver)
        (hook,) = driver.task_rows(EVENT_HOOKS)
        with driver.hub.db.transaction() as session:
            shop = session.get(Shop, driver.shop.id)
            assert shop is not None
            payload = {k: v for k, v in hook.payload.items() if k != "plugin"}
            enqueue(session, MAIL_MERCHANT, payload, shop, None, driver.hub.clock())
        driver.run_worker()

    assert len(sink.received) == 2  # the plugin's task and the older kind's, each once
    assert all("REGLEMENT ACCEPTE" in m.subject for m in sink.received)


def test_the_plugin_is_built_in_and_loads_whatever_the_allow_list() -> None:
    plugins = make_plugins(allow=frozenset())

    assert merchant_mail.NAME in plugins.builtin
    assert plugins.implementers("bluepaid_payment_event") == [merchant_mail.NAME]
