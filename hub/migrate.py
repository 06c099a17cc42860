"""Schema migrations with Alembic, shipped inside the package (``hub/migrations``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bluepaid_plugins.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (the newest by default)."""
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    """The schema's revision (None for an empty database)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def pending_revisions(db: Database) -> bool:
    """True when the schema is behind the code (``bluepaid db upgrade`` is needed)."""
    return current_revision(db) != ScriptDirectory.from_config(alembic_config()).get_current_head()
