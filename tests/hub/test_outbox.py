"""The outbox worker against a real shop API over HTTP, on SQLite and PostgreSQL.

The shop is :class:`~tests.hub.shop_stub.ShopAPI`, a real HTTP server the test
switches between down (503), refusing (404, 422) and up (200); the connector
reaches it with ``call_shop`` like a real connector. Time moves only through
the frozen clock, so three days of retries take milliseconds.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub import migrate
from hub.cli import main
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import OutboxTask, Shop, TaskState
from hub.outbox import Worker, replay
from hub.shops import add_shop
from hub.tasks import APPLY_EVENT
from tests.conftest import FrozenClock
from tests.hub.conftest import PLATFORM, PUBLIC, SANDBOX_IP, HubDriver
from tests.hub.shop_stub import ShopAPI, StubShopPlugin

ORDER_REF = "1042"


@pytest.fixture
def shop_api() -> Iterator[ShopAPI]:
    api = ShopAPI(status=503).start()
    yield api
    api.stop()


@pytest.fixture
def hub(database_url: str, clock: FrozenClock) -> Iterator[Hub]:
    """The hub of ``tests/hub/conftest.py`` with the stub shop's connector plugged in."""
    config = HubConfig(
        database_url=database_url,
        secret_key="k" * 32,
        public_url=PUBLIC,
        platform_url=PLATFORM,
        # The stub shop listens on 127.0.0.1.
        allow_private_addresses=True,
    )
    built = build_hub(config, extra_plugins=[StubShopPlugin()], clock=clock)
    migrate.upgrade(built.db)
    yield built
    built.db.dispose()


@pytest.fixture
def shop(hub: Hub, shop_api: ShopAPI) -> Shop:
    return add_shop(
        hub,
        slug="stub",
        id_boutique="21573www",
        connector="stub_shop",
        settings={"url": shop_api.url},
        allowed_ips=[SANDBOX_IP],
    )


def paid_order_task(driver: HubDriver) -> int:
    """Pay order 1042 through the hub; return the id of its one apply_event task."""
    started = driver.start(ORDER_REF)
    assert driver.post(driver.confirmation(started)).status_code == 200
    assert driver.payment(started.payment_id).state == "paid"
    with driver.hub.db.transaction() as session:
        tasks = session.execute(select(OutboxTask.id, OutboxTask.kind)).all()
    assert [kind for _, kind in tasks] == [APPLY_EVENT], tasks
    return int(tasks[0].id)


def read_task(hub: Hub, task_id: int) -> OutboxTask:
    with hub.db.transaction() as session:
        task = session.get(OutboxTask, task_id)
    assert task is not None
    return task


def expected_delay(attempts: int) -> timedelta:
    """The delay before the next try after ``attempts`` failures, before jitter."""
    return min(timedelta(seconds=30) * 2 ** (attempts - 1), timedelta(hours=6))


def test_shop_down_is_retried_with_doubling_delays_for_three_days_then_dead_then_replayed(
    driver: HubDriver, shop_api: ShopAPI, clock: FrozenClock
) -> None:
    task_id = paid_order_task(driver)
    created_at = read_task(driver.hub, task_id).created_at
    worker = Worker(driver.hub, rng=random.Random(7))
    attempted_at = []
    jitters = set()

    for _ in range(100):
        outcomes = worker.run_once()
        assert [o.task_id for o in outcomes] == [task_id], f"attempt {len(attempted_at) + 1}: {outcomes}"
        attempted_at.append(clock.now)
        task = read_task(driver.hub, task_id)
        assert task.attempts == len(attempted_at)
        if task.state == TaskState.DEAD:
            break
        assert task.state == TaskState.PENDING, task.state
        delay = task.next_attempt_at - clock.now
        base = expected_delay(task.attempts)
        assert base * 0.8 <= delay <= base * 1.2, (
            f"after {task.attempts} failures: {delay}, expected {base} ± 20 %"
        )
        jitters.add(round(delay / base, 6))
        clock.now = task.next_attempt_at - timedelta(seconds=1)
        assert worker.run_once() == [], f"attempt {task.attempts + 1} ran before its time"
        clock.now = task.next_attempt_at
    else:
        pytest.fail(f"task still retried after {len(attempted_at)} attempts: {attempted_at[-1] - created_at}")

    assert attempted_at[-1] - created_at >= timedelta(days=3), attempted_at[-1] - created_at
    assert len(jitters) > 1, "every delay had the same jitter"
    assert "503" in task.last_error, task.last_error
    assert [call.status for call in shop_api.calls] == [503] * len(attempted_at)
    clock.advance(timedelta(days=30))
    assert worker.run_once() == [], "a dead task was retried"

    replay(driver.hub, task_id)
    outcomes = worker.run_once()
    assert [(o.task_id, o.state) for o in outcomes] == [(task_id, TaskState.PENDING)], "no fresh retry window"
    clock.now = read_task(driver.hub, task_id).next_attempt_at
    shop_api.status = 200
    outcomes = worker.run_once()

    assert [(o.task_id, o.state) for o in outcomes] == [(task_id, TaskState.DONE)]
    assert read_task(driver.hub, task_id).state == TaskState.DONE
    [delivered] = shop_api.answered(200)
    assert delivered.path == f"/orders/{ORDER_REF}/payments"
    assert (delivered.body["status"], delivered.body["id_trans"]) == ("paid", "T1000")


