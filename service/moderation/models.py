"""API tokens, the decision history of comments, the audit log and blocks."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
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


class Action(StrEnum):
    """What a moderator or admin did; every one is written to the audit log."""

    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"
    HAM = "ham"
    DELETE = "delete"
    EDIT = "edit"
    FEATURE = "feature"
    UNFEATURE = "unfeature"
    REVEAL = "reveal"  # a response showed an author's email or address
    SEARCH_PRIVATE = "search.private"  # the queue was searched by email or address
    LOCK = "article.lock"
    UNLOCK = "article.unlock"
    BLOCK = "block.create"
    UNBLOCK = "block.remove"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    SETTINGS = "settings.update"
    EXPORT = "privacy.export"
    ERASE = "privacy.erase"


class CommentChange(Base):
    """One entry of a comment's decision history: a decision, an edit or a (un)feature."""

    __tablename__ = "comment_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    token_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[Action] = mapped_column(str_enum(Action))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    # An edit keeps the body as it was before.
    previous_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One line of the append-only audit log: who did what, when, to which comment.

    No foreign keys, so no cascade can ever change a line; the migration adds triggers that
    refuse UPDATE and DELETE. Lines never hold an email, an address or a digest of either,
    which is what lets erasure leave the log untouched.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_site", "site_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(Integer)
    token_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[Action] = mapped_column(str_enum(Action))
    comment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # What else the action was about: "token:4", "block:7", "article:2018/convoy".
    subject: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlockKind(StrEnum):
    """What a block matches."""

    EMAIL = "email"  # by keyed digest: the address itself is never stored
    DOMAIN = "domain"  # an email domain and its subdomains
    IP = "ip"  # an address or a CIDR network
    WORD = "word"  # a word or phrase, or a regular expression


class Block(Base):
    """A site's block on an author, a network or a phrase, optionally expiring."""

    __tablename__ = "blocks"
    __table_args__ = (Index("ix_blocks_site", "site_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[BlockKind] = mapped_column(str_enum(BlockKind))
    # The domain, network, word or pattern; None for digest-only blocks.
    value: Mapped[str | None] = mapped_column(String(500))
    # The keyed digest of an email, or of an address blocked from a comment.
    digest: Mapped[str | None] = mapped_column(String(64), index=True)
    regex: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(500))
    token_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
