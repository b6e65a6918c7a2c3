"""An endpoint's delivery log: its deliveries, newest first, with their attempts; and pruning."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from service.errors import NotFound
from service.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, Message


@dataclass(frozen=True)
class LoggedDelivery:
    """A delivery with its message and every attempt made so far, oldest first."""

    delivery: Delivery
    message: Message
    attempts: list[Attempt]


@dataclass(frozen=True)
class LogPage:
    """One page of the log and the id to continue before, if there is more."""

    entries: list[LoggedDelivery]
    next_before: int | None


def delivery_log(
    session: Session,
    endpoint: Endpoint,
    limit: int,
    before: int | None = None,
    state: DeliveryState | None = None,
) -> LogPage:
    """Deliveries of an endpoint, newest first, ``limit`` at a time."""
    query = select(Delivery, Message).join(Message, Message.id == Delivery.message_id)
    query = query.where(Delivery.endpoint_id == endpoint.id)
    if before is not None:
        query = query.where(Delivery.id < before)
    if state is not None:
        query = query.where(Delivery.state == state)
    rows = list(session.execute(query.order_by(Delivery.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    attempts = _attempts_of(session, [delivery.id for delivery, _ in rows])
    entries = [LoggedDelivery(d, m, attempts.get(d.id, [])) for d, m in rows]
    return LogPage(entries, rows[-1][0].id if more and rows else None)


def logged_delivery(session: Session, endpoint: Endpoint, delivery_id: int) -> LoggedDelivery:
    """One delivery of this endpoint with its attempts, or NotFound."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound("There is no such delivery for this endpoint.")
    message = session.get_one(Message, delivery.message_id)
    return LoggedDelivery(
        delivery, message, _attempts_of(session, [delivery.id]).get(delivery.id, [])
    )


def _attempts_of(session: Session, delivery_ids: list[int]) -> dict[int, list[Attempt]]:
    if not delivery_ids:
        return {}
    found: dict[int, list[Attempt]] = defaultdict(list)
    query = (
        select(Attempt)
        .where(Attempt.delivery_id.in_(delivery_ids))
        .order_by(Attempt.delivery_id, Attempt.number)
    )
    for attempt in session.scalars(query):
        found[attempt.delivery_id].append(attempt)
    return found


def prune_log(session: Session, before: dt.datetime, limit: int = 500) -> int:
    """Deletes events from before ``before`` that no delivery waits for, with their log."""
    waiting = select(Delivery.id).where(
        Delivery.message_id == Message.id, Delivery.state == DeliveryState.PENDING
    )
    query = select(Message.id).where(Message.created_at < before, ~exists(waiting)).limit(limit)
    ids = list(session.scalars(query))
    if ids:
        deliveries = select(Delivery.id).where(Delivery.message_id.in_(ids))
        session.execute(delete(Attempt).where(Attempt.delivery_id.in_(deliveries)))
        session.execute(delete(Delivery).where(Delivery.message_id.in_(ids)))
        session.execute(delete(Message).where(Message.id.in_(ids)))
    return len(ids)
