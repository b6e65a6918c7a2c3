"""Fixtures shared by every test: real databases, apps on them, sites and clients.

Database tests run twice, on SQLite and on PostgreSQL, with the schema made by the
migrations. A server that cannot be reached skips its tests on a laptop and fails them
when CI=true.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from service import create_app
from service.db import make_engine, session_scope
from service.extensions import sessions
from service.migrations import upgrade
from service.sites.models import ModerationMode, Site
from service.sites.services import create_site

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "VETTED_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
REDIS_URL = os.environ.get("VETTED_TEST_REDIS", "redis://127.0.0.1:6379")
TEST_KEYS = {
    "SECRET_KEY": "test-secret",
    # Fixed, so the test process and the worker processes it starts share it.
    "ENCRYPTION_KEYS": "sJ0x2yq8n3O4cYQe7WJ2kGm1tQvXb5pZr6uHdLfA9sE=",
    "HASH_KEY": "test-hash-key",
}


def reachable(host: str, port: int) -> bool:
    """Whether a TCP server answers at host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skips (laptop) or fails (CI) the current test when a server is unreachable."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing server is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this test run, migrated once, dropped at the end."""
    require_server("PostgreSQL", "127.0.0.1", 5432)
    name = f"vetted_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(f"{POSTGRES_URL}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{POSTGRES_URL}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "vetted.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    engine = make_engine(url)
    _truncate_postgres(engine)
    engine.dispose()


def make_test_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    """An app on ``database_url`` with fixed keys and an in-memory broker nobody consumes."""
    config: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": False,
        # Tests read a thread right after changing it; tests/comments/test_thread_api.py
        # covers the default, a version trusted for a second.
        "THREAD_VERSION_TTL": 0,
        "CELERY": {"broker_url": "memory://"},
        **TEST_KEYS,
    }
    config.update(overrides)
    app = create_app(config)
    app.instance_path = str(instance)
    return app


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """A factory of apps on the test's database: make_app(RATELIMIT_ENABLED=True)."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        made.append(make_test_app(database_url, tmp_path, **overrides))
        return made[-1]

    yield make
    for app in made:
        app.extensions["vetted.engine"].dispose()


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The app on a fresh database."""
    return make_app()  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session on the app's database (commit to make rows visible to requests)."""
    with app.app_context(), session_scope(sessions(app)) as session:
        yield session


def _make_site(session: Session, slug: str, mode: ModerationMode, **settings: Any) -> Site:
    site = create_site(session, slug, slug.title(), mode, settings)
    session.commit()
    return site


@pytest.fixture
def site(session: Session) -> Site:
    """A post-moderated site, ``news``."""
    return _make_site(session, "news", ModerationMode.POST)


@pytest.fixture
def make_site(session: Session) -> Any:
    """A factory of sites: make_site("slug", ModerationMode.PRE, max_links=1)."""

    def make(slug: str, mode: ModerationMode = ModerationMode.POST, **settings: Any) -> Site:
        return _make_site(session, slug, mode, **settings)

    return make


@pytest.fixture(scope="session")
def documented() -> Any:
    """Checks a response against the OpenAPI document: documented(response, path, method)."""
    from jsonschema import Draft202012Validator

    from service.meta.openapi import openapi_document

    document = openapi_document()

    def check(response: Any, path: str, method: str) -> None:
        operation = document["paths"][path][method]
        spec = operation["responses"].get(str(response.status_code))
        assert spec is not None, f"{response.status_code} is not documented for {method} {path}"
        if "content" not in spec:
            assert not response.data
            return
        schema = spec["content"][response.mimetype]["schema"]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = sorted(validator.iter_errors(response.get_json()), key=str)
        assert not errors, [e.message for e in errors[:5]]

    return check
