"""Events with identity and running totals, refunds told only to connectors that take
them, and the shop's status mapping followed when an event is applied."""

from __future__ import annotations

from datetime import timedelta

from bluepaid_plugins import Capability, Money, OrderStatus, Schedule, StatusEvent
from bluepaid_plugins.errors import ShopUnavailable
from bluepaid_plugins.protocol import Etat
from bluepaid_plugins.testing import Confirmations
from hub.orders import create_link_order
from hub.shops import set_status_mapping
from hub.tasks import APPLY_EVENT, EVENT_HOOKS
from tests.conftest import FrozenClock
from tests.hub.conftest import HubDriver, MakeDriver
from tests.hub.contract_connectors import (
    EventRecorder,
    OrderBook,
    book_driver,
    book_shop,
    paid,
    status_of,
)

Totals = tuple[str, str, str, str]


def totals(recorder: EventRecorder) -> list[Totals]:
    """Each event's kind, amount, paid total and refunded total."""
    return [(e.kind.value, str(e.amount), str(e.paid_total), str(e.refunded_total)) for e in recorder.events]


def recorded_link(make_driver: MakeDriver) -> tuple[HubDriver, EventRecorder]:
    recorder = EventRecorder()
    return make_driver(recorder), recorder


def refund(driver: HubDriver, platform: Confirmations, amount: str) -> None:
    assert driver.post(platform.refund(amount)).status_code == 200
    assert driver.last_inbox().verdict == "accepted"


# Identity


def test_an_event_keeps_its_id_on_every_retry(make_driver: MakeDriver, clock: FrozenClock) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book))
    book.fail("apply_event", ShopUnavailable("Book shop answered 503; will retry"))
    paid(driver, book.add())

    driver.run_worker()
    clock.advance(timedelta(hours=1))
    driver.run_worker()

    (task,) = driver.task_rows(APPLY_EVENT)
    assert (task.state, task.attempts) == ("done", 2)
    assert task.payload["id"].startswith("ev_")
    assert [event.id for event in book.calls] == [task.payload["id"], task.payload["id"]]


def test_each_event_has_an_id_of_its_own_shared_by_all_its_tasks(make_driver: MakeDriver) -> None:
    book, recorder = OrderBook(), EventRecorder()
    driver = book_driver(make_driver, book_shop(book), recorder)
    _, platform = paid(driver, book.add())
    refund(driver, platform, "10.00")

    driver.run_worker()

    applied = [event.id for event in book.applied]
    assert len(set(applied)) == 2
    assert [event.id for event in recorder.events] == applied
    assert [task.payload["id"] for task in driver.task_rows(EVENT_HOOKS)] == applied


# Running totals


def test_a_partial_refund_event_carries_the_running_totals(make_driver: MakeDriver) -> None:
    driver, recorder = recorded_link(make_driver)
    started, platform = paid(driver, driver.new_order("36.60"), proof="")
    refund(driver, platform, "10.00")

    driver.run_worker()

    assert totals(recorder) == [
        ("paid", "36.60", "36.60", "0.00"),
        ("partially_refunded", "10.00", "36.60", "10.00"),
    ]
    assert {event.payment_id for event in recorder.events} == {started.payment_id}


def test_the_refund_of_what_remains_is_a_full_refund(make_driver: MakeDriver) -> None:
    driver, recorder = recorded_link(make_driver)
    _, platform = paid(driver, driver.new_order("36.60"), proof="")
    refund(driver, platform, "10.00")
    refund(driver, platform, "26.60")

    driver.run_worker()

    assert totals(recorder)[-1] == ("refunded", "26.60", "36.60", "36.60")


def test_a_refund_of_everything_at_once_is_a_full_refund(make_driver: MakeDriver) -> None:
    driver, recorder = recorded_link(make_driver)
    _, platform = paid(driver, driver.new_order("36.60"), proof="")
    refund(driver, platform, "36.60")

    driver.run_worker()

    assert totals(recorder)[-1] == ("refunded", "36.60", "36.60", "36.60")


