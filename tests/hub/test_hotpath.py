"""The confirmation hot path (hub/hotpath.py): the common confirmations skip the
ORM, and leave exactly the rows the ORM path leaves; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bluepaid_plugins.db import WriterQueue
from hub import inbox
from hub.apply import Result
from hub.hotpath import HotPath, _Prepared
from hub.models import InboxMessage, OutboxTask, Payment, PaymentEventRow, Verdict
from hub.tasks import APPLY_EVENT
from hub.testing.driver import PLATFORM_IP
from hub.urls import confirmation_url
from tests.hub.conftest import HubDriver


@pytest.fixture
def orm_path_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if a request falls back to the ORM path (hub.inbox.process)."""

    def forbidden(*_args: object) -> Result:
        raise AssertionError("the hot path handed a common confirmation to hub.inbox.process")

    monkeypatch.setattr(inbox, "process", forbidden)


@pytest.mark.usefixtures("orm_path_forbidden")
def test_accepted_duplicate_and_late_confirmations_stay_on_the_hot_path(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))

    accepted = driver.post(driver.confirmation(started))
    duplicate = driver.post(driver.confirmation(started))
    late = driver.post(driver.confirmation(started, etat="ko", id_trans="T0"))

    assert [r.status_code for r in (accepted, duplicate, late)] == [200, 200, 200]
    verdicts = [row.verdict for row in _rows(driver, InboxMessage)]
    assert verdicts == [Verdict.ACCEPTED, Verdict.DUPLICATE, Verdict.STALE]
    assert driver.payment(started.payment_id).state == "paid"


