"""Moderators' spam and ham decisions, kept as labelled text for the spam checks to learn from."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.comments.models import Comment
from service.db import Base, UTCDateTime, str_enum, utcnow
from service.sites.models import Site


class Label(StrEnum):
    """What the text is."""

    SPAM = "spam"
    HAM = "ham"


class Source(StrEnum):
    """Who said so."""

    MODERATOR = "moderator"
    IMPORT = "import"


class SpamFeedback(Base):
    """One labelled text of one site; the comment it came from, while that exists."""

    __tablename__ = "spam_feedback"
    __table_args__ = (Index("ix_spam_feedback_site", "site_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    # A copy, so that learning does not depend on the comment staying as it was.
    body: Mapped[str] = mapped_column(Text)
    label: Mapped[Label] = mapped_column(str_enum(Label))
    source: Mapped[Source] = mapped_column(str_enum(Source))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def record_feedback(
    session: Session,
    site: Site,
    comment: Comment | None,
    label: Label,
    source: Source,
    *,
    body: str | None = None,
) -> SpamFeedback:
    """Stores one labelled text: a comment's body, or ``body`` for an import without one."""
    text = comment.body if comment is not None else body
    if text is None:
        raise ValueError("feedback needs a comment or a body")
    feedback = SpamFeedback(
        site_id=site.id,
        comment_id=comment.id if comment is not None else None,
        body=text,
        label=label,
        source=source,
    )
    session.add(feedback)
    return feedback
