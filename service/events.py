"""Domain events: what happened to a comment or an article, for whoever listens.

Services emit an event inside the transaction that caused it; listeners (the webhook outbox)
write their own rows in that same transaction, so an event is stored exactly when its cause is.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session


class EventType(StrEnum):
    """Every event Vetted emits."""

    COMMENT_CREATED = "comment.created"
    COMMENT_APPROVED = "comment.approved"
    COMMENT_REJECTED = "comment.rejected"
    COMMENT_SPAM = "comment.spam"
    COMMENT_EDITED = "comment.edited"
    COMMENT_DELETED = "comment.deleted"
    ARTICLE_COMMENT_COUNT_CHANGED = "article.comment_count_changed"
    PING = "ping"


Listener = Callable[[Session, EventType, dict[str, Any]], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Adds a listener, once."""
    if listener not in _listeners:
        _listeners.append(listener)


def emit(session: Session, event: EventType, **subject: Any) -> None:
    """Tells every listener that ``event`` happened to ``subject`` (comment=..., article=...)."""
    for listener in _listeners:
        listener(session, event, subject)
