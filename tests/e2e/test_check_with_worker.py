"""The whole path through a real worker: submit, check in Celery, publish or hold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status, Verdict
from service.db import session_scope
from service.extensions import sessions
from service.sites.models import ModerationMode
from service.sites.services import create_site
from tests.e2e.conftest import Worker, broker_url, wait_until, worker_env

pytestmark = pytest.mark.slow
URL = "/api/v1/sites/news/articles/live/comments"


def make_site(app: Flask, mode: ModerationMode) -> None:
    with app.app_context(), session_scope(sessions(app)) as session:
        create_site(session, "news", "News", mode)
        session.commit()


def comment(app: Flask, comment_id: int) -> Comment:
    with session_scope(sessions(app)) as session:
        return session.get_one(Comment, comment_id)


@pytest.mark.parametrize("broker_kind", ["redis", "embedded", "amqp"])
def test_post_moderated_comment_is_published_once_the_worker_checks_it(
    broker_kind: str, app_with_worker: Callable[..., Flask]
) -> None:
    app = app_with_worker(broker_kind)
    make_site(app, ModerationMode.POST)
    client = app.test_client()
    response = client.post(
        URL,
        json={"name": "Ann", "email": "ann@example.com", "body": "Thanks for the clear report."},
    )
    assert response.status_code == 202
    comment_id = response.json["id"]
    thread = wait_until(lambda: client.get(URL).json["comments"], what="the comment to publish")
    assert [c["id"] for c in thread] == [comment_id]
    assert comment(app, comment_id).verdict == Verdict.HAM


def test_pre_moderated_comment_waits_for_a_moderator_after_its_check(
    app_with_worker: Callable[..., Flask],
) -> None:
    app = app_with_worker()
    make_site(app, ModerationMode.PRE)
    client = app.test_client()
    comment_id = client.post(
        URL, json={"name": "Ann", "email": "ann@example.com", "body": "Worth reading."}
    ).json["id"]
    checked = wait_until(lambda: comment(app, comment_id).checked_at, what="the check")
    assert checked is not None
    stored = comment(app, comment_id)
    assert stored.status == Status.PENDING
    assert stored.verdict == Verdict.HAM
    assert client.get(URL).json["comments"] == []


def test_spam_is_never_published(
    app_with_worker: Callable[..., Flask],
) -> None:
    app = app_with_worker()
    make_site(app, ModerationMode.POST)
    client = app.test_client()
    comment_id = client.post(
        URL,
        json={
            "name": "Bot",
            "email": "bot@example.com",
            "body": "Cheap pills",
            "honeypot": "filled",
        },
    ).json["id"]
    wait_until(lambda: comment(app, comment_id).checked_at, what="the check")
    assert comment(app, comment_id).status == Status.SPAM
    assert client.get(URL).json["comments"] == []


def test_comment_submitted_while_the_broker_is_down_is_checked_once_it_is_back(
    database_url: str,
    queue_name: str,
    tmp_path: Path,
    make_app: Any,
    start_worker: Callable[..., Worker],
) -> None:
    require_redis = broker_url("redis", tmp_path)
    down = make_app(CELERY={"broker_url": "redis://127.0.0.1:1/0"})
    make_site(down, ModerationMode.POST)
    client = down.test_client()
    response = client.post(
        URL,
        json={
            "name": "Ann",
            "email": "ann@example.com",
            "body": "Posted while the queue was away.",
        },
    )
    assert response.status_code == 202
    comment_id = response.json["id"]
    assert comment(down, comment_id).status == Status.PENDING
    assert comment(down, comment_id).checked_at is None
    # The broker is back: beat's periodic job finds the unchecked comment and queues it.
    start_worker(
        worker_env(
            database_url,
            require_redis,
            queue_name,
            SPAM_CHECK_REQUEUE_AFTER=0,
            SPAM_CHECK_REQUEUE_INTERVAL=1,
        ),
        beat=True,
    )
    wait_until(
        lambda: comment(down, comment_id).status == Status.APPROVED,
        timeout=45,
        what="the re-queued check",
    )


def test_running_the_check_twice_changes_nothing(app: Flask, session: Session) -> None:
    from service.extensions import vault
    from service.spam.services import check_comment

    with app.test_request_context():
        create_site(session, "news", "News", ModerationMode.POST)
        session.commit()
        client = app.test_client()
        comment_id = client.post(
            URL, json={"name": "A", "email": "a@example.com", "body": "Once."}
        ).json["id"]
        first = check_comment(session, vault(app), comment_id)
        session.commit()
        assert first is not None
        before = comment(app, comment_id)
        assert check_comment(session, vault(app), comment_id) is None
        session.commit()
        after = comment(app, comment_id)
        assert (after.status, after.verdict, after.checked_at, after.version) == (
            before.status,
            before.verdict,
            before.checked_at,
            before.version,
        )
