"""The outbox: effects written with the state change, delivered later with retries.

A transition writes its tasks in the same transaction, so an effect is never
lost nor sent for a change that rolled back. Workers claim due tasks (on
PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so two workers never take the same
task), run them outside any transaction, and record the outcome. A failing task
is retried with exponential backoff and jitter for at least
:data:`RETRY_WINDOW`, then marked dead; a dead task can be replayed.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased

from bluepaid_plugins.errors import BluepaidError, ConnectorError, NotFound, PluginBug, PluginError
from hub.backoffice.alert_mail import mail_alerts
from hub.backoffice.reconcile import EXPIRE_EVERY, expire_stale
from hub.context import Hub
from hub.inbox import process_unfinished
from hub.models import OutboxTask, TaskState
from hub.redaction import redact
from hub.tasks import run_task

log = logging.getLogger(__name__)

RETRY_WINDOW = timedelta(days=3)
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
JITTER = 0.2
LEASE = timedelta(minutes=5)
#: A stored confirmation still without a verdict after this long lost its request
#: (a crash, a database hiccup): the worker processes it.
UNFINISHED_AFTER = timedelta(seconds=30)


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: doubling from
    :data:`FIRST_DELAY`, capped at :data:`MAX_DELAY`, with ±20 % jitter so that
    tasks failing together do not retry together."""
    # The shift is bounded: past 2**20 the cap has long been reached.
    base = min(FIRST_DELAY * (1 << min(max(attempts - 1, 0), 20)), MAX_DELAY)
    factor: float = rng.uniform(1 - JITTER, 1 + JITTER)
    return base * factor


@dataclass(frozen=True)
class Outcome:
    task_id: int
    state: TaskState
    error: str = ""


