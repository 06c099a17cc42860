"""Engine and sessions shared by the hub, the sandbox and the cart: SQLite by
default, PostgreSQL in production.

SQLite is configured so that concurrent writers wait instead of failing with
"database is locked": WAL journal, every transaction opened with ``BEGIN
IMMEDIATE`` (a deferred transaction that later needs to write cannot wait for
the lock and fails at once; an immediate one queues), and a queue of writers
(:class:`WriterQueue`) in front of the lock, the busy timeout staying the
fallback.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 60_000


def make_engine(url: str, writers: WriterQueue | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings this project relies on; on SQLite,
    its transactions wait for their turn in ``writers`` (see :func:`queue_writers`).

    Its errors and logs never show a statement's parameters: they hold
    confirmation tokens, request bodies and secrets on their way to the database.
    """
    kwargs["hide_parameters"] = True
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        queue_writers(engine, writers or WriterQueue(None))
        return engine
    # Recycle instead of pre-pinging: a ping is one more round trip on every checkout.
    return create_engine(url, pool_recycle=1800, **kwargs)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module so "begin" below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and read back as aware UTC, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class WriterQueue:
    """The SQLite writers of one database file, served one after the other.

    SQLite lets one writer in at a time; the others wait in its busy handler,
    which sleeps and polls (up to 100 ms a sleep), so the wait is as long as the
    unlucky sleep, not the writer ahead. Here a writer first takes a ``flock`` on
    a file beside the database, which the kernel hands to the next waiter the
    moment it is released: writers in every process on the machine queue without
    polling. Threads of one process queue on a lock first: ``flock`` excludes
    open files, not threads. An in-memory database has no other process: the
    thread lock is the queue.

    A thread that already holds the turn (a transaction opened inside another)
    is not queued again: it meets SQLite's busy timeout, as without a queue,
    rather than wait for itself. A thread lock held past the busy timeout is no
    longer waited for either.
    """

    def __init__(self, database_path: str | None) -> None:
        self._path = f"{database_path}-writers.lock" if database_path else None
        self._threads = threading.Lock()
        self._owner: int | None = None
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> bool:
        """Wait for this writer's turn; False (and no turn taken) when this thread
        holds it already or the wait outlasted the busy timeout."""
        if self._owner == threading.get_ident():
            return False
        if not self._threads.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            return False
        fd = self._file()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        self._owner = threading.get_ident()
        return True

    def release(self) -> None:
        """End the turn :meth:`acquire` gave: the next writer goes."""
        self._owner = None
        if self._fd is not None and self._pid == os.getpid():
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """This writer's turn for the block (see :meth:`acquire`)."""
        held = self.acquire()
        try:
            yield
        finally:
            if held:
                self.release()

    def _file(self) -> int | None:
        if self._path is None:
            return None
        # A forked worker must not share its parent's open file: flock would not tell them apart.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


def queue_writers(engine: Engine, queue: WriterQueue) -> None:
    """Open every transaction of ``engine`` (SQLite) with ``BEGIN IMMEDIATE`` once
    it has its turn in ``queue``, and give the turn back when it ends.

    A transaction ends in the dialect's commit or rollback, whoever asks for it (a
    session, a connection, the pool resetting a connection it gets back), or when
    its connection is invalidated or closed: each gives the turn back once.
    """
    holders: set[int] = set()  # the DBAPI connections whose transaction holds the turn

    def begin(connection: Connection) -> None:
        if queue.acquire():
            holders.add(id(connection.connection.dbapi_connection))
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def give_back(dbapi_connection: Any) -> None:
        raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        if id(raw) in holders:
            holders.discard(id(raw))
            queue.release()

    def ending(end: Callable[[Any], None]) -> Callable[[Any], None]:
        def ended(dbapi_connection: Any) -> None:
            try:
                end(dbapi_connection)
            finally:
                give_back(dbapi_connection)

        return ended

    event.listen(engine, "begin", begin)
    dialect = engine.dialect
    dialect.do_commit = ending(dialect.do_commit)  # type: ignore[method-assign,assignment]
    dialect.do_rollback = ending(dialect.do_rollback)  # type: ignore[method-assign,assignment]
    event.listen(engine, "invalidate", lambda dbapi_connection, *_: give_back(dbapi_connection))
    event.listen(engine, "close", lambda dbapi_connection, *_: give_back(dbapi_connection))


class Database:
    """The hub's store: an engine and a session factory. One per hub, no globals.

    On SQLite, ``writers`` is the queue its transactions wait in (the hub's
    hot path writes through it too); None on other databases.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.writers: WriterQueue | None = None
        if url.startswith("sqlite"):
            database = make_url(url).database
            self.writers = WriterQueue(database if database and database != ":memory:" else None)
        self.engine = make_engine(url, self.writers)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
