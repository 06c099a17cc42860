"""The hub's pipeline with the PrestaShop connector (pay link, confirmations, outbox) on the
kit's hub, its frozen clock and the fake webservice: shop outages, Retry-After, out-of-order
and repeated confirmations, a partial refund, and the requests PrestaShop receives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bluepaid_plugins.testing import Confirmations
from connectors.prestashop.connector import PrestaShopConnector
from hub.models import TaskState
from hub.tasks import APPLY_EVENT
from hub.testing.kit import Kit
from hub.testing.shop_double import Reply
from tests.connectors.prestashop_shop import BASE, KEY, SECURE_KEY, XML, FakePrestaShop, error_body

PAID = [
    ("POST", "/api/order_histories"),
    ("PUT", "/api/order_payments/1"),
    ("POST", "/api/customer_threads"),
    ("POST", "/api/customer_messages"),
]


def setup(make_kit: Callable[..., Any]) -> tuple[Kit, FakePrestaShop, Confirmations]:
    fake = FakePrestaShop()
    kit: Kit = make_kit(
        PrestaShopConnector,
        settings={"base_url": BASE, "webservice_key": KEY},
        shop_url=BASE,
        install=fake.install,
    )
    fake.add_awaiting_order()
    started = kit.driver.start("42", SECURE_KEY)
    return kit, fake, Confirmations(started.fields)


def confirm(kit: Kit, message: dict[str, str]) -> None:
    assert kit.driver.post(message).status_code == 200


def written(fake: FakePrestaShop) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in fake.calls if c.method != "GET"]


def states(kit: Kit) -> list[str]:
    return [task.state for task in kit.driver.task_rows(APPLY_EVENT)]


def test_a_shop_outage_is_retried_and_the_order_changes_once(bluepaid_make_kit: Callable[..., Any]) -> None:
    kit, fake, confirmations = setup(bluepaid_make_kit)
    unavailable = error_body(0, "The shop is in maintenance")
    for _ in range(2):
        fake.fail("POST", "/api/order_histories", lambda: Reply(503, body=unavailable, content_type=XML))
    confirm(kit, confirmations.accepted())

    kit.driver.run_worker()
    kit.clock.advance(timedelta(hours=1))
    kit.driver.run_worker()
    assert states(kit) == [TaskState.PENDING.value]
    assert "The shop is in maintenance" in kit.driver.task_rows(APPLY_EVENT)[0].last_error
    kit.clock.advance(timedelta(hours=2))
    kit.driver.run_worker()

    assert states(kit) == [TaskState.DONE.value]
    assert written(fake) == [("POST", "/api/order_histories")] * 2 + PAID
    assert fake.state("42") == "2"
    assert len(fake.notes("42")) == 1


def test_retry_after_is_honoured(bluepaid_make_kit: Callable[..., Any]) -> None:
    kit, fake, confirmations = setup(bluepaid_make_kit)
    busy = error_body(0, "Too many requests")
    fake.fail(
        "GET",
        "/api/orders/42",
        lambda: Reply(429, body=busy, headers={"Retry-After": "600"}, content_type=XML),
    )
    confirm(kit, confirmations.accepted())

    kit.driver.run_worker()
    kit.clock.advance(timedelta(seconds=590))
    kit.driver.run_worker()
    assert written(fake) == []
    kit.clock.advance(timedelta(seconds=20))
    kit.driver.run_worker()

    assert written(fake) == PAID


def test_a_revoked_key_stops_the_task_with_prestashops_message(bluepaid_make_kit: Callable[..., Any]) -> None:
    kit, fake, confirmations = setup(bluepaid_make_kit)
    refused = error_body(0, "No permission for this authentication key")
    fake.fail("POST", "/api/order_histories", lambda: Reply(401, body=refused, content_type=XML))
    confirm(kit, confirmations.accepted())

    kit.driver.run_worker()

    (task,) = kit.driver.task_rows(APPLY_EVENT)
    assert task.state == TaskState.DEAD.value
    assert "No permission for this authentication key" in task.last_error
    assert KEY not in task.last_error + task.detail


def test_repeated_and_late_confirmations_reach_the_shop_once(bluepaid_make_kit: Callable[..., Any]) -> None:
    kit, fake, confirmations = setup(bluepaid_make_kit)
    paid = confirmations.accepted()
    refund = confirmations.refund("36.60")
    confirm(kit, paid)
    confirm(kit, refund)
    confirm(kit, paid)  # delivered again after the refund

    for _ in range(3):
        kit.driver.run_worker()

    assert written(fake) == [*PAID, ("POST", "/api/order_histories"), ("POST", "/api/customer_messages")]
    assert fake.state("42") == "7"
    notes = fake.notes("42")
    assert len(notes) == 2
    assert paid["id_trans"] in notes[0] and refund["id_trans"] in notes[1]


def test_a_partial_refund_is_a_note_with_its_amount(bluepaid_make_kit: Callable[..., Any]) -> None:
    kit, fake, confirmations = setup(bluepaid_make_kit)
    confirm(kit, confirmations.accepted())
    partial = confirmations.refund("10.00")
    confirm(kit, partial)

    for _ in range(2):
        kit.driver.run_worker()

    assert written(fake) == [*PAID, ("POST", "/api/customer_messages")]
    assert fake.state("42") == "2"
    assert "10.00 EUR" in fake.notes("42")[1] and partial["id_trans"] in fake.notes("42")[1]
