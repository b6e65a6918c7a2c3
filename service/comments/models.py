"""A comment, with its author's private data kept encrypted beside a lookup digest."""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, str_enum, utcnow


class Status(StrEnum):
    """Where a comment stands; only approved comments are public."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"
    DELETED = "deleted"


class Verdict(StrEnum):
    """What the spam check concluded."""

    HAM = "ham"
    SPAM = "spam"
    UNSURE = "unsure"


# The predicate of the thread's partial index, as each dialect renders `listed == true()`, so
# that the planner sees the query's condition is the index's.
LISTED_ROOTS = {
    "postgresql": "listed = true AND parent_id IS NULL",
    "sqlite": "listed = 1 AND parent_id IS NULL",
}


class Comment(Base):
    """One comment on one article."""

    __tablename__ = "comments"
    __table_args__ = (
        # The thread read: an article's approved top-level comments in order.
        Index("ix_comments_thread", "article_id", "status", "parent_id", "created_at", "id"),
        # The public thread's pages: only listed top-level comments, in order, so a page
        # of a 10,000-comment thread reads its 20 rows and no more.
        Index(
            "ix_comments_published_roots",
            "article_id",
            "featured",
            "created_at",
            "id",
            postgresql_where=text(LISTED_ROOTS["postgresql"]),
            sqlite_where=text(LISTED_ROOTS["sqlite"]),
        ),
        # ON DELETE CASCADE from a parent looks its replies up by parent_id.
        Index("ix_comments_parent", "parent_id"),
        # The replies of a page of top-level comments.
        Index("ix_comments_listed_replies", "root_id", "listed", "created_at"),
        # The moderation queue.
        Index("ix_comments_queue", "site_id", "status", "created_at"),
        # Spam checks that have not finished.
        Index("ix_comments_unchecked", "checked_at", "created_at"),
        Index("ix_comments_author", "site_id", "email_digest"),
        # The same text posted again on the site (spam.rules: REPEAT_POST), found by digest:
        # bodies are too long to index, and a scan of the site's comments grew with the site.
        Index("ix_comments_body", "site_id", "body_digest", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    # The top-level comment of this comment's thread (None for a top-level comment), so one
    # indexed query fetches all replies of a page.
    root_id: Mapped[int | None] = mapped_column(Integer)
    depth: Mapped[int] = mapped_column(Integer, default=0)

    author_name: Mapped[str] = mapped_column(String(100))
    author_website: Mapped[str | None] = mapped_column(String(500))
    email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_digest: Mapped[str | None] = mapped_column(String(64))
    avatar: Mapped[str] = mapped_column(String(32))
    ip_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    ip_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    user_agent: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str | None] = mapped_column(String(2000))

    body: Mapped[str] = mapped_column(Text)
    # body_digest(body), kept by the listener below whenever the body is set.
    body_digest: Mapped[str | None] = mapped_column(String(32))
    # Rendered once when stored or edited, never on a read.
    body_html: Mapped[str] = mapped_column(Text)

    status: Mapped[Status] = mapped_column(str_enum(Status), default=Status.PENDING)
    verdict: Mapped[Verdict | None] = mapped_column(str_enum(Verdict))
    spam_score: Mapped[float | None] = mapped_column(Float)
    # The signals behind the verdict: [{"code": ..., "detail": ..., "weight": ...}].
    spam_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    honeypot_filled: Mapped[bool] = mapped_column(Boolean, default=False)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)

    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    # Shown in its public thread: approved, or no longer public but with a listed reply, which
    # keeps it as a placeholder ("removed") so that other people's replies stay in place.
    # Kept true by services.set_status, the one way a status changes.
    listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Optimistic concurrency for moderators: bumped on every change.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it as is)


def body_digest(body: str) -> str | None:
    """What finds the same text posted again: the first 32 hex digits of its SHA-256."""
    return hashlib.sha256(body.encode()).hexdigest()[:32] if body else None


@event.listens_for(Comment.body, "set")
def _digest_body(target: Comment, value: str, _old: object, _initiator: object) -> None:
    """Every way a body changes (submission, edit, erasure) changes its digest with it."""
    target.body_digest = body_digest(value)
