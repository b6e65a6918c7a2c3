"""Fixtures of the review API tests: tokens of each kind, and comments submitted for real."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.comments.services import set_status
from service.db import session_scope
from service.extensions import sessions, vault
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.sites.models import Site
from service.spam.services import check_comment
from tests.e2e.conftest import (  # noqa: F401 (fixtures for the worker tests)
    app_with_worker,
    queue_name,
    start_worker,
)

ARTICLE = "2018/convoy"


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session on the app's database, with no app context held open around the test.

    The shared fixture keeps an app context pushed for the whole test, so every request
    reuses it: one ``g`` and one request session for all requests, and a request that fails
    leaves its transaction (and on SQLite its write lock) open. Here each request gets its
    own context and session, as in production.
    """
    with session_scope(sessions(app)) as session:
        yield session


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def issue(session: Session) -> Any:
    """A factory of token secrets: issue(Role.ADMIN, "news", expires_at=...)."""

    def make(
        role: Role = Role.MODERATOR, *sites: str, expires_at: dt.datetime | None = None
    ) -> str:
        issued = create_token(session, list(sites or ["news"]), role, "test", expires_at)
        session.commit()
        return issued.secret

    return make


@pytest.fixture
def moderator(site: Site, issue: Any) -> dict[str, str]:
    """Headers of a moderator of ``news``."""
    return bearer(issue(Role.MODERATOR, "news"))


@pytest.fixture
def admin(site: Site, issue: Any) -> dict[str, str]:
    """Headers of an admin of ``news``."""
    return bearer(issue(Role.ADMIN, "news"))


@pytest.fixture
def submit(client: FlaskClient) -> Any:
    """Submits a comment through the public API: submit("text", email=..., ip=...) -> id."""

    def send(
        body: str,
        email: str = "ann@example.com",
        ip: str = "203.0.113.7",
        article: str = ARTICLE,
        site: str = "news",
        expect: int = 202,
        **fields: Any,
    ) -> Any:
        response = client.post(
            f"/api/v1/sites/{site}/articles/{article}/comments",
            json={"name": "Ann Reader", "email": email, "body": body, **fields},
            environ_base={"REMOTE_ADDR": ip},
        )
        assert response.status_code == expect, response.json
        return response.json["id"] if expect == 202 else response

    return send


@pytest.fixture
def decide_directly(session: Session) -> Any:
    """Sets comments' statuses through the domain layer (to build a queue quickly)."""

    def apply(status: Status, *ids: int) -> None:
        session.expire_all()
        for comment_id in ids:
            set_status(session, session.get_one(Comment, comment_id), status)
        session.commit()

    return apply


@pytest.fixture
def run_check(app: Flask, session: Session) -> Any:
    """Runs the spam check on a comment as the worker's task would, and returns it."""

    def check(comment_id: int) -> Comment:
        with app.app_context():
            check_comment(session, vault(app), comment_id)
        session.commit()
        session.expire_all()
        return session.get_one(Comment, comment_id)

    return check
