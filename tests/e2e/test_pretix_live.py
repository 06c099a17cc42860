"""The pretix connector against a real pretix: its own checkout, its own API.

pretix (from PyPI) and our plugin run in their own environment (see
``pretix_live.py``); the hub and the sandbox run as in the other browser
tests. A buyer orders a ticket in pretix's shop pages, chooses "Credit card
(Bluepaid)", pays on the sandbox with a test card and comes back; then pretix,
through its REST API, says the order is paid, and lists one payment: the one
its checkout started, confirmed, of the right amount, carrying the transaction
number. The other flows run without a browser, on orders placed through
pretix's API as its checkout places them (with that payment "created").
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select, update

from bluepaid_plugins.money import Money
from connectors.pretix import PretixConnector
from hub.models import OutboxTask, Payment, TaskState
from hub.shops import check_connection
from hub.tasks import APPLY_EVENT, event_from_payload
from hub.testing.stack import Stack, free_port, live_stack, pay_with_card
from hub.urls import confirmation_url, pay_url_template
from sandbox.cards import TEST_CARDS, Scenario
from sandbox.delivery import deliver_due
from sandbox.models import Delivery, Transaction
from sandbox.refunds import refund
from tests.e2e.pretix_live import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    EVENT,
    ORGANIZER,
    LivePretix,
    PretixUnavailable,
    pretix_install,
    running_pretix,
)

pytestmark = pytest.mark.slow

ACCEPTED = next(card for card in TEST_CARDS if card.scenario is Scenario.ACCEPTED)
REFUSED = next(card for card in TEST_CARDS if card.scenario is Scenario.REFUSED_CEILING)


@dataclass
class Live:
    stack: Stack
    pretix: LivePretix

    def place_order(self) -> tuple[str, str]:
        """An order of one ticket with the Bluepaid payment method, as pretix's checkout
        places it (with its payment in state "created"); its code and secret."""
        item = self.pretix.api("GET", "/items/")["results"][0]
        order = self.pretix.api(
            "POST",
            "/orders/",
            json={
                "email": "ada@example.com",
                "locale": "en",
                "sales_channel": "web",
                "payment_provider": "bluepaid",
                "positions": [{"item": item["id"], "price": item["default_price"]}],
            },
        )
        return order["code"], order["secret"]

    def order(self, code: str) -> Any:
        return self.pretix.api("GET", f"/orders/{code}/")

    def payments(self, code: str) -> list[tuple[int, str, str, str, str | None]]:
        """pretix's own list of the order's payments: number, state, amount, provider, transaction."""
        listed = self.pretix.api("GET", f"/orders/{code}/payments/")["results"]
        return [
            (p["local_id"], p["state"], p["amount"], p["provider"], p["details"]["id_trans"]) for p in listed
        ]

    def payment(self, code: str) -> Payment:
        with self.stack.hub.db.transaction() as session:
            return session.scalars(
                select(Payment).where(Payment.order_ref == code).order_by(Payment.created_at.desc())
            ).first()

    def apply_tasks(self, code: str) -> list[OutboxTask]:
        with self.stack.hub.db.transaction() as session:
            tasks = session.scalars(select(OutboxTask).where(OutboxTask.kind == APPLY_EVENT)).all()
        return [t for t in tasks if t.payload.get("order_ref") == code]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    try:
        install = pretix_install()
    except PretixUnavailable as exc:
        pytest.skip(f"pretix cannot be installed here: {exc}")
    folder = tmp_path_factory.mktemp("pretix-live")
    port, token = free_port(), secrets.token_hex(32)
    settings = {
        "base_url": f"http://127.0.0.1:{port}",
        "organizer": ORGANIZER,
        "event": EVENT,
        "api_token": token,
    }
    with live_stack(
        folder, connector=PretixConnector, settings=settings, allow_private_addresses=True
    ) as stack:
        template = pay_url_template(stack.hub, stack.shop)
        with running_pretix(install, folder, port, token, template) as pretix:
            yield Live(stack, pretix)


@pytest.fixture
def shoot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: ``$BLUEPAID_SCREENSHOTS`` when set, else the test's folder."""
    folder = Path(os.environ.get("BLUEPAID_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pay_on_the_sandbox(page: Page, number: str, card_type: str) -> None:
    page.select_option("select[name=card_type]", card_type)
    page.fill("input[name=number]", number)
    page.select_option("select[name=expiry_month]", "12")
    page.select_option("select[name=expiry_year]", "2030")
    page.fill("input[name=cvv2]", "123")
    page.click("button[name=pay]")


def test_the_hub_reaches_the_event_and_its_plugin(live: Live) -> None:
    found = check_connection(live.stack.hub, live.stack.shop.slug)

    assert found.endswith("API token accepted, currency EUR, Bluepaid plugin enabled")


def test_a_buyer_pays_through_pretixs_own_checkout(
    live: Live, page: Page, shoot: Callable[[str], Path], shoot_dir: Path
) -> None:
    stack, pretix = live.stack, live.pretix
    page.goto(pretix.event_url)
    shoot("pretix-1-event")
    page.fill("#item_1", "1")
    page.click("#btn-add-to-cart")
    page.get_by_role("button", name="Proceed with checkout").click()
    page.fill("#id_email", "ada@example.com")
    page.get_by_role("button", name="Continue").click()
    page.locator("input[name=payment][value=bluepaid]").check()
    shoot("pretix-2-payment-method")
    page.get_by_role("button", name="Continue").click()
    shoot("pretix-3-review")
    page.get_by_role("button", name="Place binding order").click()
    page.wait_for_url(f"{stack.sandbox_url}/p/**")
    shoot("pretix-4-bluepaid-page")
    pay_on_the_sandbox(page, ACCEPTED.number, ACCEPTED.type.value)
    page.wait_for_url(f"{stack.hub_url}/return/**")
    shoot("pretix-5-hub-return")

    assert page.inner_text("h1") == "Payment accepted. Thank you!"
    assert "done" in stack.run_worker()
    with stack.hub.db.transaction() as session:
        code = session.scalars(select(Payment.order_ref).order_by(Payment.created_at.desc())).first()
    assert code is not None
    payment = live.payment(code)
    order = live.order(code)
    assert order["status"] == "p"
    assert live.payments(code) == [(1, "confirmed", "36.60", "bluepaid", payment.id_trans)]
    # pretix's own view of the paid order, kept beside the screenshots.
    (shoot_dir / "pretix-paid-order.json").write_text(json.dumps(order, indent=2), encoding="utf-8")
    page.goto(order["url"])
    shoot("pretix-6-order-paid")
    assert "paid" in page.inner_text("body").lower()


def test_the_same_confirmation_again_records_no_second_payment(live: Live) -> None:
    stack = live.stack
    code, secret = live.place_order()
    pay_with_card(stack, stack.pay_url(code, secret), ACCEPTED)
    stack.run_worker()
    payment = live.payment(code)
    with stack.platform.db.transaction() as session:
        sent = session.scalars(
            select(Delivery.fields).join(Transaction).where(Transaction.id_trans == payment.id_trans)
        ).first()
    assert sent is not None

    again = requests.post(confirmation_url(stack.hub, stack.shop), data=sent, timeout=10)
    stack.run_worker()
    # And the outbox's own retry of the same event (its answer lost, say).
    task = live.apply_tasks(code)[0]
    with stack.hub.connector(stack.shop) as connector:
        connector.apply_event(event_from_payload(task.payload, task.id))

    assert again.status_code == 200
    assert len(live.apply_tasks(code)) == 1
    assert live.order(code)["status"] == "p"
    assert live.payments(code) == [(1, "confirmed", "36.60", "bluepaid", payment.id_trans)]


def test_a_refused_card_leaves_the_order_pending_with_a_failed_payment(live: Live) -> None:
    stack = live.stack
    code, secret = live.place_order()

    pay_with_card(stack, stack.pay_url(code, secret), REFUSED)
    stack.run_worker()

    assert live.order(code)["status"] == "n"
    assert live.payments(code) == [(1, "failed", "36.60", "bluepaid", live.payment(code).id_trans)]


def test_a_partial_refund_through_the_sandbox_shows_in_pretix(live: Live) -> None:
    stack = live.stack
    code, secret = live.place_order()
    pay_with_card(stack, stack.pay_url(code, secret), ACCEPTED)
    stack.run_worker()

    made = refund(stack.platform, live.payment(code).id_trans, Money.parse("10.00", "EUR"))
    deliver_due(stack.platform)
    stack.run_worker()

    order = live.order(code)
    assert order["status"] == "p"
    assert [
        (r["state"], r["source"], r["amount"], r["payment"], r["details"]["id_trans"])
        for r in order["refunds"]
    ] == [("done", "external", "10.00", 1, made.id_trans)]


def test_pretix_stopped_during_delivery_gets_the_payment_once_back(live: Live) -> None:
    stack, pretix = live.stack, live.pretix
    code, secret = live.place_order()
    pay_with_card(stack, stack.pay_url(code, secret), ACCEPTED)

    pretix.stop()
    try:
        stack.run_worker()
        [task] = live.apply_tasks(code)
        assert task.state == TaskState.PENDING.value and "could not be reached" in task.last_error
    finally:
        pretix.start()
    # The backoff elapses.
    with stack.hub.db.transaction() as session:
        session.execute(
            update(OutboxTask)
            .where(OutboxTask.id == task.id)
            .values(next_attempt_at=stack.hub.clock() - timedelta(seconds=1))
        )
    stack.run_worker()

    assert [t.state for t in live.apply_tasks(code)] == [TaskState.DONE.value]
    assert live.order(code)["status"] == "p"
    assert live.payments(code) == [(1, "confirmed", "36.60", "bluepaid", live.payment(code).id_trans)]


def test_the_organiser_sets_the_pay_url_in_pretixs_admin(
    live: Live, page: Page, shoot: Callable[[str], Path]
) -> None:
    page.goto(f"{live.pretix.url}/control/login")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/control/" in url and "/login" not in url)
    settings = f"{live.pretix.url}/control/event/{ORGANIZER}/{EVENT}/settings/payment/bluepaid"
    field = page.locator("input[name=payment_bluepaid_pay_url]")
    _open_settings(page, settings, field)
    assert field.input_value() == pay_url_template(live.stack.hub, live.stack.shop)
    shoot("pretix-admin-1-settings")

    field.fill("http://hub.example/pay/demo/{order_ref}")
    page.get_by_role("button", name="Save").click()
    refusal = page.locator(".help-block", has_text="with {order_ref} and {key} once each")
    refusal.wait_for()

    assert refusal.is_visible()
    shoot("pretix-admin-2-refused")
    # The template kept is still the hub's.
    page.goto(settings)
    assert field.input_value() == pay_url_template(live.stack.hub, live.stack.shop)


def _open_settings(page: Page, url: str, field: Locator) -> None:
    """Open our payment method's settings page in pretix's admin.

    Twice in about a dozen runs, right after the test that restarts pretix, the
    page came without its form (never when this test ran alone; the cause is
    not known yet). It is loaded a second time before the test fails, and the
    failure says which page pretix showed instead."""
    for _attempt in range(2):
        page.goto(url)
        try:
            field.wait_for(timeout=15_000)
            return
        except PlaywrightTimeoutError:
            continue
    headings = page.locator("h1, h2, .alert").all_inner_texts()
    pytest.fail(f"pretix showed no pay URL field at {page.url} ({page.title()!r}): {headings[:5]}")


def test_a_pending_order_offers_the_hubs_pay_link_in_the_buyers_language(
    live: Live, browser: Browser, shoot_dir: Path
) -> None:
    code, secret = live.place_order()
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(live.order(code)["url"])
        link = page.get_by_role("link", name="Payer par carte avec Bluepaid")

        assert link.get_attribute("href") == live.stack.pay_url(code, secret)
        page.screenshot(path=str(shoot_dir / "pretix-7-pending-fr.png"), full_page=True)
    finally:
        context.close()
