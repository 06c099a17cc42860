"""The dashboard: totals, the server-drawn chart, the alerts; reconciliation and its command."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from babel.dates import format_skeleton
from babel.numbers import format_currency
from click.testing import CliRunner
from sqlalchemy import update

from hub.backoffice.dashboard import alerts, summarize
from hub.backoffice.reconcile import expire_stale
from hub.backoffice.users import authenticate
from hub.cli.base import HubHolder, cli
from hub.context import Hub
from hub.models import OutboxTask, Shop
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import Browser, paid_payment
from tests.conftest import FrozenClock


def test_totals_keep_test_payments_apart(driver: HubDriver, hub: Hub) -> None:
    paid_payment(driver, "10.00", mode="")
    paid_payment(driver, "2.50", mode="", etat="ko")
    paid_payment(driver, "99.00")

    summary = summarize(hub, [driver.shop.id])

    assert summary.today.accepted == {"EUR": 1000}
    assert summary.today.refused == {"EUR": 250}
    assert summary.test_month.accepted == {"EUR": 9900}
    assert summary.days[-1].accepted == 1000 and summary.days[-1].test_accepted == 9900
    assert len(summary.days) == 30


def test_the_dashboard_draws_an_svg_chart_without_script(owner: Browser, driver: HubDriver) -> None:
    paid_payment(driver, "10.00", mode="")

    response = owner.get("/backoffice/")

    assert "<svg" in response.text and "<rect" in response.text
    assert "<script" not in response.text
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "€10.00" in response.text


LANGUAGES = ["en", "fr"]


def _speaking(owner: Browser, language: str) -> Browser:
    owner.post("/backoffice/language", {"language": language}, page="/backoffice/")
    return owner


def _totals(page: str) -> list[str]:
    """The amounts in the dashboard's total cards, in order, as a person reads them."""
    cards = page.split('<div class="totals">', 1)[1].split("<svg", 1)[0]
    shown = re.findall(r"<p>[^<]*:\s*(.*?)</p>", cards)
    return [re.sub(r"<[^>]+>", "", amount).strip() for amount in shown]


@pytest.mark.parametrize("language", LANGUAGES)
def test_totals_without_payment_are_zero_in_the_shops_currency(owner: Browser, language: str) -> None:
    page = _speaking(owner, language).get("/backoffice/").text

    # Today, this month, the month's test payments: accepted and refused each.
    assert _totals(page) == [format_currency(Decimal(0), "EUR", locale=language)] * 6


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_total_with_nothing_of_its_own_is_zero_in_the_currency_in_use(
    owner: Browser, driver: HubDriver, language: str
) -> None:
    started = driver.start(driver.new_order("10.00", currency="CHF"))
    assert driver.post(driver.confirmation(started, mode="")).status_code == 200

    page = _speaking(owner, language).get("/backoffice/").text

    paid, zero = (format_currency(Decimal(n), "CHF", locale=language) for n in ("10.00", "0"))
    assert _totals(page) == [paid, zero, paid, zero, zero, zero]


def test_an_empty_dashboard_takes_the_currency_its_shop_is_set_up_in(
    owner: Browser, hub: Hub, driver: HubDriver
) -> None:
    with hub.db.transaction() as db:
        db.execute(
            update(Shop).where(Shop.id == driver.shop.id).values(connector_settings={"currency": "GBP"})
        )

    page = _speaking(owner, "en").get("/backoffice/").text

    assert set(_totals(page)) == {format_currency(Decimal(0), "GBP", locale="en")}


