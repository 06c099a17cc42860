"""Fixtures the contract tests share, loaded with ``pytest_plugins`` (never imported:
pytest must load it first to rewrite its assertions).

``install`` (a fake installed distribution, from ``test_plugins``) and the
``bluepaid`` command run in process (from ``test_cli``), plus ``cli``: that
command on a migrated database of each store, with a settings key.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.hub.conftest import SETTINGS_KEY
from tests.hub.test_cli import bluepaid, env
from tests.hub.test_plugins import install

__all__ = ["bluepaid", "cli", "env", "install"]


@pytest.fixture
def cli(database_url: str, bluepaid: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``bluepaid`` on a migrated database (SQLite, then PostgreSQL), secrets sealed with SETTINGS_KEY.

    ``database_url`` comes first: the PostgreSQL server is found before ``env``
    clears the ``BLUEPAID_*`` variables (``BLUEPAID_TEST_POSTGRES_URL`` among them).
    """
    monkeypatch.setenv("BLUEPAID_DATABASE_URL", database_url)
    monkeypatch.setenv("BLUEPAID_SETTINGS_KEYS", SETTINGS_KEY)
    assert bluepaid("db", "upgrade").code == 0
    return bluepaid
