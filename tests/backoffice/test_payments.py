"""The payments of the back office: filters and search on a seeded database, paging,
the CSV export, the timeline, and the retry and re-check buttons."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import select, update

from bluepaid_plugins.money import Money
from hub.backoffice.payments import PAGE_SIZE
from hub.context import Hub
from hub.models import OutboxTask, Shop, TaskState
from hub.orders import create_link_order
from hub.testing.driver import HubDriver
from tests.backoffice.conftest import Browser, paid_payment
from tests.conftest import FrozenClock


def ids_on(page: str) -> set[str]:
    return set(re.findall(r"/backoffice/payments/([0-9a-f]{32})", page))


def seed(driver: HubDriver, clock: FrozenClock) -> dict[str, str]:
    """A paid test payment, a refused live one two days later, one left pending with a buyer's e-mail."""
    paid = paid_payment(driver, "36.60", id_trans="T-PAID")
    clock.advance(timedelta(days=2))
    refused = paid_payment(driver, "120.00", etat="ko", mode="", id_trans="T-KO")
    order = create_link_order(
        driver.hub.db, driver.shop, Money.parse("9.90", "EUR"), now=clock(), email="buyer@example.org"
    )
    pending = driver.start(order.ref).payment_id
    return {"paid": paid, "refused": refused, "pending": pending}


def test_filters_by_state_test_amount_and_date(owner: Browser, driver: HubDriver, clock: FrozenClock) -> None:
    made = seed(driver, clock)
    today = clock().date().isoformat()

    assert ids_on(owner.get("/backoffice/payments?state=paid").text) == {made["paid"]}
    assert ids_on(owner.get("/backoffice/payments?test=live").text) == {made["refused"], made["pending"]}
    assert ids_on(owner.get("/backoffice/payments?min=100").text) == {made["refused"]}
    assert ids_on(owner.get("/backoffice/payments?max=10").text) == {made["pending"]}
    assert ids_on(owner.get(f"/backoffice/payments?from={today}").text) == {made["refused"], made["pending"]}
    assert ids_on(owner.get(f"/backoffice/payments?to={today}&shop=demo").text) == set(made.values())
    assert ids_on(owner.get("/backoffice/payments?connector=woocommerce").text) == set()


def test_search_finds_a_payment_by_transaction_order_or_email(
    owner: Browser, driver: HubDriver, clock: FrozenClock
) -> None:
    made = seed(driver, clock)
    order_ref = driver.payment(made["paid"]).order_ref

    assert ids_on(owner.get("/backoffice/payments?q=T-KO").text) == {made["refused"]}
    assert ids_on(owner.get(f"/backoffice/payments?q={order_ref}").text) == {made["paid"]}
    assert ids_on(owner.get("/backoffice/payments?q=buyer@example.org").text) == {made["pending"]}


def test_the_list_is_paged(owner: Browser, driver: HubDriver) -> None:
    for _ in range(PAGE_SIZE + 1):
        driver.start(driver.new_order("5.00"))

    first = owner.get("/backoffice/payments").text
    second = owner.get("/backoffice/payments?page=2").text

    assert len(ids_on(first)) == PAGE_SIZE
    assert len(ids_on(second)) == 1
    assert "Page 2 of 2" in second


def test_the_csv_export_holds_the_filtered_list(
    owner: Browser, driver: HubDriver, clock: FrozenClock
) -> None:
    made = seed(driver, clock)

    response = owner.get("/backoffice/payments.csv?test=live")
    rows = list(csv.DictReader(io.StringIO(response.text)))

    assert response.mimetype == "text/csv"
    assert {r["id"] for r in rows} == {made["refused"], made["pending"]}
    refused = next(r for r in rows if r["id"] == made["refused"])
    assert (refused["amount"], refused["currency"], refused["state"], refused["test"]) == (
        "120.00",
        "EUR",
        "refused",
        "no",
    )


def test_the_timeline_shows_the_request_with_secrets_masked(
    owner: Browser, hub: Hub, driver: HubDriver
) -> None:
    with hub.db.transaction() as db:
        db.execute(update(Shop).where(Shop.id == driver.shop.id).values(send_confirmation_url=True))
    with hub.db.transaction() as db:
        shop = db.scalars(select(Shop).where(Shop.id == driver.shop.id)).one()
    driver.shop = shop
    payment = paid_payment(driver)

    page = owner.get(f"/backoffice/payments/{payment}").text

    assert "Request sent to the platform" in page
    assert "url_retour_bo" in page
    assert shop.confirm_token not in page
    assert "/confirm/demo/***" in page
    assert "Confirmation received from 127.0.0.1" in page
    assert "accepted" in page


def test_retrying_a_dead_task_makes_it_due_and_is_recorded(
    owner: Browser, hub: Hub, driver: HubDriver
) -> None:
    payment = paid_payment(driver)
    task = driver.task_rows()[0]
    with hub.db.transaction() as db:
        db.execute(
            update(OutboxTask)
            .where(OutboxTask.id == task.id)
            .values(state="dead", attempts=9, last_error="shop down")
        )
    page = owner.get(f"/backoffice/payments/{payment}").text
    assert "shop down" in page
    assert "Retry now" in page

    response = owner.post(f"/backoffice/payments/{payment}/tasks/{task.id}/retry", page="/backoffice/")

    assert response.status_code == 302
    assert driver.task_rows()[0].state == TaskState.PENDING.value
    after = owner.get(f"/backoffice/payments/{payment}").text
    assert "Action by owner@demo.test" in after
    assert "retry_task" in after


def test_a_rejected_message_is_checked_again_after_a_settings_fix(
    owner: Browser, hub: Hub, driver: HubDriver
) -> None:
    started = driver.start(driver.new_order())
    rejected = driver.post(driver.confirmation(started), remote="203.0.113.7")
    assert rejected.status_code == 403
    page = owner.get(f"/backoffice/payments/{started.payment_id}").text
    assert "Confirmation received from 203.0.113.7" in page
    message = re.search(r"/messages/(\d+)/replay", page)
    assert message is not None
    with hub.db.transaction() as db:
        db.execute(update(Shop).where(Shop.id == driver.shop.id).values(allowed_ips=["203.0.113.7"]))

    owner.post(
        f"/backoffice/payments/{started.payment_id}/messages/{message.group(1)}/replay", page="/backoffice/"
    )

    assert driver.payment(started.payment_id).state == "paid"
    after = owner.get(f"/backoffice/payments/{started.payment_id}").text
    assert "replay_message" in after
    assert "accepted" in after


def test_no_button_for_a_read_only_user(browser: Browser, hub: Hub, driver: HubDriver) -> None:
    payment = paid_payment(driver)
    with hub.db.transaction() as db:
        db.execute(update(OutboxTask).values(state="dead", attempts=3))
    browser.login("reader@demo.test")

    assert "Retry now" not in browser.get(f"/backoffice/payments/{payment}").text


def test_the_payment_of_an_unknown_id_is_not_found(owner: Browser) -> None:
    assert owner.get(f"/backoffice/payments/{'0' * 32}").status_code == 404


def test_the_csv_export_streams_a_line_at_a_time(
    owner: Browser, driver: HubDriver, clock: FrozenClock
) -> None:
    seed(driver, clock)

    response = owner.client.get("/backoffice/payments.csv", buffered=False)
    chunks = response.response  # the body as the server hands it out, before any is read
    first = next(iter(chunks))

    assert response.is_streamed and "Content-Length" not in response.headers
    assert (first.decode() if isinstance(first, bytes) else first).startswith("id,")
    response.close()
