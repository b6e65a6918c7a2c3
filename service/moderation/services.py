"""Moderators' work on comments: decisions one at a time or in bulk, edits, features, locks.

Every change writes the comment's history and the audit log in the same transaction; status
changes go through comments.services.set_status, which keeps counts, ETags and events right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.comments.rendering import render_body
from service.comments.services import set_status
from service.db import utcnow
from service.errors import Conflict, Invalid
from service.events import EventType, emit
from service.moderation.audit import Actor, record
from service.moderation.models import Action, CommentChange
from service.sites.models import Article, Site
from service.sites.services import get_or_create_article, touch_thread
from service.spam.feedback import Label, Source, SpamFeedback, record_feedback

# The decisions and the status each leaves a comment in. Ham ("not spam") publishes it.
DECISIONS: dict[Action, Status] = {
    Action.APPROVE: Status.APPROVED,
    Action.REJECT: Status.REJECTED,
    Action.SPAM: Status.SPAM,
    Action.HAM: Status.APPROVED,
    Action.DELETE: Status.DELETED,
}
_FEEDBACK = {Action.SPAM: Label.SPAM, Action.HAM: Label.HAM}


@dataclass(frozen=True)
class BulkItem:
    """One comment of a bulk decision, with the version the moderator saw, if sent."""

    id: int
    version: int | None = None


class BulkRefused(Conflict):
    """A bulk decision that was not applied at all, with what stopped it per id."""

    def __init__(self, detail: str, results: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.results = results

    def extra(self) -> dict[str, Any]:
        return {"applied": 0, "results": self.results}


def decide(
    session: Session,
    site: Site,
    comment: Comment,
    action: Action,
    actor: Actor,
    reason: str | None = None,
) -> bool:
    """Applies one decision; returns whether the status changed (a repeat is a no-op)."""
    if action != Action.DELETE:
        refuse_if_erased(comment)
    previous = comment.status
    changed = set_status(session, comment, DECISIONS[action])
    labelled = action in _FEEDBACK and _record_feedback_once(session, site, comment, action)
    if changed or labelled:
        _history(session, comment, actor, action, reason, previous=previous)
        record(
            session,
            actor,
            action,
            site_id=site.id,
            comment_id=comment.id,
            detail={"from": previous.value, "to": comment.status.value},
        )
    return changed


def refuse_if_erased(comment: Comment) -> None:
    """Conflict for a comment erased at its author's request (deleted, its email gone: every
    submission stores one): approved again, it was published empty, and an edit could put any
    text under it."""
    if comment.status == Status.DELETED and comment.email_encrypted is None:
        raise Conflict("This comment was erased at its author's request; it cannot be restored.")


def _record_feedback_once(session: Session, site: Site, comment: Comment, action: Action) -> bool:
    """Spam and ham decisions teach the spam checks; the same label twice teaches nothing."""
    label = _FEEDBACK[action]
    earlier = session.scalar(
        select(SpamFeedback.id).where(
            SpamFeedback.comment_id == comment.id, SpamFeedback.label == label
        )
    )
    if earlier is not None:
        return False
    record_feedback(session, site, comment, label, Source.MODERATOR)
    return True


def decide_many(
    session: Session,
    sites: dict[int, Site],
    items: list[BulkItem],
    action: Action,
    actor: Actor,
    reason: str | None = None,
) -> list[tuple[Comment, bool]]:
    """Applies one decision to many comments, all or none: any unknown or stale id refuses all."""
    ids = [item.id for item in items]
    found = session.scalars(select(Comment).where(Comment.id.in_(ids), Comment.site_id.in_(sites)))
    comments = {c.id: c for c in found}
    results = [_readiness(item, comments.get(item.id)) for item in items]
    if any(r["outcome"] != "ready" for r in results):
        raise BulkRefused("Nothing was applied: some comments are unknown or changed.", results)
    return [
        (
            comments[i],
            decide(session, sites[comments[i].site_id], comments[i], action, actor, reason),
        )
        for i in ids
    ]


def _readiness(item: BulkItem, comment: Comment | None) -> dict[str, Any]:
    if comment is None:
        # The same for another site's comment as for a missing one, so ids cannot be probed.
        return {"id": item.id, "outcome": "not_found"}
    if item.version is not None and item.version != comment.version:
        return {
            "id": item.id,
            "outcome": "stale",
            "status": comment.status.value,
            "version": comment.version,
        }
    return {"id": item.id, "outcome": "ready"}


def edit_body(
    session: Session, site: Site, comment: Comment, body: str, actor: Actor, reason: str | None
) -> bool:
    """Replaces a comment's text, keeping the original in its history."""
    refuse_if_erased(comment)
    if body == comment.body:
        return False
    _history(session, comment, actor, Action.EDIT, reason, previous_body=comment.body)
    comment.body = body
    comment.body_html = render_body(body)
    comment.edited_at = comment.updated_at = utcnow()
    article = session.get_one(Article, comment.article_id)
    touch_thread(article)
    session.flush()
    emit(session, EventType.COMMENT_EDITED, comment=comment, article=article)
    record(session, actor, Action.EDIT, site_id=site.id, comment_id=comment.id)
    return True


def set_featured(
    session: Session,
    site: Site,
    comment: Comment,
    featured: bool,
    actor: Actor,
    reason: str | None = None,
) -> bool:
    """Features (pins first in the public thread) or unfeatures a top-level comment."""
    if featured and comment.parent_id is not None:
        raise Invalid.field("featured", "Only top-level comments can be featured.")
    if featured and comment.status != Status.APPROVED:
        raise Invalid.field("featured", "Only published comments can be featured.")
    if comment.featured == featured:
        return False
    action = Action.FEATURE if featured else Action.UNFEATURE
    _history(session, comment, actor, action, reason)
    comment.featured = featured
    comment.updated_at = utcnow()
    touch_thread(session.get_one(Article, comment.article_id))
    session.flush()
    record(session, actor, action, site_id=site.id, comment_id=comment.id)
    return True


def set_locked(session: Session, site: Site, key: str, locked: bool, actor: Actor) -> Article:
    """Locks an article (no new comments) or unlocks it; an article not yet commented is made."""
    article = get_or_create_article(session, site, key)
    if article.locked != locked:
        article.locked = locked
        touch_thread(article)
        session.flush()
        action = Action.LOCK if locked else Action.UNLOCK
        record(session, actor, action, site_id=site.id, subject=f"article:{key}")
    return article


def _history(
    session: Session,
    comment: Comment,
    actor: Actor,
    action: Action,
    reason: str | None,
    *,
    previous: Status | None = None,
    previous_body: str | None = None,
) -> None:
    session.add(
        CommentChange(
            comment_id=comment.id,
            site_id=comment.site_id,
            token_id=actor.token_id,
            actor=actor.name,
            action=action,
            from_status=previous.value if previous is not None else None,
            to_status=comment.status.value if previous is not None else None,
            reason=reason,
            previous_body=previous_body,
        )
    )
