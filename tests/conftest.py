"""Fixtures shared by the whole suite: real databases, a real hub, a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.testing.clock import FrozenClock
from hub.testing.databases import fresh_schema, postgres_url

__all__ = ["FrozenClock", "postgres_url"]


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
    with fresh_schema(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    url: str = request.getfixturevalue("postgres_db")
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
