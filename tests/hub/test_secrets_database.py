"""The database's errors and logs never carry a statement's parameters: tokens, bodies
and secrets travel in them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from bluepaid_plugins.db import Database

SECRET = "parameter-secret-4d5e6f"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    with database.engine.begin() as connection:
        connection.execute(sa.text("create table secrets_test (value varchar(8) not null unique)"))
        connection.execute(sa.text("insert into secrets_test (value) values ('taken')"))
    yield database
    with database.engine.begin() as connection:
        connection.execute(sa.text("drop table secrets_test"))
    database.dispose()


def test_a_failed_write_does_not_show_its_parameters(db: Database) -> None:
    with db.engine.begin() as connection, pytest.raises(SQLAlchemyError) as raised:
        connection.execute(
            sa.text("insert into secrets_test (value) values (:v), (:w)"), {"v": SECRET, "w": "taken"}
        )

    assert "insert into secrets_test" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_the_engines_log_does_not_show_parameters(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")

    with db.engine.connect() as connection:
        connection.execute(sa.text("select value from secrets_test where value = :v"), {"v": SECRET})

    assert "select value from secrets_test" in caplog.text
    assert SECRET not in caplog.text
