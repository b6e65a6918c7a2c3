"""The migrations: up from nothing, down to nothing, up again, and always equal to the models."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Enum, String, inspect, text

import service.models  # noqa: F401  (every model on Base.metadata)
from service.comments.models import body_digest
from service.db import Base, make_engine
from service.migrations import alembic_config, downgrade, upgrade
from tests.conftest import POSTGRES_URL, make_test_app, require_server


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    require_server("PostgreSQL", "127.0.0.1", 5432)
    name = f"vetted_migrations_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(f"{POSTGRES_URL}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{POSTGRES_URL}/{name}")
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def script_heads(engine: Engine) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def _is_enum_as_varchar(diff: Any) -> bool:
    """str_enum() columns are non-native Enums, which the database reports as VARCHAR(16)."""
    if not (isinstance(diff, tuple) and diff[0] == "modify_type"):
        return False
    old, new = diff[5], diff[6]
    types = {type(old), type(new)}
    lengths = {getattr(old, "length", None), getattr(new, "length", None)}
    return (
        any(issubclass(t, Enum) for t in types)
        and all(issubclass(t, String) for t in types)
        and lengths == {16}
    )


def differences(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    flat = [d for group in diffs for d in (group if isinstance(group, list) else [group])]
    return [d for d in flat if not _is_enum_as_varchar(d)]


def test_upgrade_downgrade_and_upgrade_again(empty_engine: Engine) -> None:
    assert tables(empty_engine) == set()
    upgrade(empty_engine)
    assert current_heads(empty_engine) == script_heads(empty_engine)
    assert tables(empty_engine) == set(Base.metadata.tables)
    downgrade(empty_engine, "base")
    assert tables(empty_engine) == set()
    assert current_heads(empty_engine) == set()
    upgrade(empty_engine)
    assert tables(empty_engine) == set(Base.metadata.tables)


def test_the_migrated_schema_matches_the_models(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert differences(empty_engine) == []


def test_the_schema_still_matches_after_a_round_trip(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    upgrade(empty_engine)
    assert differences(empty_engine) == []


def test_an_empty_database_differs_from_the_models(empty_engine: Engine) -> None:
    # The comparison itself works: without the migrations every table is missing.
    added = {d[1].name for d in differences(empty_engine) if d[0] == "add_table"}
    assert added == set(Base.metadata.tables)


def test_each_migration_has_one_parent_chain_to_base(empty_engine: Engine) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(empty_engine))
    revisions = list(scripts.walk_revisions())
    assert revisions
    assert [r.revision for r in revisions if r.down_revision is None] == ["0001_foundation"]


def test_existing_comments_get_their_listing_and_body_digest(empty_engine: Engine) -> None:
    """0007 lists approved comments and keeps a rejected parent of one as a placeholder; 0008
    gives every stored body its digest, as the model would."""
    upgrade(empty_engine, "0006_site_feedback_memory")
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sites (id, slug, name, moderation, settings, created_at)"
                " VALUES (1, 'news', 'News', 'post', '{}', '2026-01-01 00:00:00+00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO articles (id, site_id, key, approved_count, thread_version, locked,"
                " created_at) VALUES (1, 1, 'story', 1, 1, false, '2026-01-01 00:00:00+00:00')"
            )
        )
        for comment_id, parent, status, body in (
            (1, None, "rejected", "Taken down."),
            (2, 1, "approved", "A reply that stays."),
            (3, None, "spam", "Buy now."),
        ):
            conn.execute(
                text(
                    "INSERT INTO comments (id, site_id, article_id, parent_id, root_id, depth,"
                    " author_name, avatar, body, body_html, status, spam_reasons,"
                    " honeypot_filled, featured, version, created_at, updated_at) VALUES"
                    " (:id, 1, 1, :parent, :parent, 0, 'Ann', 'a', :body, '', :status, '[]',"
                    " false, false, 1, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
                ),
                {"id": comment_id, "parent": parent, "status": status, "body": body},
            )
    # On SQLite the comments table is rebuilt: with foreign keys enforced, that deleted reply 2.
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = conn.execute(text("SELECT id, listed, body_digest FROM comments ORDER BY id")).all()
        if empty_engine.dialect.name == "sqlite":  # enforced again on the pooled connection
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert [(row.id, bool(row.listed)) for row in rows] == [(1, True), (2, True), (3, False)]
    assert [row.body_digest for row in rows] == [
        body_digest("Taken down."),
        body_digest("A reply that stays."),
        body_digest("Buy now."),
    ]


@pytest.mark.parametrize("empty_engine", ["postgresql"], indirect=True)
def test_upgrades_run_at_once_on_postgresql_wait_for_each_other(empty_engine: Engine) -> None:
    # A migrate step per replica: each found no version table, and all but one failed with
    # a UniqueViolation on creating it. Processes, as in production (Alembic's context is
    # one per process).
    url = empty_engine.url.render_as_string(hide_password=False)
    script = (
        "import sys; from service.db import make_engine; from service.migrations import upgrade;"
        "upgrade(make_engine(sys.argv[1]))"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors = [run.communicate(timeout=120)[1].decode()[-300:] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], errors
    assert current_heads(empty_engine) == script_heads(empty_engine)
    assert differences(empty_engine) == []


def test_the_upgrade_command_says_whether_it_migrated(empty_engine: Engine, tmp_path: Path) -> None:
    url = empty_engine.url.render_as_string(hide_password=False)
    app = make_test_app(url, tmp_path)
    first = app.test_cli_runner().invoke(args=["db", "upgrade"])
    again = app.test_cli_runner().invoke(args=["db", "upgrade"])
    app.extensions["vetted.engine"].dispose()
    [head] = script_heads(empty_engine)
    assert first.output.strip() == f"database migrated from empty to revision {head}"
    assert again.output.strip() == f"database is up to date (revision {head})"