def test_a_quiet_month_is_counted_in_the_currency_of_the_last_payment(
    owner: Browser, driver: HubDriver, clock: FrozenClock
) -> None:
    started = driver.start(driver.new_order("10.00", currency="USD"))
    assert driver.post(driver.confirmation(started, mode="")).status_code == 200
    clock.advance(timedelta(days=70))

    page = _speaking(owner, "fr").get("/backoffice/").text

    assert set(_totals(page)) == {format_currency(Decimal(0), "USD", locale="fr")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_chart_names_its_days_in_the_pages_language(
    owner: Browser, hub: Hub, driver: HubDriver, language: str
) -> None:
    paid_payment(driver, "10.00", mode="")
    days = [d.day for d in summarize(hub, [driver.shop.id]).days]

    chart = _speaking(owner, language).get("/backoffice/").text.split("<svg", 1)[1]

    labels = re.findall(r'font-size="10">([^<]*)</text>', chart)
    assert [format_skeleton("MMMd", d, locale=language) for d in days[::7]] == labels[:-1]
    assert days[-1].strftime("%d/%m") not in chart
    assert format_currency(Decimal("10.00"), "EUR", locale=language) == labels[-1]


def test_alerts_name_a_test_payment_on_a_live_shop_and_a_dead_task(driver: HubDriver, hub: Hub) -> None:
    payment = paid_payment(driver)
    with hub.db.transaction() as db:
        db.execute(update(Shop).where(Shop.id == driver.shop.id).values(test_mode=False))
        db.execute(update(OutboxTask).values(state="dead", last_error="shop down"))

    found = {(a.kind, a.payment) for a in alerts(hub, [driver.shop.id])}

    assert ("test_on_live", payment) in found
    assert ("dead_task", payment) in found


def test_an_amount_mismatch_is_an_alert(driver: HubDriver, hub: Hub) -> None:
    started = driver.start(driver.new_order("36.60"))
    driver.post(driver.confirmation(started, montant="1.00"))

    assert ("amount_mismatch", started.payment_id) in {
        (a.kind, a.payment) for a in alerts(hub, [driver.shop.id])
    }


def test_a_payment_left_pending_expires_and_a_late_ok_still_pays_it(
    driver: HubDriver, hub: Hub, clock: FrozenClock
) -> None:
    started = driver.start(driver.new_order())
    clock.advance(timedelta(hours=25))

    expired = expire_stale(hub)
    after = driver.payment(started.payment_id)
    driver.post(driver.confirmation(started))

    assert expired == [started.payment_id]
    assert (after.state, after.flags) == ("cancelled", ["expired"])
    assert driver.payment(started.payment_id).state == "paid"


def test_the_worker_expires_stale_payments(driver: HubDriver, clock: FrozenClock) -> None:
    started = driver.start(driver.new_order())
    clock.advance(timedelta(hours=25))

    driver.run_worker()

    assert driver.payment(started.payment_id).state == "cancelled"


def test_bluepaid_reconcile_and_user_commands(driver: HubDriver, hub: Hub, clock: FrozenClock) -> None:
    started = driver.start(driver.new_order())
    clock.advance(timedelta(hours=2))
    holder = HubHolder(hub.config, hub.plugins)
    holder._hub = hub
    runner = CliRunner()

    added = runner.invoke(
        cli, ["user", "add", "boss@demo.test", "--shop", "demo"], obj=holder, input="long password 1\n" * 2
    )
    reconciled = runner.invoke(cli, ["reconcile", "--older-than", "1", "--json"], obj=holder)

    assert added.exit_code == 0, added.output
    assert authenticate(hub, "boss@demo.test", "long password 1", "127.0.0.1") is not None
    assert reconciled.exit_code == 0, reconciled.output
    assert started.payment_id in reconciled.output
    assert driver.payment(started.payment_id).state == "cancelled"


def test_a_shop_order_not_marked_paid_is_listed_and_fixed_in_one_click(
    owner: Browser, driver: HubDriver
) -> None:
    payment = paid_payment(driver)
    tasks_before = driver.tasks("apply_event")

    listed = owner.get("/backoffice/reconcile").text
    fixed = owner.post(f"/backoffice/reconcile/{payment}/fix", page="/backoffice/")
    driver.run_worker()

    assert f"/backoffice/payments/{payment}" in listed
    assert fixed.status_code == 302
    assert driver.tasks("apply_event") == tasks_before + 1
    assert f"/backoffice/payments/{payment}" not in owner.get("/backoffice/reconcile").text
    assert "reconcile_fix" in owner.get(f"/backoffice/payments/{payment}").text
