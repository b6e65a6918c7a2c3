"""The Akismet adapter, against a local server speaking Akismet's protocol."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import akismet
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.comments.models import Status, Verdict
from service.spam.feedback import SpamFeedback
from service.spam.learning import learn
from service.spam.options import AkismetSettings, CheckOptions
from tests.spam.akismet_server import API_KEY, BLOG, AkismetServer, running_akismet
from tests.spam.conftest import NORMAL, codes, reason
from workers.spam import report_to_akismet

ARTICLE_URL = "https://news.example/2026/harbour"


@pytest.fixture
def server() -> Iterator[AkismetServer]:
    """A local Akismet."""
    with running_akismet() as running:
        yield running


@pytest.fixture
def app(make_app: Any, server: AkismetServer) -> Flask:
    """The app with an Akismet key, pointed at the local Akismet."""
    return make_app(  # type: ignore[no-any-return]
        AKISMET_API_KEY=API_KEY, AKISMET_BLOG_URL=BLOG, AKISMET_API_URL=server.url
    )


@pytest.fixture
def options(app: Flask) -> CheckOptions:
    """The check options the worker builds from this app's config."""
    return CheckOptions.from_config(app.config)


@pytest.fixture
def news(make_site: Any) -> Any:
    """A post-moderated site whose verdicts come from rules and Akismet only."""
    return make_site("news", spam_classifier=False)


def test_without_a_key_nothing_leaves_the_machine(
    make_app: Any, news: Any, check: Any, server: AkismetServer, session: Session
) -> None:
    plain = make_app()
    assert CheckOptions.from_config(plain.config).akismet is None
    response = plain.test_client().post(
        "/api/v1/sites/news/articles/a1/comments",
        json={"name": "Ann", "email": "ann@example.com", "body": "Best casino bonuses"},
    )
    comment = check(response.json["id"], CheckOptions.from_config(plain.config))
    assert "AKISMET" not in codes(comment)
    with plain.app_context():
        feedback_id = learn_one(session, news)
        assert report_to_akismet(feedback_id) is False
    assert server.received == []


def learn_one(session: Session, site: Any) -> int:
    from service.spam.classifier import load_base_model
    from service.spam.features import LabelledText

    learn(session, site, [LabelledText("Best casino bonuses", True)], load_base_model())
    session.commit()
    return int(session.scalar(select(SpamFeedback.id)) or 0)


def test_comment_check_gets_the_comment_and_its_author(
    news: Any, post: Any, check: Any, options: CheckOptions, server: AkismetServer
) -> None:
    check(post(NORMAL, article_url=ARTICLE_URL, website="https://ann.example"), options)
    [sent] = server.calls("comment-check")
    assert sent["api_key"] == API_KEY
    assert sent["blog"] == BLOG
    assert sent["user_ip"] == "203.0.113.7"
    assert sent["comment_type"] == "comment"
    assert sent["comment_content"] == NORMAL
    assert sent["comment_author"] == "Ann Reader"
    assert sent["comment_author_email"] == "ann@example.com"
    assert sent["comment_author_url"] == "https://ann.example"
    assert sent["permalink"] == ARTICLE_URL
    assert sent["user_agent"]
    assert sent["comment_date_gmt"]
    # The key is verified once per process, not once per comment.
    check(post("Another one"), options)
    assert len(server.calls("verify-key")) == 1


def test_akismet_spam_alone_holds_the_comment_for_a_moderator(
    news: Any, post: Any, check: Any, options: CheckOptions
) -> None:
    comment = check(post("Best casino bonuses in town"), options)
    assert reason(comment, "AKISMET") == {
        "code": "AKISMET",
        "detail": "Akismet: spam.",
        "effect": "score",
        "weight": 0.75,
    }
    assert (comment.verdict, comment.status) == (Verdict.UNSURE, Status.PENDING)


def test_akismet_spam_with_another_finding_is_spam(
    make_site: Any, post: Any, check: Any, options: CheckOptions
) -> None:
    make_site("news", spam_classifier=False, max_links=0, spam_threshold=0.85)
    comment = check(post("Best casino bonuses at https://casino.example"), options)
    # LINKS 0.6 and Akismet 0.75 combine to 1 - 0.4 x 0.25 = 0.9.
    assert codes(comment)[:1] == ["LINKS"]
    assert comment.spam_score == 0.9
    assert (comment.verdict, comment.status) == (Verdict.SPAM, Status.SPAM)


