"""The outbox worker's own guarantees: one holder per task, order per payment,
no death from a bad moment, and no confirmation left behind."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub import inbox
from hub.models import InboxMessage, OutboxTask, TaskState
from hub.outbox import LEASE, UNFINISHED_AFTER, Worker
from hub.tasks import APPLY_EVENT
from tests.conftest import FrozenClock
from tests.hub.conftest import HubDriver


def apply_tasks(driver: HubDriver) -> list[OutboxTask]:
    with driver.hub.db.transaction() as session:
        query = select(OutboxTask).where(OutboxTask.kind == APPLY_EVENT).order_by(OutboxTask.id)
        return list(session.scalars(query))


def test_a_worker_that_lost_its_lease_records_nothing(driver: HubDriver, clock: FrozenClock) -> None:
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started))
    slow, fast = Worker(driver.hub), Worker(driver.hub)
    [(task_id, slow_lease)] = slow._claim(1)
    clock.advance(LEASE + timedelta(seconds=1))  # the slow worker took too long
    assert [outcome.state for outcome in fast.run_once()] == [TaskState.DONE]

    late = slow._record(task_id, slow_lease, RuntimeError("the shop timed out"))

    assert late.error == "lease lost"
    [task] = apply_tasks(driver)
    assert (task.state, task.attempts, task.last_error) == ("done", 1, "")


def test_tasks_of_one_payment_run_in_order(driver: HubDriver, clock: FrozenClock) -> None:
    started = driver.start(driver.new_order())
    driver.post(driver.confirmation(started, etat="attente", id_trans="T1"))
    driver.post(driver.confirmation(started, etat="ok", id_trans="T2"))
    first, _second = apply_tasks(driver)
    with driver.hub.db.transaction() as session:
        older = session.get(OutboxTask, first.id)
        assert older is not None
        older.next_attempt_at = clock() + timedelta(minutes=10)  # the "pending" is backing off

    assert Worker(driver.hub).claim() == []
    clock.advance(timedelta(minutes=10))
    assert Worker(driver.hub).claim() == [first.id]


def test_a_failing_batch_does_not_kill_the_worker(driver: HubDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = Worker(driver.hub)
    calls = 0
    stop = threading.Event()

    def flaky_run_once() -> list[object]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database restarting")
        stop.set()
        return []

    monkeypatch.setattr(worker, "run_once", flaky_run_once)

    worker.run_forever(stop, idle=0)

    assert calls == 2


def test_a_confirmation_left_without_a_verdict_is_processed_by_the_worker(
    driver: HubDriver, clock: FrozenClock
) -> None:
    started = driver.start(driver.new_order())
    # Stored, then the process handling it died before processing.
    inbox_id = inbox.store(
        driver.hub,
        method="POST",
        path="/confirm/demo/x",
        headers={},
        body="&".join(f"{k}={v}" for k, v in driver.confirmation(started).items()).encode(),
        remote_addr="127.0.0.1",
        shop_slug="demo",
        url_token=driver.shop.confirm_token,
    )
    Worker(driver.hub).run_once()
    assert driver.payment(started.payment_id).state == "created"  # too recent: maybe in flight

    clock.advance(UNFINISHED_AFTER)
    Worker(driver.hub).run_once()

    with driver.hub.db.transaction() as session:
        row = session.get(InboxMessage, inbox_id)
        assert row is not None
        assert row.verdict == "accepted"
    assert driver.payment(started.payment_id).state == "paid"
