"""Fixtures of the spam pipeline tests: submissions through the public API, checks, tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.comments.models import Comment
from service.extensions import vault
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.spam.learning import site_models
from service.spam.options import CheckOptions
from service.spam.services import check_comment

SPAMMY = "Check out my channel http://beats.example subscribe!!!"
SIMILAR_SPAMMY = "check out my channel http://beats.example please subscribe!!"
NORMAL = "The mayor promised the same thing in 2019."


@pytest.fixture(autouse=True)
def fresh_site_models() -> Iterator[None]:
    """Each test starts with no site model cached in this process (sites ids repeat)."""
    site_models.clear()
    yield
    site_models.clear()


@pytest.fixture
def post(client: FlaskClient) -> Any:
    """Submits a comment through the public API and returns its id.

    post("text", site="news", article="a1", email=..., ip=..., **more fields)
    """

    def send(
        body: str,
        site: str = "news",
        article: str = "a1",
        email: str = "ann@example.com",
        ip: str = "203.0.113.7",
        **fields: Any,
    ) -> int:
        response = client.post(
            f"/api/v1/sites/{site}/articles/{article}/comments",
            json={"name": fields.pop("name", "Ann Reader"), "email": email, "body": body, **fields},
            environ_base={"REMOTE_ADDR": ip},
        )
        assert response.status_code == 202, response.json
        return int(response.json["id"])

    return send


@pytest.fixture
def check(app: Flask, session: Session) -> Any:
    """Runs the spam check on a comment as the worker would and returns the stored comment.

    check(comment_id, options=CheckOptions(...))
    """

    def run(comment_id: int, options: CheckOptions | None = None) -> Comment:
        with app.app_context():
            decision = check_comment(session, vault(app), comment_id, options)
        session.commit()
        assert decision is not None
        session.expire_all()
        return session.get_one(Comment, comment_id)

    return run


@pytest.fixture
def moderator_of(session: Session) -> Any:
    """The Authorization header of a moderator of the given sites: moderator_of("news")."""

    def make(*sites: str) -> dict[str, str]:
        issued = create_token(session, list(sites), Role.MODERATOR, "test", None)
        session.commit()
        return {"Authorization": f"Bearer {issued.secret}"}

    return make


def codes(comment: Comment) -> list[str]:
    """The reason codes stored with a comment, in order."""
    return [reason["code"] for reason in comment.spam_reasons]


def reason(comment: Comment, code: str) -> dict[str, Any]:
    """The one stored reason with this code."""
    [found] = [r for r in comment.spam_reasons if r["code"] == code]
    return found


@pytest.fixture
def queued(app: Flask) -> Any:
    """Takes the tasks queued so far on the app's in-memory broker: [(task name, args)].

    The broker is the real kombu in-memory transport the test apps use (nothing consumes it),
    so this reads what a worker would receive.
    """
    celery = app.extensions["celery"]
    queue_name = celery.conf.task_default_queue

    def take() -> list[tuple[str, tuple[Any, ...]]]:
        taken = []
        with celery.connection_for_read() as connection:
            queue = connection.SimpleQueue(queue_name)
            while True:
                try:
                    message = queue.get(timeout=0.05)
                except queue.Empty:
                    break
                taken.append((message.headers["task"], tuple(message.payload[0])))
                message.ack()
            queue.close()
        return taken

    take()  # whatever earlier tests left in this process's memory broker
    return take
