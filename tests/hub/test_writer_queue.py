"""SQLite writers wait their turn in a queue, not in SQLite's busy handler."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from bluepaid_plugins.db import Database, WriterQueue


def impatient(url: str) -> Database:
    """A store whose connections fail at once on a locked database (no busy
    timeout): a write that succeeds beside another one waited in the queue."""
    database = Database(url)

    def no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    event.listen(database.engine, "connect", no_busy_wait)
    with database.transaction() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
    return database


@pytest.mark.parametrize("stores", [1, 2], ids=["one process", "two processes"])
def test_transactions_beside_each_other_queue_instead_of_failing(tmp_path: Path, stores: int) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    # Two Database objects on one file stand for two processes: their queues share the lock file.
    databases = [impatient(url) for _ in range(stores)]
    failures: list[BaseException] = []

    def write(database: Database, n: int) -> None:
        try:
            for i in range(10):
                with database.transaction() as session:
                    session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n * 100 + i})
                    time.sleep(0.002)  # hold the write lock while the others want it
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(databases[n % stores], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    with databases[0].transaction() as session:
        assert session.scalar(text("SELECT count(*) FROM t")) == 40


def test_a_failed_transaction_gives_its_turn_back(tmp_path: Path) -> None:
    database = impatient(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    with pytest.raises(ZeroDivisionError), database.transaction() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise ZeroDivisionError

    done = threading.Event()

    def write() -> None:
        with database.transaction() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(timeout=10), "the next writer never got its turn"


def test_a_thread_holding_the_turn_is_not_queued_behind_itself() -> None:
    queue = WriterQueue(None)

    assert queue.acquire() is True
    assert queue.acquire() is False
    queue.release()
    assert queue.acquire() is True
    queue.release()
