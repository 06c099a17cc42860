"""The confirmation hot path: a confirmation costs what its statements cost.

:func:`hub.inbox.store` and :func:`hub.inbox.process` hold the whole truth of a
confirmation, through the ORM. :class:`HotPath` serves the common case, an
authentic confirmation that moves one single payment (or repeats one already
applied, or comes too late to move it), with the same promises and far less
work per request:

- the raw request is committed to the inbox before it is checked
  (transaction 1), and the checks, the state move, the event row, the outbox
  rows and the verdict are written in one second transaction (transaction 2),
  the payments of the order locked, the unique (payment, dedupe key) of the
  event log still stopping duplicates in the database;
- what needs no lock is done before any: the shop and the ids of the order's
  payments are read (one statement, no transaction held), the body parsed,
  the token, source, ``divers`` HMAC and dedupe key computed;
- the statements are SQLAlchemy Core, compiled once per hub for its database
  and run on the driver's connection (no session, no identity map, no unit of
  work), each row written once, one statement per row;
- SQLite writers wait for each other in a queue
  (:class:`bluepaid_plugins.db.WriterQueue`) instead of polling the
  database's lock.

Anything else (an unknown payment, a refusal that flags the payment, a
subscription, a refund, a parked message waiting, money not owed, a row some
other process already judged) is handed, after transaction 1, to
:func:`hub.inbox.process`: the rare cases keep one implementation.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, exists, func, insert, select, update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import ClauseElement

from bluepaid_plugins.domain import PaymentEvent
from bluepaid_plugins.money import Money
from bluepaid_plugins.protocol import Confirmation, Etat, Mode
from hub import inbox
from hub.apply import Result, dedupe_key
from hub.context import Hub
from hub.effects import planned_tasks
from hub.junk import looks_real
from hub.models import (
    PAID_STATES,
    InboxMessage,
    OutboxTask,
    Payment,
    PaymentEventRow,
    PaymentState,
    Shop,
    Subscription,
    TaskState,
    Verdict,
)
from hub.redaction import token_digest
from hub.states import decide

log = logging.getLogger(__name__)

_Processor = Callable[[Any], Any] | None
#: A statement's parameters as its driver takes them (positional or named).
_Parameters = Sequence[Any] | dict[str, Any]


@dataclass(frozen=True)
class _Prepared:
    """A Core statement compiled once for one database: its SQL text, the order
    of its parameters (for drivers with positional ones) and the type
    processing of its parameters and result columns, as SQLAlchemy would do it."""

    sql: str
    positions: tuple[str, ...] | None
    binds: Mapping[str, _Processor]
    results: tuple[_Processor, ...]

    @classmethod
    def of(cls, statement: ClauseElement, engine: Engine) -> _Prepared:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        columns: Sequence[Any] = getattr(statement, "selected_columns", None) or ()
        if isinstance(statement, Insert):
            columns = list(statement._returning)  # no public name for what RETURNING returns
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        positions = tuple(compiled.positiontup or ()) if dialect.positional else None
        return cls(compiled.string, positions, binds, results)

    def parameters(self, values: Mapping[str, Any]) -> _Parameters:
        converted = {
            name: (processor(values[name]) if processor is not None else values[name])
            for name, processor in self.binds.items()
        }
        if self.positions is None:
            return converted
        return [converted[name] for name in self.positions]

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(p(v) if p is not None else v for p, v in zip(self.results, raw, strict=True))


class _Statements:
    """The hot path's statements, compiled for one engine."""

    def __init__(self, engine: Engine) -> None:
        p = bindparam
        # The shop and its order's payments: read before any lock. The fixed columns decide
        # which payment is meant; the others are a guess the locked read confirms.
        self.shop = _Prepared.of(
            select(
                Shop.id,
                Shop.id_boutique,
                Shop.secret,
                Shop.confirm_token,
                Shop.allowed_ips,
                Shop.connector,
                Shop.notify_email,
                Shop.test_mode,
                Shop.accept_test,
                Payment.id,
                Payment.order_ref,
                Payment.amount_minor,
                Payment.currency,
                Payment.public_id,
                Payment.state,
                Payment.flags,
                Payment.paid_minor,
                Payment.refunded_minor,
            )
            .select_from(Shop)
            .outerjoin(Payment, (Payment.shop_id == Shop.id) & (Payment.order_ref == p("ref")))
            .where(Shop.slug == p("slug"))
            .order_by(Payment.id),
            engine,
        )
        self.store = _Prepared.of(
            insert(InboxMessage)
            .values({name: p(name) for name in _INBOX_COLUMNS})
            .returning(InboxMessage.id),
            engine,
        )
        seen = (
            select(func.min(PaymentEventRow.id))
            .where(PaymentEventRow.payment_id == Payment.id, PaymentEventRow.dedupe_key == p("key"))
            .scalar_subquery()
        )
        parked = exists().where(PaymentEventRow.payment_id == Payment.id, PaymentEventRow.parked.is_(True))
        subscribed = exists().where(Subscription.payment_id == Payment.id)
        # Every payment of the order, locked (as hub.inbox does): one answer at a time to
        # "is another payment of this order paid?". What the fast path must know of its
        # own payment comes in the same round trip.
        self.lock = _Prepared.of(
            select(
                Payment.id,
                Payment.state,
                Payment.flags,
                Payment.paid_minor,
                Payment.refunded_minor,
                Payment.public_id,
                Payment.order_ref,
                seen,
                parked,
                subscribed,
            )
            .where(Payment.shop_id == p("shop_id"), Payment.order_ref == p("ref"))
            .order_by(Payment.id)
            .with_for_update(of=Payment),
            engine,
        )
        self.event = _Prepared.of(
            insert(PaymentEventRow).values({name: p(name) for name in _EVENT_COLUMNS}).inline(), engine
        )
        self.move = _Prepared.of(
            update(Payment)
            .where(Payment.id == p("b_id"))
            .values(
                state=p("b_state"),
                flags=p("b_flags", type_=Payment.flags.type),
                paid_minor=p("b_paid"),
                refunded_minor=p("b_refunded"),
                id_trans=p("b_id_trans"),
                updated_at=p("b_now", type_=Payment.updated_at.type),
            ),
            engine,
        )
        self.task = _Prepared.of(
            insert(OutboxTask).values({name: p(name) for name in _TASK_COLUMNS}).inline(), engine
        )
        # Only a row still without a verdict: one judged meanwhile (the outbox worker's
        # recovery, a replay) is left as it is, and this transaction rolled back.
        self.verdict = _Prepared.of(
            update(InboxMessage)
            .where(InboxMessage.id == p("b_id"), InboxMessage.verdict.is_(None))
            .values(
                shop_id=p("b_shop"),
                payment_id=p("b_payment"),
                verdict=p("b_verdict"),
                reason=p("b_reason"),
                processed_at=p("b_now", type_=InboxMessage.processed_at.type),
            ),
            engine,
        )


