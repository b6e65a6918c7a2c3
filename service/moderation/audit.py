"""The append-only audit log: every moderator action and every reveal of private data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.moderation.models import Action, AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who acts: a token (its id and label) or an operator at the command line."""

    token_id: int | None
    name: str

    @classmethod
    def cli(cls) -> Actor:
        """The operator running the ``vetted`` command."""
        return cls(token_id=None, name="cli")


def record(
    session: Session,
    actor: Actor,
    action: Action,
    *,
    site_id: int | None,
    comment_id: int | None = None,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Appends one line to the log, in the caller's transaction."""
    entry = AuditEntry(
        site_id=site_id,
        token_id=actor.token_id,
        actor=actor.name,
        action=action,
        comment_id=comment_id,
        subject=subject,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def record_reveals(
    session: Session, actor: Actor, comments: Iterable[tuple[int, int]], fields: list[str]
) -> None:
    """One line per comment (site id, comment id) whose private ``fields`` a response shows."""
    for site_id, comment_id in comments:
        record(
            session,
            actor,
            Action.REVEAL,
            site_id=site_id,
            comment_id=comment_id,
            detail={"fields": fields},
        )


@dataclass(frozen=True)
class AuditFilter:
    """Which lines to read; every field narrows."""

    site_ids: tuple[int, ...]
    action: Action | None = None
    token_id: int | None = None
    comment_id: int | None = None
    after: dt.datetime | None = None
    before: dt.datetime | None = None
    # The id of the last line of the previous page (lines come newest first).
    below_id: int | None = None


def read_audit(session: Session, query: AuditFilter, limit: int) -> list[AuditEntry]:
    """A page of lines, newest first."""
    stmt = select(AuditEntry).where(AuditEntry.site_id.in_(query.site_ids))
    if query.action is not None:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.token_id is not None:
        stmt = stmt.where(AuditEntry.token_id == query.token_id)
    if query.comment_id is not None:
        stmt = stmt.where(AuditEntry.comment_id == query.comment_id)
    if query.after is not None:
        stmt = stmt.where(AuditEntry.created_at >= query.after)
    if query.before is not None:
        stmt = stmt.where(AuditEntry.created_at < query.before)
    if query.below_id is not None:
        stmt = stmt.where(AuditEntry.id < query.below_id)
    return list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))