@pytest.mark.usefixtures("orm_path_forbidden")
def test_a_driver_that_cannot_pipeline_sends_the_statements_one_by_one(
    driver: HubDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hot: HotPath = driver.client.application.extensions["bluepaid.hotpath"]
    monkeypatch.setattr(hot, "pipelined", False)
    started = driver.start(driver.new_order("36.60"))

    driver.post(driver.confirmation(started))
    driver.post(driver.confirmation(started))

    verdicts = [row.verdict for row in _rows(driver, InboxMessage)]
    assert verdicts == [Verdict.ACCEPTED, Verdict.DUPLICATE]
    assert driver.payment(started.payment_id).state == "paid"


def test_a_refused_confirmation_is_judged_by_the_orm_path_after_it_is_stored(driver: HubDriver) -> None:
    started = driver.start(driver.new_order("36.60"))

    response = driver.post(driver.confirmation(started, montant="1.00"))

    assert response.status_code == 200
    assert driver.last_inbox().verdict == Verdict.AMOUNT_MISMATCH
    assert "amount_mismatch" in driver.payment(started.payment_id).flags


def test_the_hot_path_writes_the_rows_the_orm_path_writes(driver: HubDriver) -> None:
    hot = driver.start(driver.new_order("36.60"))
    orm = driver.start(driver.new_order("36.60"))

    for etat, id_trans in (("attente", "T1"), ("ok", "T2"), ("ok", "T2"), ("ko", "T3")):
        driver.post(driver.confirmation(hot, etat=etat, id_trans=id_trans))
        _through_the_orm(driver, driver.confirmation(orm, etat=etat, id_trans=id_trans))

    hot_id, orm_id = (driver.payment(s.payment_id).id for s in (hot, orm))
    assert _seen(driver, hot_id) == _seen(driver, orm_id)
    assert len(_seen(driver, hot_id)["tasks"]) == 2  # pending, then paid


def test_a_duplicate_the_read_missed_is_stopped_by_the_database(
    driver: HubDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hot: HotPath = driver.client.application.extensions["bluepaid.hotpath"]
    monkeypatch.setattr(hot.sql, "lock", _Blind(**asdict(hot.sql.lock)))
    started = driver.start(driver.new_order("36.60"))
    driver.post(driver.confirmation(started, etat="attente"))

    # Pending after pending would be written down as stale, were it not the same message.
    second = driver.post(driver.confirmation(started, etat="attente"))

    assert second.status_code == 200
    assert driver.last_inbox().verdict == Verdict.DUPLICATE
    assert len(_rows(driver, PaymentEventRow)) == 1
    assert driver.tasks(APPLY_EVENT) == 1


class _Blind(_Prepared):
    """The hot path's locking read, blind to the events already applied: as if
    another process applied the same message between its read and its write."""

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        read = super().row(raw)
        return (*read[:7], None, *read[8:])


@pytest.mark.usefixtures("orm_path_forbidden")
def test_a_payment_that_moved_after_the_first_read_is_planned_again_under_the_lock(
    driver: HubDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hot: HotPath = driver.client.application.extensions["bluepaid.hotpath"]
    started = driver.start(driver.new_order("36.60"))
    driver.post(driver.confirmation(started, etat="attente", id_trans="T1"))
    monkeypatch.setattr(hot.sql, "shop", _BeforeTheMove(**asdict(hot.sql.shop)))

    accepted = driver.post(driver.confirmation(started, id_trans="T2"))

    assert accepted.status_code == 200
    events = _rows(driver, PaymentEventRow)
    assert [(e.from_state, e.to_state) for e in events] == [("created", "pending"), ("pending", "paid")]
    assert driver.payment(started.payment_id).state == "paid"


class _BeforeTheMove(_Prepared):
    """The hot path's first read, showing every payment as just created: as if
    another process moved it between that read and the lock."""

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        read = super().row(raw)
        return (*read[:14], "created", [], 0, 0) if read[9] is not None else read


#: One confirmation of a sequence: etat, mode, transaction, amount as sent.
MESSAGES = st.tuples(
    st.sampled_from(["ok", "ko", "attente", "annu"]),
    st.sampled_from(["test", ""]),
    st.sampled_from(["T1", "T2", "T3"]),
    st.sampled_from(["36.60", "36,60", "1.00"]),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(MESSAGES, min_size=1, max_size=4))
def test_any_sequence_leaves_what_the_orm_path_leaves(
    driver: HubDriver, messages: list[tuple[str, str, str, str]]
) -> None:
    hot = driver.start(driver.new_order("36.60"))
    orm = driver.start(driver.new_order("36.60"))

    for etat, mode, id_trans, montant in messages:
        fields = {"etat": etat, "mode": mode, "id_trans": id_trans, "montant": montant}
        driver.post(driver.confirmation(hot, **fields))
        _through_the_orm(driver, driver.confirmation(orm, **fields))

    hot_id, orm_id = (driver.payment(s.payment_id).id for s in (hot, orm))
    assert _seen(driver, hot_id) == _seen(driver, orm_id)


def test_writers_wait_their_turn_across_open_files(tmp_path: Path) -> None:
    # Two queues on one database stand for two hub processes: flock excludes open files.
    first, second = WriterQueue(str(tmp_path / "hub.sqlite3")), WriterQueue(str(tmp_path / "hub.sqlite3"))
    inside: list[str] = []
    overlaps: list[str] = []

    def write(queue: WriterQueue, name: str) -> None:
        for _ in range(20):
            with queue.turn():
                if inside:
                    overlaps.append(name)
                inside.append(name)
                time.sleep(0.001)
                inside.remove(name)

    threads = [threading.Thread(target=write, args=(q, n)) for q, n in ((first, "a"), (second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert overlaps == []
    assert (tmp_path / "hub.sqlite3-writers.lock").exists()


def _through_the_orm(driver: HubDriver, fields: dict[str, str]) -> None:
    """Store and judge a confirmation the way hub.inbox always did, bypassing the hot path."""
    body = urlencode(fields).encode()
    path = urlsplit(confirmation_url(driver.hub, driver.shop)).path
    stored = inbox.store(
        driver.hub,
        method="POST",
        path=path,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))},
        body=body,
        remote_addr=PLATFORM_IP,
        shop_slug=driver.shop.slug,
        url_token=path.rsplit("/", 1)[1],
    )
    inbox.process(driver.hub, stored)


def _rows(driver: HubDriver, model: Any, **where: Any) -> list[Any]:
    query = select(model).filter_by(**where).order_by(model.id)
    with driver.hub.db.transaction() as session:
        return list(session.scalars(query))


def _seen(driver: HubDriver, payment_id: int) -> dict[str, Any]:
    """What a payment's confirmations left, without ids, times and the payment's own names."""
    payment = _rows(driver, Payment, id=payment_id)[0]
    events = _rows(driver, PaymentEventRow, payment_id=payment_id)
    messages = _rows(driver, InboxMessage, payment_id=payment_id)
    tasks = _rows(driver, OutboxTask, payment_id=payment_id)
    personal = {"id", "payment", "order_ref", "occurred_at"}
    return {
        "payment": (
            payment.state,
            payment.flags,
            payment.paid_minor,
            payment.refunded_minor,
            payment.id_trans,
        ),
        "events": [
            (e.kind, e.from_state, e.to_state, e.id_trans, e.amount_minor, e.detail, e.parked, e.debit)
            for e in events
        ],
        "inbox": [
            (
                m.method,
                m.headers.get("Content-Type"),
                m.remote_addr,
                m.verdict,
                m.reason.split(" event ")[0],
                m.shop_id,
            )
            for m in messages
        ],
        "tasks": [
            (t.kind, t.state, t.attempts, {k: v for k, v in t.payload.items() if k not in personal})
            for t in tasks
        ],
    }
