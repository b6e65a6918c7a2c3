"""Data subject requests (GDPR art. 15 and 17): export and erase an author's data on a site.

The author is found by the keyed digest of their email, never by decrypting every row.
Erasure removes the email, the address and every digest of either (the avatar seed too),
from the comments, their history, the spam feedback, the site's blocks and its settings.
The audit log records that it happened and how many comments, never whose.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.comments.rendering import render_body
from service.comments.services import set_status
from service.db import utcnow
from service.events import EventType, emit
from service.moderation.audit import Actor, record
from service.moderation.models import Action, Block, BlockKind, CommentChange
from service.moderation.presenters import iso
from service.moderation.queue import comment_changes
from service.privacy.crypto import Vault, normalise_email
from service.sites.models import Article, Site
from service.sites.services import touch_thread
from service.spam.feedback import SpamFeedback
from service.webhooks.outbox import rewrite_stored_comments

ANONYMOUS = "Anonymous"
REDACTED = "[removed]"
Scrub = Callable[[str], str]


class EraseMode(StrEnum):
    """What erasure does to the comments (the site's ``erase_mode`` by default)."""

    DELETE = "delete"  # out of every thread, text wiped; the empty row keeps replies in place
    ANONYMISE = "anonymise"  # the text stays, without its author


@dataclass(frozen=True)
class Erasure:
    """What an erasure changed."""

    comments: int
    mode: EraseMode
    blocks_removed: int
    feedback_removed: int
    # Feedback rows removed or scrubbed: the site's spam model learned from them and must be
    # trained again, or it would keep the author's words.
    feedback_touched: int = 0


def authored(session: Session, vault: Vault, site: Site, email: str) -> list[Comment]:
    """Every comment on ``site`` written with ``email``, oldest first."""
    digest = vault.email_digest(email)
    stmt = select(Comment).where(Comment.site_id == site.id, Comment.email_digest == digest)
    return list(session.scalars(stmt.order_by(Comment.created_at, Comment.id)))


def export_subject(
    session: Session, vault: Vault, site: Site, email: str, actor: Actor
) -> dict[str, Any]:
    """Everything stored about the author on this site, as JSON (GDPR art. 15)."""
    comments = authored(session, vault, site, email)
    articles = {
        a.id: a
        for a in session.scalars(
            select(Article).where(Article.id.in_({c.article_id for c in comments}))
        )
    }
    record(session, actor, Action.EXPORT, site_id=site.id, detail={"comments": len(comments)})
    return {
        "site": site.slug,
        "generated_at": iso(utcnow()),
        "comments": [_exported(session, vault, c, articles[c.article_id]) for c in comments],
    }


def _exported(session: Session, vault: Vault, comment: Comment, article: Article) -> dict[str, Any]:
    return {
        "id": comment.id,
        "article": {"key": article.key, "url": article.url, "title": article.title},
        "parent_id": comment.parent_id,
        "status": comment.status.value,
        "author": {
            "name": comment.author_name,
            "website": comment.author_website,
            "email": vault.decrypt(comment.email_encrypted) if comment.email_encrypted else None,
            "ip": vault.decrypt(comment.ip_encrypted) if comment.ip_encrypted else None,
            "user_agent": comment.user_agent,
            "referrer": comment.referrer,
        },
        "body": comment.body,
        "created_at": iso(comment.created_at),
        "edited_at": iso(comment.edited_at),
        "earlier_versions": [
            {"body": change.previous_body, "replaced_at": iso(change.created_at)}
            for change in comment_changes(session, comment)
            if change.previous_body is not None
        ],
    }


def erase_subject(
    session: Session,
    vault: Vault,
    site: Site,
    email: str,
    actor: Actor,
    mode: EraseMode | None = None,
) -> Erasure:
    """Removes the author's personal data from this site (GDPR art. 17)."""
    mode = mode or EraseMode(site.setting("erase_mode"))
    comments = authored(session, vault, site, email)
    addresses = {vault.decrypt(c.ip_encrypted) for c in comments if c.ip_encrypted}
    digests = {vault.email_digest(email)} | {c.ip_digest for c in comments if c.ip_digest}
    scrub = _scrubber(email)
    for comment in comments:
        _erase_comment(session, comment, mode, scrub)
    ids = [c.id for c in comments]
    feedback_removed, feedback_touched = _erase_feedback(session, ids, mode, scrub)
    if ids:
        session.execute(
            update(CommentChange)
            .where(CommentChange.comment_id.in_(ids))
            .values(previous_body=None, reason=None)
        )
    blocks_removed = _erase_blocks(session, site, digests, addresses)
    _erase_from_settings(site, email)
    session.flush()
    rewrite_stored_comments(session, site.id, comments)
    record(
        session, actor, Action.ERASE, site_id=site.id, detail={"comments": len(ids), "mode": mode}
    )
    return Erasure(len(ids), mode, blocks_removed, feedback_removed, feedback_touched)


def _scrubber(email: str) -> Scrub:
    pattern = re.compile(re.escape(normalise_email(email)), re.IGNORECASE)
    return lambda text: pattern.sub(REDACTED, text)


def _erase_comment(session: Session, comment: Comment, mode: EraseMode, scrub: Scrub) -> None:
    # Wiped before the status changes, so that the events it emits carry nothing personal.
    comment.email_encrypted = comment.email_digest = None
    comment.ip_encrypted = comment.ip_digest = None
    comment.user_agent = comment.referrer = comment.author_website = None
    comment.avatar = secrets.token_hex(16)
    comment.author_name = ANONYMOUS
    comment.updated_at = utcnow()
    if mode == EraseMode.DELETE:
        comment.body = comment.body_html = ""
        # The reasons quote the text (the classifier's words): they go with it.
        comment.spam_reasons = []
        comment.featured = False
        session.flush()
        set_status(session, comment, Status.DELETED)
        return
    comment.body = scrub(comment.body)
    comment.body_html = render_body(comment.body)
    comment.spam_reasons = orjson.loads(scrub(orjson.dumps(comment.spam_reasons or []).decode()))
    article = session.get_one(Article, comment.article_id)
    touch_thread(article)
    session.flush()
    emit(session, EventType.COMMENT_EDITED, comment=comment, article=article)


def _erase_feedback(
    session: Session, ids: list[int], mode: EraseMode, scrub: Scrub
) -> tuple[int, int]:
    """Deletes (or scrubs) the spam feedback of the comments: (rows removed, rows touched)."""
    if not ids:
        return 0, 0
    rows = list(session.scalars(select(SpamFeedback).where(SpamFeedback.comment_id.in_(ids))))
    for row in rows:
        if mode == EraseMode.DELETE:
            session.delete(row)
        else:
            row.body = scrub(row.body)
    return (len(rows) if mode == EraseMode.DELETE else 0), len(rows)


def _erase_blocks(session: Session, site: Site, digests: set[str], addresses: set[str]) -> int:
    """Blocks made from this author's email or addresses: they would identify the author."""
    hosts = {f"{a}/32" for a in addresses if ":" not in a} | {
        f"{a}/128" for a in addresses if ":" in a
    }
    result = session.execute(
        delete(Block).where(
            Block.site_id == site.id,
            (Block.digest.in_(digests)) | ((Block.kind == BlockKind.IP) & Block.value.in_(hosts)),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _erase_from_settings(site: Site, email: str) -> None:
    listed = list(site.setting("blocked_emails"))
    kept = [e for e in listed if normalise_email(e) != normalise_email(email)]
    if kept != listed:
        site.settings = {**(site.settings or {}), "blocked_emails": kept}
