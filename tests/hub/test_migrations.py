"""The Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from bluepaid_plugins.db import Database
from cart.models import CartBase
from hub import migrate
from hub.models import Base, Shop
from tests.conftest import FrozenClock


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_differences(db: Database) -> list[Any]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        # The cart's tables live in the hub's database, created by the hub's migrations.
        return list(compare_metadata(context, [Base.metadata, CartBase.metadata]))  # type: ignore[arg-type]


def schema_of(db: Database) -> dict[str, Any]:
    """Tables with their columns, indexes and unique constraints, as the database reports them."""
    inspector = inspect(db.engine)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted((i["name"] or "", tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


def test_upgraded_schema_matches_the_models(db: Database) -> None:
    migrate.upgrade(db)

    assert schema_differences(db) == []


def test_upgrade_reaches_the_newest_revision(db: Database) -> None:
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert migrate.pending_revisions(db)

    migrate.upgrade(db)

    assert current_revision(db) == head
    assert not migrate.pending_revisions(db)


def test_migrations_form_one_line_of_history() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())

    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_upgrade_twice_changes_nothing(db: Database, clock: FrozenClock) -> None:
    migrate.upgrade(db)
    with db.transaction() as session:
        session.add(
            Shop(
                slug="demo",
                name="demo",
                id_boutique="21573www",
                secret="s" * 32,
                confirm_token="t" * 32,
                webhook_token="w" * 32,
                test_mode=True,
                accept_test=True,
                allowed_ips=["127.0.0.1"],
                connector="payment_link",
                connector_settings={},
                platform_url="http://platform.test",
                redirect_method="get",
                return_url="",
                language="FR",
                notify_email="",
                created_at=clock(),
            )
        )
    revision, schema = current_revision(db), schema_of(db)

    migrate.upgrade(db)

    assert current_revision(db) == revision
    assert schema_of(db) == schema
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Shop)) == 1
    assert schema_differences(db) == []
