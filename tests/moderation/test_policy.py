"""The site's policy after the spam check: pre, post and trusted moderation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from service.comments.forms import Submission
from service.comments.models import Comment, Status, Verdict
from service.comments.services import Client, set_status, submit_comment
from service.extensions import vault
from service.moderation.policy import publish_if_allowed
from service.sites.models import ModerationMode, Site
from service.spam.services import check_comment

ALL_MODES = list(ModerationMode)


def submitted(app: Flask, session: Session, site: Site, email: str = "ann@example.com") -> Comment:
    submission = Submission(name="Ann", email=email, body="A fair report, thank you.")
    comment = submit_comment(session, vault(app), site, "story", submission, Client("192.0.2.1"))
    session.commit()
    return comment


def decided(session: Session, site: Site, comment: Comment, verdict: Verdict) -> Status:
    """Applies the policy to ``comment`` as if the check had said ``verdict``."""
    comment.verdict = verdict
    status = publish_if_allowed(session, site, comment)
    session.commit()
    return status


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (ModerationMode.PRE, Status.PENDING),
        (ModerationMode.POST, Status.APPROVED),
        (ModerationMode.TRUSTED, Status.PENDING),
    ],
)
def test_ham_from_a_first_time_author(
    app: Flask, session: Session, make_site: Any, mode: ModerationMode, expected: Status
) -> None:
    site = make_site("paper", mode)
    comment = submitted(app, session, site)
    assert decided(session, site, comment, Verdict.HAM) == expected


def test_trusted_publishes_ham_from_an_author_with_an_approved_comment(
    app: Flask, session: Session, make_site: Any
) -> None:
    site = make_site("paper", ModerationMode.TRUSTED)
    earlier = submitted(app, session, site)
    set_status(session, earlier, Status.APPROVED)
    session.commit()
    later = submitted(app, session, site, email="ANN@Example.com")
    assert decided(session, site, later, Verdict.HAM) == Status.APPROVED


@pytest.mark.parametrize("earlier_status", [Status.PENDING, Status.REJECTED, Status.SPAM])
def test_trusted_does_not_count_comments_that_were_never_approved(
    app: Flask, session: Session, make_site: Any, earlier_status: Status
) -> None:
    site = make_site("paper", ModerationMode.TRUSTED)
    earlier = submitted(app, session, site)
    set_status(session, earlier, earlier_status)
    session.commit()
    later = submitted(app, session, site)
    assert decided(session, site, later, Verdict.HAM) == Status.PENDING


def test_trusted_does_not_carry_over_from_another_author_or_site(
    app: Flask, session: Session, make_site: Any
) -> None:
    site = make_site("paper", ModerationMode.TRUSTED)
    other_site = make_site("other", ModerationMode.TRUSTED)
    approved_elsewhere = submitted(app, session, other_site)
    approved_other_author = submitted(app, session, site, email="bob@example.com")
    for comment in (approved_elsewhere, approved_other_author):
        set_status(session, comment, Status.APPROVED)
    session.commit()
    newcomer = submitted(app, session, site)
    assert decided(session, site, newcomer, Verdict.HAM) == Status.PENDING


def test_pre_moderation_holds_ham_even_from_a_known_author(
    app: Flask, session: Session, make_site: Any
) -> None:
    site = make_site("paper", ModerationMode.PRE)
    earlier = submitted(app, session, site)
    set_status(session, earlier, Status.APPROVED)
    session.commit()
    assert decided(session, site, submitted(app, session, site), Verdict.HAM) == Status.PENDING


@pytest.mark.parametrize("mode", ALL_MODES)
def test_spam_never_publishes(
    app: Flask, session: Session, make_site: Any, mode: ModerationMode
) -> None:
    site = make_site("paper", mode)
    earlier = submitted(app, session, site)
    set_status(session, earlier, Status.APPROVED)  # even a trusted author's spam
    session.commit()
    assert decided(session, site, submitted(app, session, site), Verdict.SPAM) == Status.SPAM


@pytest.mark.parametrize("mode", ALL_MODES)
def test_unsure_waits_for_a_moderator(
    app: Flask, session: Session, make_site: Any, mode: ModerationMode
) -> None:
    site = make_site("paper", mode)
    earlier = submitted(app, session, site)
    set_status(session, earlier, Status.APPROVED)
    session.commit()
    assert decided(session, site, submitted(app, session, site), Verdict.UNSURE) == Status.PENDING


@pytest.mark.parametrize("status", [Status.REJECTED, Status.DELETED, Status.APPROVED])
def test_a_comment_a_moderator_already_decided_is_left_alone(
    app: Flask, session: Session, site: Site, status: Status
) -> None:
    comment = submitted(app, session, site)
    set_status(session, comment, status)
    session.commit()
    assert decided(session, site, comment, Verdict.SPAM) == status


def test_the_check_applies_the_policy(app: Flask, session: Session, make_site: Any) -> None:
    # The rules alone decide here (no classifier), so the comment is ham for certain.
    rules_only = {"spam_classifier": False, "spam_threshold": 0.9, "unsure_threshold": 0.5}
    post = make_site("post", ModerationMode.POST, **rules_only)
    pre = make_site("pre", ModerationMode.PRE, **rules_only)
    published, held = submitted(app, session, post), submitted(app, session, pre)
    for comment in (published, held):
        check_comment(session, vault(app), comment.id)
    session.commit()
    session.expire_all()
    assert session.get_one(Comment, published.id).status == Status.APPROVED
    assert session.get_one(Comment, held.id).status == Status.PENDING


def test_publishing_counts_the_comment_on_its_article(
    app: Flask, session: Session, site: Site
) -> None:
    comment = submitted(app, session, site)
    decided(session, site, comment, Verdict.HAM)
    client = app.test_client()
    thread = client.get("/api/v1/sites/news/articles/story/comments").json
    assert thread["article"]["comment_count"] == 1
    assert [c["id"] for c in thread["comments"]] == [comment.id]
