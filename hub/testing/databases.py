"""Real databases for tests: a SQLite file, or a fresh schema on a PostgreSQL server."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

POSTGRES_VARIABLE = "BLUEPAID_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url(default: str | None = DEFAULT_POSTGRES_URL) -> str | None:
    """The PostgreSQL server for tests, or None when none answers.

    :data:`POSTGRES_VARIABLE` wins, and a server it names that does not answer
    is an error (configured but broken: fail loudly rather than skip); when it
    is unset ``default`` is tried, so a developer with a local server runs the
    PostgreSQL tests too.
    """
    configured = os.environ.get(POSTGRES_VARIABLE)
    url = configured or default
    if url is None:
        return None
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception:
        if configured:
            raise
        return None
    return url


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A URL on a new, empty schema of the PostgreSQL server, dropped afterwards."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(server_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"create schema {schema}"))
    url = sa.make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"drop schema {schema} cascade"))
        admin.dispose()
