"""Migration 0004 (contract v1) on a database that already holds shops, payments and events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bluepaid_plugins.db import Database
from hub import migrate
from hub.config import HubConfig
from hub.context import Hub, build_hub
from hub.outbox import Worker
from hub.shops import get_shop, shop_summary
from tests.hub.conftest import PUBLIC
from tests.hub.contract_connectors import EventRecorder

CREATED = datetime(2026, 11, 1, 9, 30)

SHOP = """
insert into shops (id, slug, name, id_boutique, secret, confirm_token, test_mode, accept_test,
    allowed_ips, connector, connector_settings, platform_url, redirect_method, return_url,
    language, notify_email, created_at, send_confirmation_url)
values (:id, :slug, :slug, '21573www', 'secret-of-the-shop', :token, true, true, '[]', 'payment_link',
    '{}', 'http://platform.test', 'get', '', 'FR', '', :created, false)
"""
PAYMENT = """
insert into payments (id, public_id, shop_id, order_ref, amount_minor, currency, state, flags,
    id_trans, refunded_minor, language, created_at, updated_at)
values (:id, :public_id, 1, :ref, :amount, 'EUR', :state, '[]', '', :refunded, 'FR', :created, :created)
"""
EVENT = """
insert into payment_events (id, payment_id, inbox_id, dedupe_key, kind, from_state, to_state,
    id_trans, amount_minor, detail, created_at)
values (:id, :payment, null, :key, 'paid', 'created', 'paid', 'T1', 3660, '', :created)
"""
TASK = """
insert into outbox (id, kind, payload, shop_id, payment_id, state, attempts, created_at, retry_from,
    next_attempt_at, locked_until, done_at, last_error)
values (1, 'apply_event', '{}', 1, 1, 'dead', 1, :created, :created, :created, null, null, 'gone')
"""
LEGACY_TASK = """
insert into outbox (id, kind, payload, shop_id, payment_id, state, attempts, created_at, retry_from,
    next_attempt_at, locked_until, done_at, last_error)
values (:id, 'event_hooks', :payload, 1, 2, 'pending', 0, :created, :created, :created, null, null, '')
"""

PAYMENTS = [
    (1, "paid", 3660, 0),
    (2, "partially_refunded", 5000, 1000),
    (3, "refunded", 1200, 1200),
    (4, "created", 990, 0),
    (5, "refused", 2500, 0),
]


@pytest.fixture
def at_0003(database_url: str) -> Iterator[Database]:
    """A database at revision 0003 holding two shops, five payments, two events and a task."""
    db = Database(database_url)
    migrate.upgrade(db, "0003")
    with db.engine.begin() as connection:
        for shop_id, slug in ((1, "demo"), (2, "other")):
            connection.execute(
                sa.text(SHOP), {"id": shop_id, "slug": slug, "token": f"token-{slug}", "created": CREATED}
            )
        for payment_id, state, amount, refunded in PAYMENTS:
            values = {"id": payment_id, "public_id": f"p{payment_id}", "ref": f"A{payment_id}"}
            values |= {"state": state, "amount": amount, "refunded": refunded, "created": CREATED}
            connection.execute(sa.text(PAYMENT), values)
        for event_id in (1, 2):
            connection.execute(
                sa.text(EVENT),
                {"id": event_id, "payment": event_id, "key": f"k{event_id}", "created": CREATED},
            )
        connection.execute(sa.text(TASK), {"created": CREATED})
        if connection.dialect.name == "postgresql":
            # Rows written with their ids, as a hub of 0003 would have them: its sequences
            # past them, so that the rows the hub adds later get ids of their own.
            for table in ("shops", "payments", "payment_events", "outbox"):
                last = f"(select max(id) from {table})"
                connection.execute(sa.text(f"select setval(pg_get_serial_sequence('{table}', 'id'), {last})"))
    yield db
    db.dispose()


def as_json(value: Any) -> Any:
    """A JSON column's value: SQLite gives its text, PostgreSQL the value."""
    return json.loads(value) if isinstance(value, str) else value


@contextmanager
def hub_on(db: Database, *plugins: object) -> Iterator[Hub]:
    hub = build_hub(
        HubConfig(database_url=db.url, secret_key="k" * 32, public_url=PUBLIC), extra_plugins=plugins
    )
    try:
        yield hub
    finally:
        hub.db.dispose()


def rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def test_each_existing_shop_gets_a_webhook_token_of_its_own(at_0003: Database) -> None:
    migrate.upgrade(at_0003)

    tokens = [token for (token,) in rows(at_0003, "select webhook_token from shops order by id")]
    assert len(tokens) == 2
    assert all(len(token) >= 24 for token in tokens)
    assert len(set(tokens)) == 2


def test_existing_shops_start_with_no_secrets_and_the_default_mapping(at_0003: Database) -> None:
    migrate.upgrade(at_0003)

    found = rows(at_0003, "select connector_secrets, status_mapping from shops order by id")
    assert [(secrets, as_json(mapping)) for secrets, mapping in found] == [("", {}), ("", {})]


def test_each_existing_event_gets_a_public_id_of_its_own(at_0003: Database) -> None:
    migrate.upgrade(at_0003)

    ids = [public_id for (public_id,) in rows(at_0003, "select public_id from payment_events order by id")]
    assert len(ids) == 2
    assert all(public_id.startswith("ev_") and len(public_id) == 27 for public_id in ids)
    assert len(set(ids)) == 2


def test_what_paid_payments_took_is_filled_in(at_0003: Database) -> None:
    migrate.upgrade(at_0003)

    paid = rows(at_0003, "select id, paid_minor from payments order by id")
    assert paid == [(1, 3660), (2, 5000), (3, 1200), (4, 0), (5, 0)]


def test_existing_tasks_have_no_traceback(at_0003: Database) -> None:
    migrate.upgrade(at_0003)

    assert rows(at_0003, "select detail from outbox") == [("",)]


def test_the_new_columns_refuse_duplicates(at_0003: Database) -> None:
    migrate.upgrade(at_0003)

    with pytest.raises(sa.exc.IntegrityError), at_0003.engine.begin() as connection:
        connection.execute(sa.text("update shops set webhook_token = 'same' where id in (1, 2)"))
    with pytest.raises(sa.exc.IntegrityError), at_0003.engine.begin() as connection:
        connection.execute(sa.text("update payment_events set public_id = 'ev_same'"))


def test_the_hub_reads_a_migrated_shop(at_0003: Database) -> None:
    migrate.upgrade(at_0003)

    with hub_on(at_0003) as hub:
        shop = get_shop(hub, "demo")
        summary = shop_summary(hub, shop)

    assert shop.created_at == CREATED.replace(tzinfo=UTC)
    assert summary["status_mapping"]["refused"] == "failed"
    assert summary["connector_settings"] == {}


def test_foreign_keys_are_enforced_again_after_the_upgrade(at_0003: Database) -> None:
    migrate.upgrade(at_0003)

    with pytest.raises(sa.exc.IntegrityError), at_0003.engine.begin() as connection:
        connection.execute(sa.text("update payments set shop_id = 999 where id = 1"))


def legacy_payload(kind: str, amount: str, refunded: str | None) -> dict[str, Any]:
    """An event's payload as the hub wrote it before contract v1: no id, no paid total."""
    return {
        "payment": "p2",
        "kind": kind,
        "order_ref": "A2",
        "amount": amount,
        "currency": "EUR",
        "id_trans": "T2",
        "occurred_at": CREATED.replace(tzinfo=UTC).isoformat(),
        "test": True,
        "refunded_total": refunded,
        "num_abo": "",
        "debit": None,
        "plugin": "event_recorder",
    }


def test_a_task_written_before_contract_v1_is_delivered_with_an_id_and_totals(at_0003: Database) -> None:
    with at_0003.engine.begin() as connection:
        for task_id, payload in (
            (2, legacy_payload("paid", "50.00", None)),
            (3, legacy_payload("partially_refunded", "10.00", "10.00")),
        ):
            connection.execute(
                sa.text(LEGACY_TASK), {"id": task_id, "payload": json.dumps(payload), "created": CREATED}
            )
    migrate.upgrade(at_0003)
    recorder = EventRecorder()

    with hub_on(at_0003, recorder) as hub:
        Worker(hub).run_once()

    assert [
        (e.id, e.kind.value, str(e.amount), str(e.paid_total), str(e.refunded_total)) for e in recorder.events
    ] == [
        ("task_2", "paid", "50.00", "50.00", "0.00"),
        ("task_3", "partially_refunded", "10.00", "50.00", "10.00"),
    ]