_INBOX_COLUMNS = (
    "received_at",
    "method",
    "path",
    "headers",
    "body",
    "remote_addr",
    "shop_slug",
    "url_token_digest",
    "reason",
)
_EVENT_COLUMNS = (
    "public_id",
    "payment_id",
    "inbox_id",
    "dedupe_key",
    "kind",
    "from_state",
    "to_state",
    "id_trans",
    "amount_minor",
    "detail",
    "parked",
    "debit",
    "created_at",
)
_TASK_COLUMNS = (
    "kind",
    "payload",
    "shop_id",
    "payment_id",
    "state",
    "attempts",
    "created_at",
    "retry_from",
    "next_attempt_at",
    "last_error",
    "detail",
)


#: What transaction 2 reads of the payment and plans from: state, flags, paid and refunded.
_Found = tuple[str, tuple[str, ...], int, int]


@dataclass(frozen=True)
class _Plan:
    """What transaction 2 writes for a payment found as ``found``, its statements'
    parameters converted already: planned before the lock from the payment as read
    then, and used under the lock if the locked read finds it unchanged."""

    found: _Found
    now: Any
    state: PaymentState
    to_state: PaymentState
    event: _Parameters
    move: _Parameters | None  # None: a stale message, recorded, moving nothing
    tasks: list[_Parameters]
    stale_reason: str


@dataclass(frozen=True)
class _Prepped:
    """What is known of a request before any lock: the shop's columns, the
    confirmation, and which payment of the order its ``divers`` names."""

    shop_id: int
    shop_slug: str
    connector: str
    notify_email: str
    test_mode: bool
    accept_test: bool
    conf: Confirmation
    payment_id: int
    amount_minor: int
    currency: str
    key: str
    public_id: str
    order_ref: str
    seen_as: _Found


