"""Webhook endpoints, the outbox of events, and the log of their deliveries."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, str_enum, utcnow
from service.events import EventType
from service.webhooks.schedule import DisableReason


class DeliveryState(StrEnum):
    """Where one event's delivery to one endpoint stands."""

    PENDING = "pending"  # an attempt is due now or at next_attempt_at
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # every attempt of the schedule failed


# service.db.str_enum caps values at 16 characters; "article.comment_count_changed" has 29.
_EVENT_TYPE = SAEnum(
    EventType,
    native_enum=False,
    create_constraint=False,
    length=40,
    values_callable=lambda members: [m.value for m in members],
)


class Endpoint(Base):
    """A URL of a site's CMS that receives the events it subscribed to."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Event type values, e.g. ["comment.approved", "article.comment_count_changed"].
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(String(500))
    # Signing secrets are encrypted like emails: a database dump must not let anyone forge
    # webhooks. The hint (its last characters) is what lists show.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    secret_hint: Mapped[str] = mapped_column(String(16))
    # After a rotation the old secret also signs until this time, so the CMS can switch over.
    previous_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[DisableReason | None] = mapped_column(str_enum(DisableReason))
    disabled_detail: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Start of the current run of failed attempts; None while the last attempt succeeded.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    """One event in the outbox, written in the transaction of the change that caused it."""

    __tablename__ = "webhook_messages"

    # Sent as webhook-id: the same on every attempt and redelivery, so receivers can deduplicate.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    type: Mapped[EventType] = mapped_column(_EVENT_TYPE)
    # The whole body as sent, fixed when the event happened (a redelivery sends it unchanged).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Indexed for pruning the log by age.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Delivery(Base):
    """One message on its way to one endpoint, with its retry state."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The periodic job's query: pending deliveries by due time.
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        # Ordering: is an earlier delivery of the same sequence still pending?
        Index("ix_webhook_deliveries_sequence", "endpoint_id", "sequence_key", "state", "id"),
        # The delivery log of an endpoint, newest first.
        Index("ix_webhook_deliveries_log", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_messages.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # Deliveries of one endpoint with the same key go out in id order: "comment:12" keeps one
    # comment's events in order, "article:3" an article's counts.
    sequence_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[DeliveryState] = mapped_column(
        str_enum(DeliveryState), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When a task for the due attempt was last queued; the periodic job queues it again if
    # nothing happened for a while (the broker was down, or lost the task).
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A worker making an attempt holds this lease, so two tasks never attempt at once.
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The delivery this one repeats, when an admin asked for a redelivery.
    redelivery_of: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Attempt(Base):
    """One HTTP request of a delivery and what came back: the delivery log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The webhook-timestamp this attempt was signed with (each attempt is signed afresh).
    signed_timestamp: Mapped[int] = mapped_column(BigInteger)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    # The start of the response body (the full 64 KiB read is not kept).
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(500))
    # When the next attempt was scheduled after this one; None when there is none.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
