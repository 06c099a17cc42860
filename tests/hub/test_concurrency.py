"""Concurrency on PostgreSQL, the production store: a real threaded HTTP server,
simultaneous confirmations, and outbox workers of separate hubs on one database."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.models import InboxMessage, OutboxTask, PaymentEventRow, Shop, Verdict
from hub.outbox import Worker
from hub.tasks import APPLY_EVENT, enqueue
from hub.urls import confirmation_url
from tests.conftest import FrozenClock
from tests.hub.conftest import PLATFORM, PUBLIC, HubDriver, Started

pytestmark = pytest.mark.slow

CONFIRMERS = 8
TASKS = 20


@pytest.fixture
def database_url(postgres_db: str) -> str:
    """These tests need row locks that mean something: PostgreSQL only."""
    return postgres_db


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The hub app behind a real threaded WSGI server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def other_hub(postgres_db: str, clock: FrozenClock) -> Iterator[Hub]:
    """A second hub process on the same database: its own engine and connection pool."""
    config = HubConfig(
        database_url=postgres_db, secret_key="k" * 32, public_url=PUBLIC, platform_url=PLATFORM
    )
    built = build_hub(config, clock=clock)
    yield built
    built.db.dispose()


def http_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # straight to 127.0.0.1, whatever proxy the environment names
    return session


def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(0..count-1)`` in threads released at once; return results or exceptions."""
    barrier = threading.Barrier(count, timeout=30)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"threads still running after 60 s: {stuck}"
    return results


def test_simultaneous_identical_confirmations_are_applied_exactly_once(
    driver: HubDriver, shop: Shop, served: str
) -> None:
    with http_session() as http:
        response = http.get(
            f"{served}{driver.pay_path(driver.new_order('36.60'))}", allow_redirects=False, timeout=30
        )
    assert response.status_code == 302, response.text
    fields = dict(parse_qsl(urlsplit(response.headers["Location"]).query, keep_blank_values=True))
    started = Started(fields["url_retour_ok"].rstrip("/").split("/")[-2], fields)
    confirm_url = served + urlsplit(confirmation_url(driver.hub, shop)).path
    body = driver.confirmation(started)

    def confirm(_: int) -> int:
        with http_session() as http:
            return http.post(confirm_url, data=body, timeout=30).status_code

    statuses = run_together(CONFIRMERS, confirm)

    assert statuses == [200] * CONFIRMERS
    with driver.hub.db.transaction() as session:
        verdicts = Counter(session.scalars(select(InboxMessage.verdict)))
        paid_events = session.scalar(
            select(func.count()).select_from(PaymentEventRow).where(PaymentEventRow.to_state == "paid")
        )
    assert verdicts == {Verdict.ACCEPTED: 1, Verdict.DUPLICATE: CONFIRMERS - 1}
    assert driver.payment(started.payment_id).state == "paid"
    assert driver.tasks(APPLY_EVENT) == 1
    assert paid_events == 1


def due_tasks(hub: Hub, shop: Shop, count: int) -> list[int]:
    with hub.db.transaction() as session:
        tasks = [
            enqueue(session, APPLY_EVENT, {"payment": f"p{i}"}, shop, None, hub.clock()) for i in range(count)
        ]
        session.flush()
        return sorted(task.id for task in tasks)


def test_workers_of_two_hubs_claiming_at_once_never_take_the_same_task(
    hub: Hub, other_hub: Hub, shop: Shop
) -> None:
    task_ids = due_tasks(hub, shop, TASKS)
    workers = [Worker(hub, batch=3), Worker(other_hub, batch=3)]

    def claim_all(index: int) -> list[int]:
        claimed: list[int] = []
        while batch := workers[index].claim():
            claimed += batch
        return claimed

    first, second = run_together(2, claim_all)

    assert isinstance(first, list), first
    assert isinstance(second, list), second
    assert not set(first) & set(second), f"claimed by both: {sorted(set(first) & set(second))}"
    assert sorted(first + second) == task_ids


def test_a_worker_skips_tasks_another_worker_holds_instead_of_waiting(
    hub: Hub, other_hub: Hub, shop: Shop
) -> None:
    task_ids = due_tasks(hub, shop, TASKS)
    held = task_ids[:5]
    claimed: list[int] = []
    with hub.db.engine.connect() as holder:
        transaction = holder.begin()
        holder.execute(select(OutboxTask.id).where(OutboxTask.id.in_(held)).with_for_update())
        claimer = threading.Thread(
            target=lambda: claimed.extend(Worker(other_hub, batch=TASKS).claim()), daemon=True
        )
        try:
            claimer.start()
            claimer.join(timeout=15)
            blocked = claimer.is_alive()
        finally:
            transaction.rollback()
            claimer.join(timeout=15)

    assert not blocked, "the worker waited for rows another transaction holds: SKIP LOCKED is not used"
    assert claimed == task_ids[5:]