class HotPath:
    """The lean confirmation path of one hub (see the module's docstring)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        engine = hub.db.engine
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.sql = _Statements(engine)
        self.queue = hub.db.writers
        self.integrity_error: type[Exception] = engine.dialect.loaded_dbapi.IntegrityError
        # psycopg pipelines need libpq 14 or later; with an older one, statements go one by one.
        pipeline = getattr(engine.dialect.loaded_dbapi, "Pipeline", None)
        self.pipelined = pipeline is not None and bool(pipeline.is_supported())

    def confirm(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        remote_addr: str,
        shop_slug: str,
        url_token: str,
    ) -> Result | None:
        """Store and apply one request to a confirmation URL, as
        :func:`hub.inbox.store` then :func:`hub.inbox.process` would; None when
        it cannot be a confirmation (no such shop, or a wrong token from a source
        the shop does not allow: :mod:`hub.junk`'s to answer), before anything
        is written."""
        if "\x00" in shop_slug:
            return None  # no shop is named so, and PostgreSQL refuses NUL in a query
        digest = token_digest(url_token)
        fields = inbox.form_fields(body, inbox.content_type(headers)) if method == "POST" else []
        ref = next((value for name, value in fields if name == "id_client"), "")
        if "\x00" in ref:
            ref = ""  # no order is named so, and PostgreSQL refuses NUL in a query
        with self._connection() as connection:
            rows = self._read(connection, self.sql.shop, {"slug": shop_slug[:64], "ref": ref})
            if not rows or not looks_real(rows[0][3], rows[0][4], url_token, remote_addr):
                return None
            prepped = self._prep(rows, shop_slug, method, digest, remote_addr, fields, body)
            values = inbox.raw_values(
                self.hub,
                method=method,
                path=path,
                headers=headers,
                body=body,
                remote_addr=remote_addr,
                shop_slug=shop_slug,
                url_token=url_token,
            )
            # One statement in autocommit is a transaction of its own: committed when it
            # returns, in one round trip.
            with self._writers():
                inbox_id: int = self._read(connection, self.sql.store, values)[0][0]
            if prepped is not None:
                result = self._apply(connection, inbox_id, prepped)
                if result is not None:
                    return result
        return inbox.process(self.hub, inbox_id)

    def _prep(
        self,
        rows: list[tuple[Any, ...]],
        shop_slug: str,
        method: str,
        digest: str,
        remote_addr: str,
        fields: list[tuple[str, str]],
        body: bytes,
    ) -> _Prepped | None:
        """The checks :func:`hub.inbox.process` runs that need no lock; None when
        the request is not for the fast path (refused, or no payment of its order
        matches), to be judged by :func:`hub.inbox.process`."""
        shop_id, id_boutique, secret, confirm_token, allowed = rows[0][:5]
        connector, notify_email, test_mode, accept_test = rows[0][5:9]
        if method != "POST" or len(body) > inbox.MAX_BODY:
            return None
        keys = inbox.ShopKeys(id_boutique, confirm_token, list(allowed))
        conf = inbox.authenticate(keys, digest, remote_addr, fields)
        if isinstance(conf, inbox.Refusal):
            return None
        payments = [row[9:] for row in rows if row[9] is not None and row[10] == conf.id_client]
        candidates = [
            (ref, Money.from_minor(minor, currency), public)
            for _id, ref, minor, currency, public, *_ in payments
        ]
        index = inbox.divers_owner(conf, secret, id_boutique, candidates)
        if index is None:
            return None
        payment_id, order_ref, amount_minor, currency, public_id, state, flags, paid, refunded = payments[
            index
        ]
        return _Prepped(
            shop_id,
            shop_slug,
            connector,
            notify_email,
            bool(test_mode),
            bool(accept_test),
            conf,
            payment_id,
            amount_minor,
            currency,
            dedupe_key(conf),
            public_id,
            order_ref,
            (state, tuple(flags), paid, refunded),
        )

    def _apply(self, connection: Any, inbox_id: int, prepped: _Prepped) -> Result | None:
        """Transaction 2 for the common cases; None (and nothing written) for the others.

        Its writes are planned before the lock, from the payment as read a moment
        ago; the locked read confirms the plan (a confirmation almost always finds
        its payment as it was) or a new one is made from what it found. So the
        lock is held for the statements, not for the planning: on SQLite, where
        one writer goes at a time, that is the queue's length."""
        conf, sql = prepped.conf, self.sql
        if conf.mode is Mode.REFUND or conf.num_abo or conf.amount.currency != prepped.currency:
            return None
        if conf.amount.minor != prepped.amount_minor:
            return None
        if conf.mode is Mode.TEST and not (prepped.test_mode and prepped.accept_test):
            return None
        early = self._plan(prepped, inbox_id, prepped.seen_as, self.hub.clock())
        try:
            with self._transaction(connection) as tx:
                locked = tx.execute(
                    sql.lock, {"shop_id": prepped.shop_id, "ref": conf.id_client, "key": prepped.key}
                )
                order = [sql.lock.row(raw) for raw in locked.fetchall()]
                mine = next((row for row in order if row[0] == prepped.payment_id), None)
                if mine is None:
                    raise _NotHere
                payment_id, state_value, flags, paid_minor, refunded_minor = mine[:5]
                seen, parked, subscribed = mine[7:]
                found: _Found = (state_value, tuple(flags), paid_minor, refunded_minor)
                plan = early
                if found != early.found:  # it moved since the first read: plan from what the lock shows
                    plan = self._plan(prepped, inbox_id, found, self.hub.clock())
                if seen is not None:
                    result = Result(inbox_id, Verdict.DUPLICATE, f"same message as event {seen}")
                    self._judge(tx, inbox_id, prepped, result, plan.now)
                    return result
                if subscribed or parked:
                    raise _NotHere
                if conf.etat is Etat.OK and (state_value in PAID_STATES or "superseded" in flags):
                    raise _NotHere
                becomes_paid = plan.to_state is PaymentState.PAID
                if becomes_paid and any(row[1] in PAID_STATES for row in order if row[0] != payment_id):
                    raise _NotHere  # money not owed: hub.apply tells the merchant
                if plan.move is None:
                    result = Result(inbox_id, Verdict.STALE, plan.stale_reason)
                else:
                    moved = f"{plan.state.value} -> {plan.to_state.value}"
                    result = Result(inbox_id, Verdict.ACCEPTED, moved)
                    if becomes_paid and "order_closed" in flags:
                        log.warning(
                            "order %s of shop %s was closed by the shop, then paid: refund it",
                            prepped.order_ref,
                            prepped.shop_slug,
                        )
                with tx.batch():
                    tx.send(sql.event, plan.event)
                    if plan.move is not None:
                        tx.send(sql.move, plan.move)
                        if plan.tasks:
                            tx.sendmany(sql.task, plan.tasks)
                    self._judge(tx, inbox_id, prepped, result, plan.now)
                return result
        except _NotHere:
            return None
        except self.integrity_error:
            # Another process applied the same message between our read and our write;
            # hub.inbox.process says so the way it always does.
            return None

    def _plan(self, prepped: _Prepped, inbox_id: int, found: _Found, now: Any) -> _Plan:
        """The writes of transaction 2 for ``prepped``'s payment found as ``found``, at
        ``now``: the event row, the payment's move and its outbox tasks. Pure: it may
        run before the lock, and its plan be thrown away."""
        conf, sql = prepped.conf, self.sql
        state_value, flags, paid_minor, refunded_minor = found
        state = PaymentState(state_value)
        move = decide(state, paid_minor, refunded_minor, conf)
        event_id = f"ev_{secrets.token_hex(12)}"
        event_row = sql.event.parameters(
            {
                "public_id": event_id,
                "payment_id": prepped.payment_id,
                "inbox_id": inbox_id,
                "dedupe_key": prepped.key,
                "kind": move.kind.value,
                "from_state": state.value,
                "to_state": move.to_state.value,
                "id_trans": conf.id_trans,
                "amount_minor": conf.amount.minor,
                "detail": move.stale_reason,
                "parked": False,
                "debit": None,
                "created_at": now,
            }
        )
        if not move.moves:
            return _Plan(found, now, state, move.to_state, event_row, None, [], move.stale_reason)
        if move.to_state is PaymentState.PAID:
            paid_minor = prepped.amount_minor
        test = conf.mode is Mode.TEST
        moved = sql.move.parameters(
            {
                "b_id": prepped.payment_id,
                "b_state": move.to_state.value,
                "b_flags": [*flags, "test"] if test and "test" not in flags else list(flags),
                "b_paid": paid_minor,
                "b_refunded": move.refunded_minor,
                "b_id_trans": conf.id_trans,
                "b_now": now,
            }
        )
        event = PaymentEvent(
            id=event_id,
            payment_id=prepped.public_id,
            kind=move.kind,
            order_ref=prepped.order_ref,
            amount=conf.amount,
            paid_total=Money.from_minor(paid_minor, prepped.currency),
            refunded_total=Money.from_minor(move.refunded_minor, prepped.currency),
            id_trans=conf.id_trans,
            occurred_at=now,
            test=test,
        )
        # The fast path carries no refund: every connector takes these events.
        tasks, _by_hand = planned_tasks(self.hub, prepped.connector, prepped.notify_email, event)
        rows = [
            sql.task.parameters(
                {
                    "kind": kind,
                    "payload": payload,
                    "shop_id": prepped.shop_id,
                    "payment_id": prepped.payment_id,
                    "state": TaskState.PENDING.value,
                    "attempts": 0,
                    "created_at": now,
                    "retry_from": now,
                    "next_attempt_at": now,
                    "last_error": "",
                    "detail": "",
                }
            )
            for kind, payload in tasks
        ]
        return _Plan(found, now, state, move.to_state, event_row, moved, rows, move.stale_reason)

    def _judge(self, tx: _Transaction, inbox_id: int, prepped: _Prepped, result: Result, now: Any) -> None:
        """Write the verdict on the inbox row, if nobody judged it meanwhile."""
        values = {
            "b_id": inbox_id,
            "b_shop": prepped.shop_id,
            "b_payment": prepped.payment_id,
            "b_verdict": result.verdict.value,
            "b_reason": result.reason,
            "b_now": now,
        }
        judged = tx.execute(self.sql.verdict, values)
        tx.sync()
        if judged.rowcount != 1:
            raise _NotHere

    def _read(
        self, connection: Any, statement: _Prepared, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Run one statement in autocommit, outside any transaction of ours, and
        return its rows: a read takes no lock (SQLite: a WAL snapshot of its own), a
        write is committed when it returns."""
        cursor = connection.cursor()
        try:
            cursor.execute(statement.sql, statement.parameters(values))
            return [statement.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A driver connection from the hub's pool, in autocommit: this module
        opens and ends its transactions itself. Given back to the pool as found;
        a connection that failed is thrown away."""
        pooled = self.engine.raw_connection()
        driver = pooled.driver_connection
        try:
            if not self.sqlite:
                driver.autocommit = True  # type: ignore[union-attr]
            yield driver
            if not self.sqlite:
                driver.autocommit = False  # type: ignore[union-attr]
        except BaseException:
            pooled.invalidate()
            raise
        finally:
            pooled.close()

    @contextmanager
    def _writers(self) -> Iterator[None]:
        """This writer's turn: on SQLite, in the writer queue; elsewhere at once."""
        if self.queue is not None:
            with self.queue.turn():
                yield
        else:
            yield

    @contextmanager
    def _transaction(self, connection: Any) -> Iterator[_Transaction]:
        """One transaction: committed when the block ends, rolled back when it raises.
        On SQLite it waits for its turn in the writer queue, then takes the write
        lock at once (``BEGIN IMMEDIATE``), so it never fails half-way for a lock."""
        with self._writers():
            tx = _Transaction(connection, self.pipelined)
            tx.run("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
            try:
                yield tx
            except BaseException:
                tx.run("ROLLBACK")
                raise
            tx.run("COMMIT")


class _Transaction:
    """The statements of one transaction on a driver connection (see HotPath._transaction)."""

    def __init__(self, connection: Any, pipelined: bool) -> None:
        self.connection = connection
        self.pipelined = pipelined
        self.pipeline: Any = None

    def run(self, sql: str) -> None:
        self.connection.cursor().execute(sql)

    def execute(self, statement: _Prepared, values: Mapping[str, Any]) -> Any:
        """Run ``statement``; its cursor, for the rows or the count (after :meth:`sync`)."""
        return self.send(statement, statement.parameters(values))

    def send(self, statement: _Prepared, parameters: _Parameters) -> Any:
        """Run ``statement`` with parameters :meth:`_Prepared.parameters` converted already."""
        cursor = self.connection.cursor()
        cursor.execute(statement.sql, parameters)
        return cursor

    def sendmany(self, statement: _Prepared, rows: Sequence[_Parameters]) -> None:
        """Run ``statement`` once per row of converted parameters."""
        self.connection.cursor().executemany(statement.sql, rows)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The block's statements in one round trip on PostgreSQL (psycopg's pipeline):
        sent without waiting for each answer; the driver waits where a result is read
        (:meth:`sync`) and when the block ends. One batch, the writes, not the whole
        transaction: a pipeline costs the worker CPU that the server needs too, and on
        a 2-core machine with PostgreSQL on loopback, a transaction pipelined whole
        took 2.78 ms of worker CPU a confirmation under load, the writes alone 2.57 ms,
        every statement one by one 2.42 ms (means of 5 to 7 runs; the rates followed,
        within the host's noise). Statements go one by one on SQLite, and where the
        driver cannot pipeline."""
        if not self.pipelined:
            yield
            return
        with self.connection.pipeline() as pipeline:
            self.pipeline = pipeline
            try:
                yield
            finally:
                self.pipeline = None

    def sync(self) -> None:
        """Wait for the answers to every statement sent so far in :meth:`batch`."""
        if self.pipeline is not None:
            self.pipeline.sync()


class _NotHere(Exception):
    """This confirmation is not for the fast path: roll back, let hub.inbox judge it."""
