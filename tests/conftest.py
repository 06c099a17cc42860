"""Fixtures shared by the whole suite: real databases, a real hub, a frozen clock."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str | None:
    """The PostgreSQL server for tests, or None when none answers.

    ``BLUEPAID_TEST_POSTGRES_URL`` wins; when it is unset the local default is
    tried, so a developer with a local server runs the PostgreSQL tests too.
    """
    url = os.environ.get("BLUEPAID_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception:
        if os.environ.get("BLUEPAID_TEST_POSTGRES_URL"):
            raise  # configured but broken: fail loudly rather than skip
        return None
    return url


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = postgres_url()
    if url is None:
        pytest.skip(
            "no PostgreSQL: BLUEPAID_TEST_POSTGRES_URL is unset and nothing answers on 127.0.0.1:5432"
        )
    return url


@pytest.fixture
def postgres_db(postgres_server: str) -> Iterator[str]:
    """A URL on a fresh, empty schema of the test server, dropped afterwards."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(postgres_server)
    with admin.begin() as connection:
        connection.execute(sa.text(f"create schema {schema}"))
    url = sa.make_url(postgres_server).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.execute(sa.text(f"drop schema {schema} cascade"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    url: str = request.getfixturevalue("postgres_db")
    return url


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
