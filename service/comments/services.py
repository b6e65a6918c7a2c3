"""Storing submissions and changing a comment's status: the one path for each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from service.comments.forms import Submission
from service.comments.models import Comment, Status, body_digest
from service.comments.rendering import render_body
from service.db import utcnow
from service.errors import CommentsClosed, Invalid, NotFound
from service.events import EventType, emit
from service.privacy.crypto import Vault
from service.sites.models import Article, Site
from service.sites.services import (
    article_is_closed,
    get_or_create_article,
    lock_article,
    touch_thread,
)


@dataclass(frozen=True)
class Client:
    """Who sent a submission, as far as the request tells."""

    address: str | None = None
    user_agent: str | None = None
    referrer: str | None = None


# Checks a submission must pass before it is stored. Other domains register theirs (the
# moderation blocks), so that comments never import them; a check refuses by raising.
SubmissionCheck = Callable[[Session, Vault, Site, Submission, Client], None]
_submission_checks: list[SubmissionCheck] = []


def check_submissions_with(check: SubmissionCheck) -> None:
    """Adds a check that every submission must pass before it is stored, once."""
    if check not in _submission_checks:
        _submission_checks.append(check)


def submit_comment(
    session: Session,
    vault: Vault,
    site: Site,
    article_key: str,
    submission: Submission,
    client: Client,
) -> Comment:
    """Stores a new pending comment; the spam check is queued by the caller after commit."""
    comment, _ = submit_unless_resent(
        session, vault, site, article_key, submission, client, dt.timedelta(0)
    )
    return comment


def submit_unless_resent(
    session: Session,
    vault: Vault,
    site: Site,
    article_key: str,
    submission: Submission,
    client: Client,
    resend_window: dt.timedelta,
) -> tuple[Comment, bool]:
    """(the comment, True) newly stored and pending, or (the earlier one, False) when its
    author sent the same text to the same article and parent within resend_window: a double
    click, or a retry after a lost answer. The caller queues the spam check of a new one.

    A double click sends both requests at once, and each found no earlier comment and stored
    its own: so the check runs with the article locked (lock_article), where the second
    waits for the first to commit and then finds its comment.
    """
    article = get_or_create_article(
        session, site, article_key, submission.article_url, submission.article_title
    )
    if article_is_closed(site, article):
        raise CommentsClosed("Comments are closed on this article.")
    # Before the resend check: a resend must meet the block a new submission would.
    for check in _submission_checks:
        check(session, vault, site, submission, client)
    if resend_window > dt.timedelta(0):
        lock_article(session, article)
        earlier = _earlier_copy(session, vault, article, submission, resend_window)
        if earlier is not None:
            return earlier, False
    parent = _parent_for_reply(session, article, submission.parent_id)
    comment = Comment(
        site_id=site.id,
        article_id=article.id,
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author_name=submission.name,
        author_website=submission.website,
        email_encrypted=vault.encrypt(submission.email),
        email_digest=vault.email_digest(submission.email),
        avatar=vault.avatar_seed(submission.email, site.id),
        ip_encrypted=vault.encrypt(client.address) if client.address else None,
        ip_digest=vault.address_digest(client.address) if client.address else None,
        user_agent=(client.user_agent or "")[:500] or None,
        referrer=(client.referrer or "")[:2000] or None,
        body=submission.body,
        body_html=render_body(submission.body),
        status=Status.PENDING,
        honeypot_filled=submission.honeypot_filled,
        elapsed_ms=submission.elapsed_ms,
    )
    session.add(comment)
    session.flush()
    emit(session, EventType.COMMENT_CREATED, comment=comment, article=article)
    return comment, True


def _earlier_copy(
    session: Session,
    vault: Vault,
    article: Article,
    submission: Submission,
    window: dt.timedelta,
) -> Comment | None:
    """The first comment of the submission's author with its text, article and parent, sent
    within window."""
    return session.scalar(
        select(Comment)
        .where(
            Comment.site_id == article.site_id,
            Comment.body_digest == body_digest(submission.body),  # the index
            Comment.body == submission.body,
            Comment.created_at >= utcnow() - window,
            Comment.article_id == article.id,
            Comment.parent_id.is_(None)
            if submission.parent_id is None
            else Comment.parent_id == submission.parent_id,
            Comment.email_digest == vault.email_digest(submission.email),
        )
        .order_by(Comment.id)
        .limit(1)
    )


def _parent_for_reply(session: Session, article: Article, parent_id: int | None) -> Comment | None:
    """The comment replied to; only approved comments of the same article take replies."""
    if parent_id is None:
        return None
    parent = session.get(Comment, parent_id)
    if parent is None or parent.article_id != article.id:
        raise Invalid.field("parent_id", "The comment you reply to is not on this article.")
    if parent.status != Status.APPROVED:
        raise Invalid.field("parent_id", "The comment you reply to is not published.")
    return parent


_STATUS_EVENTS = {
    Status.APPROVED: EventType.COMMENT_APPROVED,
    Status.REJECTED: EventType.COMMENT_REJECTED,
    Status.SPAM: EventType.COMMENT_SPAM,
    Status.DELETED: EventType.COMMENT_DELETED,
}


def set_status(session: Session, comment: Comment, status: Status) -> bool:
    """Moves a comment to ``status``, keeping the article's count and cache version true.

    Returns whether anything changed, so a repeated decision is a no-op.
    """
    if comment.status == status:
        return False
    article = session.get_one(Article, comment.article_id)
    was_public = comment.status == Status.APPROVED
    comment.status = status
    comment.updated_at = utcnow()
    if status != Status.APPROVED:
        comment.featured = False  # its placeholder, if it leaves one, must not stay pinned
    session.flush()
    _relist(session, comment.id)
    if was_public or status == Status.APPROVED:
        # Recounted, not incremented: two workers deciding at once cannot drift the count.
        article.approved_count = _approved_count(session, article)
        touch_thread(article)
    session.flush()
    if status in _STATUS_EVENTS:
        emit(session, _STATUS_EVENTS[status], comment=comment, article=article)
    if was_public or status == Status.APPROVED:
        emit(session, EventType.ARTICLE_COMMENT_COUNT_CHANGED, article=article)
    return True


def _relist(session: Session, comment_id: int) -> None:
    """Keeps ``listed`` true for exactly the approved comments and those above a listed reply.

    Walks up from the comment whose status changed while a comment's listing changes. An
    UPDATE statement, not the ORM's unit of work: a placeholder appearing above a reply is no
    moderator's change, and must not bump the comment's version (If-Match would fail).
    """
    node_id: int | None = comment_id
    while node_id is not None:
        status, was_listed, parent_id = session.execute(
            select(Comment.status, Comment.listed, Comment.parent_id).where(Comment.id == node_id)
        ).one()
        listed = status == Status.APPROVED or bool(
            session.scalar(select(exists().where(Comment.parent_id == node_id, Comment.listed)))
        )
        if listed == was_listed:
            return
        session.execute(update(Comment).where(Comment.id == node_id).values(listed=listed))
        node_id = parent_id


def _approved_count(session: Session, article: Article) -> int:
    """How many approved comments an article has."""
    count = session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.article_id == article.id, Comment.status == Status.APPROVED)
    )
    return int(count or 0)


def comment_on_site(session: Session, site: Site, comment_id: int) -> Comment:
    """The comment with this id on this site, or NotFound (never another site's)."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.site_id != site.id:
        raise NotFound("There is no such comment.")
    return comment


def has_approved_comment(session: Session, site: Site, email_digest: str, before: int) -> bool:
    """Whether the author had a comment approved on this site before comment ``before``."""
    found = session.scalar(
        select(Comment.id)
        .where(
            Comment.site_id == site.id,
            Comment.email_digest == email_digest,
            Comment.status == Status.APPROVED,
            Comment.id != before,
        )
        .limit(1)
    )
    return found is not None
