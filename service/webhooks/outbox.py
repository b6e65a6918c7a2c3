"""The outbox: each event is written beside the change that caused it, in the same transaction.

``record_event`` listens to service.events. It stores the event once (a Message, whose id is
the ``webhook-id``) and a pending Delivery for every enabled endpoint of the site that
subscribed to it. If the transaction rolls back, so does the event; if it commits, the event is
in the database whatever happens to the broker, and a periodic job delivers what no task did.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.comments.models import Comment
from service.comments.presenters import public_comment
from service.db import utcnow
from service.events import EventType
from service.sites.models import Article, Site
from service.webhooks.models import Delivery, Endpoint, Message

# Delivery ids written in the current transaction, queued by the app once it commits.
AFTER_COMMIT_KEY = "vetted.webhooks.new_deliveries"


def record_event(session: Session, event: EventType, subject: dict[str, Any]) -> None:
    """Writes the event and one delivery per subscribed endpoint, in the caller's transaction."""
    comment: Comment | None = subject.get("comment")
    article: Article | None = subject.get("article")
    if article is None and comment is not None:
        article = session.get(Article, comment.article_id)
    if article is None:
        return
    endpoints = [
        endpoint
        for endpoint in session.scalars(
            select(Endpoint)
            .where(Endpoint.site_id == article.site_id, Endpoint.enabled.is_(True))
            .order_by(Endpoint.id)
        )
        if event.value in endpoint.events
    ]
    if not endpoints:
        return
    site = session.get_one(Site, article.site_id)
    now = utcnow()
    message = new_message(site, event, _event_data(site, article, comment), now)
    sequence = f"comment:{comment.id}" if comment is not None else f"article:{article.id}"
    add_deliveries(session, message, endpoints, sequence, now)


def new_message(site: Site, event: EventType, data: dict[str, Any], now: dt.datetime) -> Message:
    """An outbox row with its payload: the Standard Webhooks shape of type, timestamp and data."""
    message_id = "msg_" + secrets.token_urlsafe(18)
    payload = {"id": message_id, "type": event.value, "timestamp": iso(now), "data": data}
    return Message(id=message_id, site_id=site.id, type=event, payload=payload, created_at=now)


def add_deliveries(
    session: Session,
    message: Message,
    endpoints: Iterable[Endpoint],
    sequence_key: str,
    now: dt.datetime,
    redelivery_of: int | None = None,
) -> list[Delivery]:
    """Pending deliveries of ``message``, due now and queued once the transaction commits."""
    # Flushed first: with no ORM relationship, the message row must exist before its deliveries.
    session.add(message)
    session.flush()
    deliveries = [
        Delivery(
            message_id=message.id,
            endpoint_id=endpoint.id,
            sequence_key=sequence_key,
            next_attempt_at=now,
            # Counted as queued now: the commit hook queues it, and if the broker is down the
            # periodic job queues it again once WEBHOOK_REDISPATCH_AFTER has passed.
            dispatched_at=now,
            redelivery_of=redelivery_of,
            created_at=now,
        )
        for endpoint in endpoints
    ]
    session.add_all(deliveries)
    session.flush()
    queue_after_commit(session, [d.id for d in deliveries])
    return deliveries


def queue_after_commit(session: Session, delivery_ids: list[int]) -> None:
    """Has the app queue these deliveries' tasks once the transaction commits."""
    session.info.setdefault(AFTER_COMMIT_KEY, []).extend(delivery_ids)


def take_committed_deliveries(session: Session) -> list[int]:
    """The delivery ids written by the transaction that just committed (each returned once)."""
    ids: list[int] = session.info.pop(AFTER_COMMIT_KEY, [])
    return ids


def forget_deliveries(session: Session) -> None:
    """Drops the ids of a transaction that rolled back."""
    session.info.pop(AFTER_COMMIT_KEY, None)


def rewrite_stored_comments(session: Session, site_id: int, comments: list[Comment]) -> int:
    """Replaces each stored payload's copy of these comments with their public view as it is now.

    A data subject's erasure must reach the messages already written: those still waiting to
    be delivered and those kept in the delivery log. A message about a comment is never older
    than the comment, which bounds the rows read. Returns how many messages changed.
    """
    if not comments:
        return 0
    current = {comment.id: comment for comment in comments}
    oldest = min(comment.created_at for comment in comments)
    changed = 0
    for message in session.scalars(
        select(Message).where(Message.site_id == site_id, Message.created_at >= oldest)
    ):
        stored = message.payload.get("data", {}).get("comment")
        if not stored or stored.get("id") not in current:
            continue
        # The event's status and verdict stay: they say what happened, not who wrote it.
        now = {**stored, **public_comment(current[stored["id"]])}
        message.payload = {**message.payload, "data": {**message.payload["data"], "comment": now}}
        changed += 1
    return changed


def site_data(site: Site) -> dict[str, Any]:
    """The site as payloads show it."""
    return {"slug": site.slug, "name": site.name}


def _event_data(site: Site, article: Article, comment: Comment | None) -> dict[str, Any]:
    """What a CMS needs about the event; the comment as the public API shows it, never private."""
    data: dict[str, Any] = {
        "site": site_data(site),
        "article": {
            "id": article.id,
            "key": article.key,
            "url": article.url,
            "title": article.title,
            # Approved comments only, as the public thread counts them.
            "comment_count": article.approved_count,
        },
    }
    if comment is not None:
        # public_comment never holds the email, the address or their digests.
        data["comment"] = {
            **public_comment(comment),
            "status": comment.status.value,
            "verdict": comment.verdict.value if comment.verdict else None,
        }
    return data


def iso(moment: dt.datetime) -> str:
    """An ISO 8601 UTC time with a Z, as the public API writes times."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
