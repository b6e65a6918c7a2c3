"""The public thread: approved comments, nested, paginated by top-level comment."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Connection, Select, and_, bindparam, or_, select, true
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.comments.presenters import public_comment, removed_comment
from service.db import MAX_ID
from service.errors import Invalid
from service.sites.models import Article, Site
from service.sites.services import is_closed, setting_of


class Sort(StrEnum):
    """Order of top-level comments; replies are always oldest first under their parent."""

    OLDEST = "oldest"
    NEWEST = "newest"


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after the top-level comment at (created_at, id)."""

    created_at: dt.datetime
    id: int

    def encode(self) -> str:
        """The cursor as an opaque URL-safe string."""
        raw = orjson.dumps([self.created_at.isoformat(), self.id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def after(self) -> Any:
        """The SQL condition for comments after this one, in (created_at, id) order."""
        return or_(
            Comment.created_at > self.created_at,
            and_(Comment.created_at == self.created_at, Comment.id > self.id),
        )

    def before(self) -> Any:
        """The SQL condition for comments before this one, in (created_at, id) order."""
        return or_(
            Comment.created_at < self.created_at,
            and_(Comment.created_at == self.created_at, Comment.id < self.id),
        )

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor a client sent back, or Invalid."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            created_at, comment_id = orjson.loads(raw)
            if not 0 <= int(comment_id) <= MAX_ID:
                raise ValueError("no comment has this id")
            at = dt.datetime.fromisoformat(created_at)
            if at.tzinfo is None:  # every cursor given out is in UTC
                raise ValueError("a cursor's time has its zone")
            return cls(at, int(comment_id))
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            raise Invalid.field("cursor", "This cursor is not one we gave out.") from exc


@dataclass(frozen=True, slots=True)
class ThreadHead:
    """What a thread read knows before reading any comment: enough to answer 304 or from cache."""

    site_id: int
    settings: dict[str, Any]
    article_id: int | None
    thread_version: int
    closed: bool

    def setting(self, name: str) -> Any:
        """The site's setting, falling back to the default."""
        return setting_of(self.settings, name)


_sites, _articles = Site.__table__, Article.__table__
# Built once: a Core statement with bound parameters is compiled once per process and then
# only executed; building the ORM expression on every read cost more than running it.
_THREAD_HEAD = (
    select(
        _sites.c.id,
        _sites.c.settings,
        _articles.c.id,
        _articles.c.thread_version,
        _articles.c.locked,
        _articles.c.created_at,
    )
    .select_from(_sites)
    .outerjoin(
        _articles,
        (_articles.c.site_id == _sites.c.id) & (_articles.c.key == bindparam("article_key")),
    )
    .where(_sites.c.slug == bindparam("site_slug"))
)


def thread_head(connection: Connection, site_slug: str, article_key: str) -> ThreadHead | None:
    """The site's and article's state for a thread read, in one indexed query; None: no site."""
    row = connection.execute(
        _THREAD_HEAD, {"site_slug": site_slug, "article_key": article_key}
    ).first()
    if row is None:
        return None
    site_id, settings, article_id, version, locked, created_at = row
    closed = article_id is not None and is_closed(
        locked, created_at, setting_of(settings, "close_after_days"), None
    )
    return ThreadHead(site_id, settings or {}, article_id, version or 0, closed)


@dataclass(frozen=True)
class ThreadPage:
    """One page of an article's public thread."""

    comments: list[dict[str, Any]]
    next_cursor: str | None


def read_thread(
    session: Session,
    article: Article,
    sort: Sort = Sort.OLDEST,
    limit: int = 20,
    cursor: Cursor | None = None,
    max_depth: int = 5,
) -> ThreadPage:
    """A page of top-level comments (featured first on the first page) with their replies."""
    featured = _featured(session, article) if cursor is None else []
    top = list(session.scalars(_top_level_page(article, sort, limit + 1, cursor)))
    next_cursor = None
    if len(top) > limit:
        top = top[:limit]
        next_cursor = Cursor(top[-1].created_at, top[-1].id).encode()
    roots = featured + top
    replies = _replies_of(session, [c.id for c in roots])
    return ThreadPage(_nest(roots, replies, max_depth), next_cursor)


def _top_level_page(
    article: Article, sort: Sort, limit: int, cursor: Cursor | None
) -> Select[Comment]:
    query = select(Comment).where(
        Comment.article_id == article.id,
        Comment.listed == true(),  # as the partial index says (models.LISTED_ROOTS)
        Comment.parent_id.is_(None),
        Comment.featured.is_(False),
    )
    if sort == Sort.NEWEST:
        if cursor:
            query = query.where(cursor.before())
        return query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)
    if cursor:
        query = query.where(cursor.after())
    return query.order_by(Comment.created_at, Comment.id).limit(limit)


def _featured(session: Session, article: Article) -> list[Comment]:
    query = select(Comment).where(
        Comment.article_id == article.id,
        Comment.listed == true(),
        Comment.parent_id.is_(None),
        Comment.featured.is_(True),
    )
    return list(session.scalars(query.order_by(Comment.created_at, Comment.id)))


def _replies_of(session: Session, root_ids: list[int]) -> list[Comment]:
    if not root_ids:
        return []
    query = (
        select(Comment)
        .where(Comment.root_id.in_(root_ids), Comment.listed == true())
        .order_by(Comment.created_at, Comment.id)
    )
    return list(session.scalars(query))


def _nest(roots: list[Comment], replies: list[Comment], max_depth: int) -> list[dict[str, Any]]:
    """Hangs replies under their parents; replies deeper than ``max_depth`` stay at it."""
    nodes: dict[int, dict[str, Any]] = {}
    depth: dict[int, int] = {}
    out = []
    for comment in roots:
        node = {**_shown(comment), "replies": []}
        nodes[comment.id], depth[comment.id] = node, 0
        out.append(node)
    for comment in replies:
        parent_id = comment.parent_id
        if parent_id not in nodes:
            continue  # listed parents come first (created before their replies)
        while depth[parent_id] >= max_depth - 1 and nodes[parent_id]["parent_id"] is not None:
            parent_id = nodes[parent_id]["parent_id"]
        node = {**_shown(comment), "replies": []}
        nodes[comment.id], depth[comment.id] = node, depth[parent_id] + 1
        nodes[parent_id]["replies"].append(node)
    return out


def _shown(comment: Comment) -> dict[str, Any]:
    """An approved comment, or the placeholder of one no longer public that has replies."""
    return (
        public_comment(comment) if comment.status == Status.APPROVED else removed_comment(comment)
    )
