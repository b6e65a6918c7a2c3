"""Reading an endpoint's delivery log: its deliveries, newest first, with their attempts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
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
