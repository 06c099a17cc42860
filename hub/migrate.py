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
    with db.engine.connect() as connection:
        # SQLite alters a table by copying it and dropping the old one, which its
        # foreign keys forbid once other rows refer to it (payments to a shop). The
        # pragma only takes effect outside a transaction, so it is set on the driver's
        # connection before ours begins, and set back before the pool gets it again.
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def current_revision(db: Database) -> str | None:
    """The schema's revision (None for an empty database)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def pending_revisions(db: Database) -> bool:
    """True when the schema is behind the code (``bluepaid db upgrade`` is needed)."""
    return current_revision(db) != ScriptDirectory.from_config(alembic_config()).get_current_head()
