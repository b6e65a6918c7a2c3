"""Alembic's entry: runs migrations on the engine the caller bound (see service.migrations)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

import service.models  # noqa: F401  (every model registered on Base.metadata)
from service.db import Base, UTCDateTime

# The PostgreSQL advisory lock migrations hold ("vetted" in ASCII): any number, the same for all.
MIGRATION_LOCK = 0x766574746564


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Writes UTCDateTime as a plain timezone-aware DateTime, so migrations import no app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _foreign_keys(connection: Connection, enforced: bool) -> None:
    """Turns SQLite's foreign-key enforcement on or off (a no-op inside a transaction)."""
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
    connection.commit()


engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Alembic's batch mode on SQLite copies a table, drops the old one and renames the
        # copy. With foreign keys enforced, dropping "comments" cascaded ON DELETE into every row
        # that refers to a comment, the copy's replies included: 0007 lost every reply. SQLite's
        # own procedure for such changes: enforcement off around them, the keys checked after.
        _foreign_keys(connection, enforced=False)
    try:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Several processes upgrading at once (a migrate step per replica) wait here for
                # each other: without it each found no version table and all but one failed.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"the migration broke foreign keys, rolled back: {broken[:5]}")
    finally:
        if sqlite:
            _foreign_keys(connection, enforced=True)
