"""The spam pipeline through a real worker on Redis: verdicts, reasons, learning, Akismet."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.comments.models import Comment, Status, Verdict
from service.db import session_scope
from service.extensions import sessions
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.sites.models import ModerationMode
from service.sites.services import create_site
from service.spam.models import SiteSpamModel
from tests.e2e.conftest import wait_until
from tests.spam.akismet_server import API_KEY, BLOG, running_akismet
from tests.spam.conftest import NORMAL, SIMILAR_SPAMMY, SPAMMY

pytestmark = pytest.mark.slow


def setup(app: Flask) -> dict[str, str]:
    """Sites news and other, post-moderated; returns a news moderator's headers."""
    with app.app_context(), session_scope(sessions(app)) as session:
        create_site(session, "news", "News", ModerationMode.POST)
        create_site(session, "other", "Other", ModerationMode.POST)
        issued = create_token(session, ["news"], Role.MODERATOR, "e2e", None)
        session.commit()
        return {"Authorization": f"Bearer {issued.secret}"}


def submit(client: FlaskClient, body: str, site: str = "news", n: int = 0) -> int:
    """Submits a comment from the n-th reader (own email and address) and returns its id."""
    response = client.post(
        f"/api/v1/sites/{site}/articles/story/comments",
        json={"name": f"Reader {n}", "email": f"reader{n}@example.com", "body": body},
        environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
    )
    assert response.status_code == 202, response.json
    return int(response.json["id"])


def checked(app: Flask, comment_id: int) -> Comment:
    """The comment once the worker has checked it."""

    def load() -> Comment | None:
        with session_scope(sessions(app)) as session:
            comment = session.get_one(Comment, comment_id)
            return comment if comment.checked_at is not None else None

    found: Comment = wait_until(load, what=f"the check of comment {comment_id}")
    return found


def site_model_trained(app: Flask) -> bool:
    with session_scope(sessions(app)) as session:
        return session.scalar(select(SiteSpamModel.site_id)) is not None


def test_spam_is_held_with_reasons_ham_goes_through_and_not_spam_teaches_that_site_only(
    app_with_worker: Callable[..., Flask],
) -> None:
    app = app_with_worker()
    moderator = setup(app)
    client = app.test_client()

    spam = checked(app, submit(client, SPAMMY, n=1))
    assert (spam.verdict, spam.status) == (Verdict.SPAM, Status.SPAM)
    shown = client.get(f"/api/v1/moderation/comments/{spam.id}", headers=moderator).json
    [classifier] = [r for r in shown["verdict"]["reasons"] if r["code"] == "CLASSIFIER"]
    assert classifier["terms"] and classifier["weight"] > 0.9

    normal_id = submit(client, NORMAL, n=2)
    assert checked(app, normal_id).status == Status.APPROVED
    thread = client.get("/api/v1/sites/news/articles/story/comments").json["comments"]
    assert [c["id"] for c in thread] == [normal_id]

    decision = client.post(
        f"/api/v1/moderation/comments/{spam.id}/decision",
        json={"action": "ham"},
        headers=moderator,
    )
    assert decision.status_code == 200, decision.json
    wait_until(lambda: site_model_trained(app), what="the site's model to be retrained")

    here = checked(app, submit(client, SIMILAR_SPAMMY, n=3))
    assert here.verdict != Verdict.SPAM
    elsewhere = checked(app, submit(client, SIMILAR_SPAMMY, site="other", n=3))
    assert (elsewhere.verdict, elsewhere.status) == (Verdict.SPAM, Status.SPAM)


def test_the_worker_asks_akismet_and_reports_moderators_decisions(
    app_with_worker: Callable[..., Flask],
) -> None:
    with running_akismet() as server:
        app = app_with_worker(
            AKISMET_API_KEY=API_KEY, AKISMET_BLOG_URL=BLOG, AKISMET_API_URL=server.url
        )
        moderator = setup(app)
        client = app.test_client()

        comment = checked(app, submit(client, "Best casino bonuses in town", n=1))
        assert "AKISMET" in [r["code"] for r in comment.spam_reasons]
        assert server.calls("comment-check")[0]["comment_content"] == comment.body

        client.post(
            f"/api/v1/moderation/comments/{comment.id}/decision",
            json={"action": "spam"},
            headers=moderator,
        )
        sent = wait_until(lambda: server.calls("submit-spam"), what="the submit-spam report")
        assert sent[0]["comment_content"] == comment.body
        assert sent[0]["user_ip"] == "198.51.100.2"