def subscribed(driver: HubDriver) -> Confirmations:
    """A subscription link of 9.90 a month, 5.00 the first time, and its first debit accepted."""
    schedule = Schedule(occurrences=3, initial=Money.parse("5.00", "EUR"))
    order = create_link_order(
        driver.hub.db, driver.shop, Money.parse("9.90", "EUR"), now=driver.hub.clock(), schedule=schedule
    )
    _, platform = paid(driver, order.ref, proof="")
    return platform


def test_a_later_debit_adds_to_the_paid_total(make_driver: MakeDriver) -> None:
    driver, recorder = recorded_link(make_driver)
    platform = subscribed(driver)
    driver.post(platform.debit(2))

    driver.run_worker()

    assert totals(recorder) == [("paid", "5.00", "5.00", "0.00"), ("paid", "9.90", "14.90", "0.00")]
    assert [(e.debit, e.status_event) for e in recorder.events] == [
        (1, StatusEvent.PAID),
        (2, StatusEvent.DEBIT_PAID),
    ]


def test_a_refused_later_debit_leaves_the_paid_total(make_driver: MakeDriver) -> None:
    driver, recorder = recorded_link(make_driver)
    platform = subscribed(driver)
    driver.post(platform.debit(2, Etat.KO))

    driver.run_worker()

    assert totals(recorder)[-1] == ("refused", "9.90", "5.00", "0.00")
    assert recorder.events[-1].status_event is StatusEvent.DEBIT_REFUSED


# Capabilities


def test_a_refund_is_not_told_to_a_connector_without_refunds(make_driver: MakeDriver) -> None:
    book, recorder = OrderBook(), EventRecorder()
    driver = book_driver(make_driver, book_shop(book, capabilities=frozenset()), recorder)
    started, platform = paid(driver, book.add())
    refund(driver, platform, "36.60")

    driver.run_worker()

    assert [event.kind.value for event in book.calls] == ["paid"]
    assert driver.tasks(APPLY_EVENT) == 1
    assert "refund_not_applied" in driver.payment(started.payment_id).flags
    assert [event.kind.value for event in recorder.events] == ["paid", "refunded"]
    assert {task.state for task in driver.task_rows(EVENT_HOOKS)} == {"done"}


def test_a_partial_refund_is_not_told_to_a_connector_without_partial_refunds(
    make_driver: MakeDriver,
) -> None:
    book, recorder = OrderBook(), EventRecorder()
    connector = book_shop(book, capabilities=frozenset({Capability.REFUNDS}))
    driver = book_driver(make_driver, connector, recorder)
    started, platform = paid(driver, book.add())
    refund(driver, platform, "10.00")

    driver.run_worker()

    assert [event.kind.value for event in book.calls] == ["paid"]
    assert "refund_not_applied" in driver.payment(started.payment_id).flags
    assert [event.kind.value for event in recorder.events] == ["paid", "partially_refunded"]


def test_a_full_refund_is_told_to_a_connector_without_partial_refunds(make_driver: MakeDriver) -> None:
    book = OrderBook()
    driver = book_driver(make_driver, book_shop(book, capabilities=frozenset({Capability.REFUNDS})))
    started, platform = paid(driver, book.add())
    refund(driver, platform, "36.60")

    driver.run_worker()

    assert [event.kind.value for event in book.applied] == ["paid", "refunded"]
    assert "refund_not_applied" not in driver.payment(started.payment_id).flags


# The status mapping, applied


def test_a_refused_payment_leaves_a_payment_link_payable_by_default(driver: HubDriver) -> None:
    ref = driver.new_order()
    driver.post(Confirmations(driver.start(ref).fields).refused())

    driver.run_worker()

    assert status_of(driver, ref) is OrderStatus.FAILED
    assert driver.open_pay(ref).status_code == 302


def test_apply_event_follows_the_merchants_mapping(driver: HubDriver) -> None:
    set_status_mapping(driver.hub, "demo", {"refused": "cancelled"})
    ref = driver.new_order()
    driver.post(Confirmations(driver.start(ref).fields).refused())

    driver.run_worker()

    assert status_of(driver, ref) is OrderStatus.CANCELLED
    response = driver.open_pay(ref)
    assert response.status_code == 409
    assert "This order was cancelled." in response.text