def test_blatant_spam_akismet_would_discard_is_decisive(
    news: Any, post: Any, check: Any, options: CheckOptions
) -> None:
    comment = check(post("A blatant advert"), options)
    assert reason(comment, "AKISMET")["effect"] == "spam"
    assert (comment.verdict, comment.spam_score) == (Verdict.SPAM, 1.0)


def test_akismet_ham_is_shown_and_weighs_nothing(
    news: Any, post: Any, check: Any, options: CheckOptions
) -> None:
    comment = check(post(NORMAL), options)
    assert reason(comment, "AKISMET")["detail"] == "Akismet: not spam."
    assert reason(comment, "AKISMET")["effect"] == "info"
    assert (comment.verdict, comment.status) == (Verdict.HAM, Status.APPROVED)


@pytest.mark.parametrize("status", [500, 503])
def test_a_failing_akismet_does_not_stop_the_check(
    news: Any, post: Any, check: Any, options: CheckOptions, server: AkismetServer, status: int
) -> None:
    server.fail_with = status
    comment = check(post("Best casino bonuses"), options)
    assert reason(comment, "AKISMET")["detail"] == "Akismet could not be asked."
    assert comment.verdict == Verdict.HAM


def test_a_wrong_key_is_noted_and_the_check_goes_on(
    news: Any, post: Any, check: Any, server: AkismetServer
) -> None:
    wrong = AkismetSettings("wrong-key", BLOG, server.url, timeout=1.0)
    comment = check(post("Best casino bonuses"), CheckOptions(akismet=wrong))
    assert reason(comment, "AKISMET")["effect"] == "info"
    assert server.calls("comment-check") == []
    assert server.calls("verify-key")[0]["key"] == "wrong-key"


@pytest.mark.parametrize(("action", "endpoint"), [("spam", "submit-spam"), ("ham", "submit-ham")])
def test_a_moderators_decision_is_reported_to_akismet(
    news: Any,
    post: Any,
    check: Any,
    client: FlaskClient,
    moderator_of: Any,
    queued: Any,
    server: AkismetServer,
    action: str,
    endpoint: str,
) -> None:
    comment = check(post("Best casino bonuses", article_url=ARTICLE_URL))
    queued()
    response = client.post(
        f"/api/v1/moderation/comments/{comment.id}/decision",
        json={"action": action},
        headers=moderator_of("news"),
    )
    assert response.status_code == 200, response.json
    reports = [args for task, args in queued() if task == "workers.spam.report_to_akismet"]
    assert len(reports) == 1
    assert report_to_akismet(*reports[0]) is True
    [sent] = server.calls(endpoint)
    assert sent["comment_content"] == "Best casino bonuses"
    assert sent["user_ip"] == "203.0.113.7"
    assert sent["comment_author_email"] == "ann@example.com"
    assert sent["permalink"] == ARTICLE_URL


def test_imported_examples_are_never_reported(
    news: Any, session: Session, queued: Any, server: AkismetServer
) -> None:
    feedback_id = learn_one(session, news)
    assert [task for task, _ in queued()] == ["workers.spam.retrain_site_model"]
    assert report_to_akismet(feedback_id) is False
    assert server.calls("submit-spam") == []


def test_a_report_akismet_cannot_take_now_is_retried(
    news: Any,
    post: Any,
    check: Any,
    client: FlaskClient,
    moderator_of: Any,
    queued: Any,
    server: AkismetServer,
) -> None:
    comment = check(post("Best casino bonuses"))
    queued()
    client.post(
        f"/api/v1/moderation/comments/{comment.id}/decision",
        json={"action": "spam"},
        headers=moderator_of("news"),
    )
    [(_, args)] = [q for q in queued() if q[0] == "workers.spam.report_to_akismet"]
    server.fail_with = 503
    # Called directly, Celery's autoretry re-raises; in a worker the task is retried with backoff.
    with pytest.raises(akismet.RequestError):
        report_to_akismet(*args)
    assert akismet.RequestError in report_to_akismet.autoretry_for
    server.fail_with = None
    assert report_to_akismet(*args) is True