class Worker:
    """Claims and runs due outbox tasks. Several may run at once, on one database.

    Tasks are claimed one at a time, so a lease never runs out while the task
    waits behind others; the lease's end is the claim's token, and an outcome is
    recorded only by the worker that still holds it. Tasks of one kind for one
    payment run in the order they were written (a retried ``pending`` never
    reaches the shop after the ``paid`` that followed it).
    """

    def __init__(
        self, hub: Hub, *, batch: int = 10, rng: random.Random | None = None, lease: timedelta = LEASE
    ) -> None:
        """``lease`` is how long a claimed task stays this worker's: a worker that dies
        mid-task leaves it to the others after that long. It must outlast a shop call
        (connectors' timeouts); a shorter one only suits quick shops, as in tests."""
        if lease <= timedelta(0):
            raise ValueError("an outbox lease must be a positive duration")
        self.hub = hub
        self.batch = batch
        self.lease = lease
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._expired_at: datetime | None = None

    def claim(self, limit: int | None = None) -> list[int]:
        """Mark up to ``limit`` (default ``batch``) due tasks as running for
        its lease (:data:`LEASE` by default) and return their ids. A running task whose lease expired
        (its worker died) is due again."""
        return [task_id for task_id, _lease in self._claim(limit or self.batch)]

    def _claim(self, limit: int) -> list[tuple[int, datetime]]:
        now = self.hub.clock()
        lease = now + self.lease
        older = aliased(OutboxTask)
        waits_for_older = exists().where(
            older.payment_id == OutboxTask.payment_id,
            older.kind == OutboxTask.kind,
            older.id < OutboxTask.id,
            older.state.in_([TaskState.PENDING.value, TaskState.RUNNING.value]),
        )
        due = or_(
            (OutboxTask.state == TaskState.PENDING.value) & (OutboxTask.next_attempt_at <= now),
            (OutboxTask.state == TaskState.RUNNING.value) & (OutboxTask.locked_until <= now),
        )
        with self.hub.db.transaction() as session:
            tasks = session.scalars(
                select(OutboxTask)
                .where(due, ~waits_for_older)
                .order_by(OutboxTask.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for task in tasks:
                task.state = TaskState.RUNNING.value
                task.locked_until = lease
            return [(task.id, lease) for task in tasks]

    def run_once(self) -> list[Outcome]:
        """Process confirmations left without a verdict, then run up to ``batch``
        due tasks, one claim at a time; return what happened to each task."""
        process_unfinished(self.hub, older_than=UNFINISHED_AFTER)
        self._expire_stale()
        outcomes = []
        for _ in range(self.batch):
            claimed = self._claim(1)
            if not claimed:
                break
            outcomes.append(self._run(*claimed[0]))
        return outcomes

    def _expire_stale(self) -> None:
        """Expire the payments left pending (the reconciliation's part that calls no
        shop) and mail the new alerts, at most every
        :data:`~hub.backoffice.reconcile.EXPIRE_EVERY`."""
        now = self.hub.clock()
        if self._expired_at is None or now - self._expired_at >= EXPIRE_EVERY:
            self._expired_at = now
            expire_stale(self.hub)
            mail_alerts(self.hub)

    def run_forever(
        self, stop: threading.Event, idle: float = 1.0, on_outcome: Callable[[Outcome], None] | None = None
    ) -> None:
        """Run batches until ``stop`` is set, sleeping ``idle`` seconds when nothing
        is due. A failing batch (the database away for a moment) is logged and
        tried again: the worker does not die of it."""
        while not stop.is_set():
            try:
                outcomes = self.run_once()
            except Exception:
                log.exception("outbox worker: batch failed; trying again in %s s", idle)
                outcomes = []
            for outcome in outcomes:
                if on_outcome:
                    on_outcome(outcome)
            if not outcomes:
                stop.wait(idle)

    def _run(self, task_id: int, lease: datetime) -> Outcome:
        with self.hub.db.transaction() as session:
            task = session.get(OutboxTask, task_id)
            if task is None:
                raise NotFound(f"outbox task {task_id} vanished")
            kind, payload, shop_id = task.kind, dict(task.payload), task.shop_id
        error: BaseException | None = None
        try:
            run_task(self.hub, task_id, kind, payload, shop_id)
        except Exception as exc:
            error = exc
        return self._record(task_id, lease, error)

    def _record(self, task_id: int, lease: datetime, error: BaseException | None) -> Outcome:
        now = self.hub.clock()
        with self.hub.db.transaction() as session:
            task = session.get(OutboxTask, task_id, with_for_update=True)
            assert task is not None
            if task.state != TaskState.RUNNING.value or task.locked_until != lease:
                log.warning("outbox task %s: lease lost to another worker; outcome not recorded", task_id)
                return Outcome(task_id, TaskState(task.state), "lease lost")
            task.attempts += 1
            task.locked_until = None
            if error is None:
                task.state, task.done_at = TaskState.DONE.value, now
                return Outcome(task_id, TaskState.DONE)
            text = describe(error)
            task.last_error = text
            if isinstance(error, PluginBug):
                task.detail = redact(error.traceback)
            # A refusal from the shop, a vanished shop, payment or plugin, or a plugin's
            # own bug will not mend itself: retrying would only hide it for three days.
            permanent = isinstance(error, NotFound | PluginError) or (
                isinstance(error, ConnectorError) and not error.retryable
            )
            if permanent or now - task.retry_from >= RETRY_WINDOW:
                task.state = TaskState.DEAD.value
                log.error("outbox task %s (%s) is dead: %s", task_id, task.kind, text)
                return Outcome(task_id, TaskState.DEAD, text)
            task.state = TaskState.PENDING.value
            delay = backoff(task.attempts, self.rng)
            wait = getattr(error, "retry_after", None)
            if isinstance(wait, int | float) and wait > 0:
                # The shop said when to come back; sooner would only be refused again.
                delay = max(delay, timedelta(seconds=min(wait, MAX_DELAY.total_seconds())))
            task.next_attempt_at = now + delay
            log.warning(
                "outbox task %s (%s) failed, retry at %s: %s", task_id, task.kind, task.next_attempt_at, text
            )
            return Outcome(task_id, TaskState.PENDING, text)


def describe(error: BaseException) -> str:
    """The text for the task's ``last_error``: our errors' message, others' type
    too; a database error's first line only (the rest repeats the statement and
    its parameters); secrets masked (:func:`hub.redaction.redact`)."""
    if isinstance(error, BluepaidError):
        text = str(error)
    elif isinstance(error, SQLAlchemyError):
        text = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    else:
        text = f"{type(error).__name__}: {error}"
    return redact(text)[:1000]


def replay(hub: Hub, task_id: int) -> OutboxTask:
    """Make a dead task due now, with a fresh retry window. NotFound if it is not dead."""
    now = hub.clock()
    with hub.db.transaction() as session:
        task = session.get(OutboxTask, task_id, with_for_update=True)
        if task is None or task.state != TaskState.DEAD.value:
            raise NotFound(f"no dead outbox task {task_id}")
        task.state = TaskState.PENDING.value
        task.next_attempt_at = now
        task.retry_from = now
        return task


# Reading the outbox, for the CLI (and later the back office)


def task_summary(task: OutboxTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "kind": task.kind,
        "state": task.state,
        "attempts": task.attempts,
        "payment": task.payload.get("payment"),
        "order_ref": task.payload.get("order_ref"),
        "event": task.payload.get("kind"),
        "created_at": task.created_at.isoformat(),
        "next_attempt_at": task.next_attempt_at.isoformat(),
        "last_error": task.last_error,
    }


def show_task(hub: Hub, task_id: int) -> dict[str, Any]:
    """One outbox task with its payload and, for a plugin's bug, the traceback."""
    with hub.db.transaction() as session:
        task = session.get(OutboxTask, task_id)
        if task is None:
            raise NotFound(f"no outbox task {task_id}")
        return {**task_summary(task), "plugin": task.payload.get("plugin"), "detail": task.detail}


def list_tasks(hub: Hub, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = select(OutboxTask).order_by(OutboxTask.id.desc()).limit(limit)
    if state:
        query = query.where(OutboxTask.state == state)
    with hub.db.transaction() as session:
        return [task_summary(task) for task in session.scalars(query)]
