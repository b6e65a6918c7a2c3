"""API tokens for moderators and admins, stored only as a hash."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, str_enum, utcnow


class Role(StrEnum):
    """What a token may do."""

    MODERATOR = "moderator"  # read the queue, decide, edit, ban
    ADMIN = "admin"  # also site settings, tokens and webhooks


class ApiToken(Base):
    """A bearer token: its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A short public prefix to tell tokens apart in lists and logs.
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role))
    # Slugs of the sites the token may act on.
    sites: Mapped[list[str]] = mapped_column(JSON, default=list)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