@pytest.mark.parametrize("status", [404, 422])
def test_shop_refusing_the_update_makes_the_task_dead_at_once(
    driver: HubDriver, shop_api: ShopAPI, clock: FrozenClock, status: int
) -> None:
    shop_api.status = status
    task_id = paid_order_task(driver)
    worker = Worker(driver.hub, rng=random.Random(7))

    outcomes = worker.run_once()

    assert [(o.task_id, o.state) for o in outcomes] == [(task_id, TaskState.DEAD)]
    task = read_task(driver.hub, task_id)
    assert (task.state, task.attempts) == (TaskState.DEAD, 1)
    assert str(status) in task.last_error, task.last_error
    clock.advance(timedelta(days=4))
    assert worker.run_once() == []
    assert len(shop_api.calls) == 1


def test_task_left_running_by_a_dead_worker_is_claimed_again_after_its_lease(
    driver: HubDriver, shop_api: ShopAPI, clock: FrozenClock
) -> None:
    shop_api.status = 200
    task_id = paid_order_task(driver)
    assert Worker(driver.hub).claim() == [task_id]  # and that worker dies before running it
    assert read_task(driver.hub, task_id).state == TaskState.RUNNING
    survivor = Worker(driver.hub, rng=random.Random(7))

    assert survivor.run_once() == []
    clock.advance(timedelta(minutes=4, seconds=59))
    assert survivor.run_once() == [], "a task was taken from a worker whose lease had not expired"
    clock.advance(timedelta(seconds=2))
    outcomes = survivor.run_once()

    assert [(o.task_id, o.state) for o in outcomes] == [(task_id, TaskState.DONE)]
    assert read_task(driver.hub, task_id).state == TaskState.DONE
    assert len(shop_api.answered(200)) == 1


def test_a_worker_with_a_shorter_lease_gives_up_its_tasks_sooner(
    driver: HubDriver, shop_api: ShopAPI, clock: FrozenClock
) -> None:
    shop_api.status = 200
    task_id = paid_order_task(driver)
    assert Worker(driver.hub, lease=timedelta(seconds=3)).claim() == [task_id]  # then it dies
    survivor = Worker(driver.hub)

    clock.advance(timedelta(seconds=2))
    assert survivor.run_once() == []
    clock.advance(timedelta(seconds=2))
    assert [(o.task_id, o.state) for o in survivor.run_once()] == [(task_id, TaskState.DONE)]
    with pytest.raises(ValueError, match="positive"):
        Worker(driver.hub, lease=timedelta(0))


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEPAID_DATABASE_URL", database_url)
    monkeypatch.setenv("BLUEPAID_SECRET_KEY", "k" * 32)


@pytest.mark.usefixtures("cli_env")
def test_cli_lists_a_dead_task_and_replays_it(
    driver: HubDriver, shop_api: ShopAPI, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    shop_api.status = 404
    task_id = paid_order_task(driver)
    worker = Worker(driver.hub, rng=random.Random(7))
    worker.run_once()
    capsys.readouterr()

    assert main(["outbox", "list", "--state", "dead", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["id"], t["state"], t["order_ref"]) for t in listed] == [(task_id, "dead", ORDER_REF)]
    assert "404" in listed[0]["last_error"]

    assert main(["outbox", "replay", str(task_id), "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert (replayed["id"], replayed["state"]) == (task_id, "pending")

    shop_api.status = 200
    clock.now = max(clock.now, read_task(driver.hub, task_id).next_attempt_at)
    assert [(o.task_id, o.state) for o in worker.run_once()] == [(task_id, TaskState.DONE)]
    assert main(["outbox", "list", "--state", "dead", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.usefixtures("cli_env")
def test_cli_replay_of_a_task_that_is_not_dead_fails_with_one_line(
    driver: HubDriver, capsys: pytest.CaptureFixture[str]
) -> None:
    task_id = paid_order_task(driver)
    capsys.readouterr()

    assert main(["outbox", "replay", str(task_id), "--json"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: no dead outbox task {task_id}\n"
    assert read_task(driver.hub, task_id).state == TaskState.PENDING
