"""The moderation queue: filtered, cursor-paginated comments with counts per status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status, Verdict
from service.comments.threads import Cursor, Sort
from service.moderation.models import CommentChange
from service.sites.models import Article, Site


@dataclass(frozen=True)
class QueueFilter:
    """Which comments a moderator asks for; every field set narrows the list."""

    site_ids: tuple[int, ...]
    status: Status | None = None
    article_key: str | None = None
    verdict: Verdict | None = None
    # Author and address are matched by keyed digest, never by decrypting anything.
    email_digest: str | None = None
    ip_digest: str | None = None
    text: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue, where the next starts, and the filter's count per status."""

    comments: list[Comment]
    next_cursor: str | None
    counts: dict[str, int]


def read_queue(
    session: Session,
    query: QueueFilter,
    sort: Sort,
    limit: int,
    cursor: Cursor | None,
    count_cap: int = 1000,
) -> QueuePage:
    """A page of comments: oldest first by default, as a queue is worked."""
    stmt = _filtered(select(Comment), query, with_status=True)
    if cursor is not None:
        stmt = stmt.where(cursor.after() if sort == Sort.OLDEST else cursor.before())
    if sort == Sort.OLDEST:
        stmt = stmt.order_by(Comment.created_at, Comment.id)
    else:
        stmt = stmt.order_by(Comment.created_at.desc(), Comment.id.desc())
    comments = list(session.scalars(stmt.limit(limit + 1)))
    next_cursor = None
    if len(comments) > limit:
        comments = comments[:limit]
        next_cursor = Cursor(comments[-1].created_at, comments[-1].id).encode()
    return QueuePage(comments, next_cursor, status_counts(session, query, count_cap))


def status_counts(session: Session, query: QueueFilter, cap: int) -> dict[str, int]:
    """How many comments match the filter in each status (its status left out), up to ``cap``.

    A count of ``cap`` means at least that many. Counting stops there so that the queue's
    first page costs the same on a site of a million comments as on a new one: each status
    reads at most ``cap`` entries of the queue index, where a full count read every comment.
    """
    counted = [
        select(func.count())
        .select_from(
            _filtered(select(Comment.id), query, with_status=False)
            .where(Comment.status == status)
            .limit(cap)
            .subquery()
        )
        .scalar_subquery()
        .label(status.value)
        for status in Status
    ]
    row = session.execute(select(*counted)).one()
    return {status.value: int(count) for status, count in zip(Status, row, strict=True)}


_Columns = TypeVarTuple("_Columns")


def _filtered(stmt: Select[*_Columns], query: QueueFilter, with_status: bool) -> Select[*_Columns]:
    stmt = stmt.where(Comment.site_id.in_(query.site_ids))
    if with_status and query.status is not None:
        stmt = stmt.where(Comment.status == query.status)
    if query.article_key is not None:
        articles = select(Article.id).where(
            Article.site_id.in_(query.site_ids), Article.key == query.article_key
        )
        stmt = stmt.where(Comment.article_id.in_(articles))
    if query.verdict is not None:
        stmt = stmt.where(Comment.verdict == query.verdict)
    if query.email_digest is not None:
        stmt = stmt.where(Comment.email_digest == query.email_digest)
    if query.ip_digest is not None:
        stmt = stmt.where(Comment.ip_digest == query.ip_digest)
    if query.text:
        stmt = stmt.where(Comment.body.ilike(f"%{_escape_like(query.text)}%", escape="\\"))
    if query.created_after is not None:
        stmt = stmt.where(Comment.created_at >= query.created_after)
    if query.created_before is not None:
        stmt = stmt.where(Comment.created_at < query.created_before)
    return stmt


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class QueueContext:
    """What the moderator's view of a page of comments shows beside each: loaded in bulk."""

    sites: dict[int, Site] = field(default_factory=dict)
    articles: dict[int, Article] = field(default_factory=dict)
    parents: dict[int, Comment] = field(default_factory=dict)
    # (site id, email digest) -> count per status
    authors: dict[tuple[int, str], dict[str, int]] = field(default_factory=dict)


def load_context(session: Session, comments: list[Comment]) -> QueueContext:
    """Sites, articles, parents and author histories of ``comments``, in four queries."""
    ctx = QueueContext()
    if not comments:
        return ctx
    site_ids = {c.site_id for c in comments}
    ctx.sites = {s.id: s for s in session.scalars(select(Site).where(Site.id.in_(site_ids)))}
    article_ids = {c.article_id for c in comments}
    ctx.articles = {
        a.id: a for a in session.scalars(select(Article).where(Article.id.in_(article_ids)))
    }
    parent_ids = {c.parent_id for c in comments if c.parent_id is not None}
    if parent_ids:
        parents = session.scalars(select(Comment).where(Comment.id.in_(parent_ids)))
        ctx.parents = {p.id: p for p in parents}
    ctx.authors = _author_histories(session, comments)
    return ctx


def _author_histories(
    session: Session, comments: list[Comment]
) -> dict[tuple[int, str], dict[str, int]]:
    digests = {c.email_digest for c in comments if c.email_digest}
    if not digests:
        return {}
    stmt = (
        select(Comment.site_id, Comment.email_digest, Comment.status, func.count())
        .where(
            Comment.site_id.in_({c.site_id for c in comments}),
            Comment.email_digest.in_(digests),
        )
        .group_by(Comment.site_id, Comment.email_digest, Comment.status)
    )
    histories: dict[tuple[int, str], dict[str, int]] = {}
    for site_id, digest, status, count in session.execute(stmt):
        counts = histories.setdefault((site_id, str(digest)), {s.value: 0 for s in Status})
        counts[Status(status).value] = int(count)
    return histories


def comment_changes(session: Session, comment: Comment) -> list[CommentChange]:
    """A comment's decision history, oldest first."""
    stmt = select(CommentChange).where(CommentChange.comment_id == comment.id)
    return list(session.scalars(stmt.order_by(CommentChange.id)))
