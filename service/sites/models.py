"""Sites (a newsroom's property) and their articles."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, str_enum, utcnow


class ModerationMode(StrEnum):
    """When a comment that the spam check let through is published."""

    PRE = "pre"  # every comment waits for a moderator
    POST = "post"  # ham is published at once; moderators clean up after
    TRUSTED = "trusted"  # ham is published if the author had a comment approved before


class Site(Base):
    """A site whose articles take comments, with its moderation policy."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    moderation: Mapped[ModerationMode] = mapped_column(
        str_enum(ModerationMode), default=ModerationMode.POST
    )
    # Settings a site's admins change; see sites.services.SETTINGS for names and defaults.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def setting(self, name: str) -> Any:
        """A setting's value, falling back to its default."""
        from service.sites.services import setting_of

        return setting_of(self.settings, name)


class Article(Base):
    """An article of a site, created the first time someone comments on it."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(500))
    # Denormalised so the thread read never counts rows.
    approved_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every change a public reader could see; the thread's ETag is made from it.
    thread_version: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
