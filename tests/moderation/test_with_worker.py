"""The review API with a real Celery worker on a real broker: blocks, checks and decisions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from service.comments.models import Comment, Status
from service.db import session_scope
from service.extensions import sessions
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.sites.models import ModerationMode
from service.sites.services import create_site
from service.spam.feedback import Label, SpamFeedback
from tests.e2e.conftest import wait_until
from tests.moderation.conftest import bearer

pytestmark = pytest.mark.slow
THREAD = "/api/v1/sites/news/articles/live/comments"
BASE = "/api/v1/moderation"


def test_a_blocked_author_is_held_as_spam_by_the_worker_and_a_moderator_can_clear_it(
    app_with_worker: Callable[..., Flask],
) -> None:
    app = app_with_worker()
    with session_scope(sessions(app)) as session:
        create_site(session, "news", "News", ModerationMode.POST)
        headers = bearer(create_token(session, ["news"], Role.MODERATOR, "desk").secret)
        session.commit()
    client = app.test_client()
    blocked = client.post(
        f"{BASE}/sites/news/blocks",
        json={"kind": "email", "value": "troll@example.com"},
        headers=headers,
    )
    assert blocked.status_code == 201
    held = client.post(
        THREAD, json={"name": "T", "email": "troll@example.com", "body": "Reasonable words."}
    )
    fine = client.post(THREAD, json={"name": "F", "email": "f@example.com", "body": "Thanks."})
    assert held.status_code == fine.status_code == 202

    def status(comment_id: int) -> Status | None:
        with session_scope(sessions(app)) as session:
            comment = session.get_one(Comment, comment_id)
            return comment.status if comment.checked_at else None

    assert wait_until(lambda: status(held.json["id"]), what="the check") == Status.SPAM
    item = client.get(f"{BASE}/comments/{held.json['id']}", headers=headers).json
    assert "BLOCKED_EMAIL" in {r["code"] for r in item["verdict"]["reasons"]}
    assert wait_until(lambda: status(fine.json["id"]), what="the other check") is not None

    cleared = client.post(
        f"{BASE}/comments/{held.json['id']}/decision", json={"action": "ham"}, headers=headers
    )
    assert cleared.json["status"] == "approved"
    assert held.json["id"] in {c["id"] for c in client.get(THREAD).json["comments"]}
    with session_scope(sessions(app)) as session:
        labels = session.scalars(select(SpamFeedback.label)).all()
    assert labels == [Label.HAM]
