"""Delivering the outbox: claim an attempt, record what came of it, schedule the next one.

An attempt happens outside any database transaction: ``claim_attempt`` takes a short lease on
the delivery and commits, the HTTP request runs, and ``record_attempt`` writes the result. The
lease keeps two tasks for the same delivery (a retry queued twice) from both sending it.
Deliveries of one endpoint that share a sequence key (one comment, one article's count) go out
in order: a delivery waits while an earlier one of its sequence is pending.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from http import HTTPStatus

import orjson
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from service.errors import Conflict
from service.events import EventType
from service.privacy.crypto import Vault
from service.sites.models import Site
from service.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, Message
from service.webhooks.options import WebhookOptions
from service.webhooks.outbox import add_deliveries, new_message, queue_after_commit, site_data
from service.webhooks.schedule import DisableReason, disable_reason, next_attempt_delay
from service.webhooks.services import active_secrets, disable_endpoint
from service.webhooks.transport import DeliveryResult

# Longer than an attempt can take (15 s), so a lease never ends while its request runs.
LEASE = dt.timedelta(seconds=60)
# A task may start a little before its countdown ends by the clock of the database rows.
EARLY = dt.timedelta(seconds=1)
# How much of a response the delivery log keeps.
EXCERPT_CHARS = 2000


@dataclass(frozen=True)
class Dispatch:
    """A delivery task to queue, ``countdown`` seconds from now."""

    delivery_id: int
    countdown: float = 0.0


@dataclass(frozen=True)
class Job:
    """One attempt to make, with everything it needs and nothing the database holds open."""

    delivery_id: int
    attempt_number: int
    url: str
    message_id: str
    body: bytes
    secrets: tuple[str, ...]
    started_at: dt.datetime


def claim_attempt(session: Session, vault: Vault, delivery_id: int, now: dt.datetime) -> Job | None:
    """The attempt due for this delivery, leased to the caller; None if there is none to make."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.state != DeliveryState.PENDING:
        return None
    if delivery.next_attempt_at is None or delivery.next_attempt_at > now + EARLY:
        return None
    endpoint = session.get(Endpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        return None
    if _waits_for_earlier(session, delivery):
        # Not queued any more: the periodic job queues it once it leads its sequence.
        delivery.dispatched_at = None
        return None
    claimed = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery.id,
            Delivery.state == DeliveryState.PENDING,
            # Unchanged since it was read: a task that read it before another task's attempt
            # was recorded must not repeat that attempt.
            Delivery.attempts == delivery.attempts,
            Delivery.next_attempt_at <= now + EARLY,
            or_(Delivery.locked_until.is_(None), Delivery.locked_until < now),
        )
        .values(locked_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    message = session.get_one(Message, delivery.message_id)
    return Job(
        delivery_id=delivery.id,
        attempt_number=delivery.attempts + 1,
        url=endpoint.url,
        message_id=message.id,
        body=orjson.dumps(message.payload),
        secrets=tuple(active_secrets(vault, endpoint, now)),
        started_at=now,
    )


def _waits_for_earlier(session: Session, delivery: Delivery) -> bool:
    earlier = session.scalar(
        select(Delivery.id)
        .where(
            Delivery.endpoint_id == delivery.endpoint_id,
            Delivery.sequence_key == delivery.sequence_key,
            Delivery.state == DeliveryState.PENDING,
            Delivery.id < delivery.id,
        )
        .limit(1)
    )
    return earlier is not None


def record_attempt(
    session: Session,
    job: Job,
    signed_timestamp: int,
    result: DeliveryResult,
    options: WebhookOptions,
    now: dt.datetime,
    rng: random.Random,
) -> list[Dispatch]:
    """Logs an attempt, settles or reschedules the delivery, and says which tasks to queue."""
    delivery = session.get(Delivery, job.delivery_id)
    endpoint = session.get(Endpoint, delivery.endpoint_id) if delivery else None
    if delivery is None or endpoint is None:
        return []  # the endpoint was deleted while the request ran
    attempt = Attempt(
        delivery_id=delivery.id,
        number=job.attempt_number,
        started_at=job.started_at,
        signed_timestamp=signed_timestamp,
        status_code=result.status,
        duration_ms=result.duration_ms,
        response_excerpt=result.response_excerpt[:EXCERPT_CHARS],
        error=result.error,
    )
    session.add(attempt)
    delivery.attempts = job.attempt_number
    delivery.locked_until = None
    if result.succeeded:
        endpoint.failing_since = None
        _finish(delivery, DeliveryState.DELIVERED, now)
        return _next_in_sequence(session, delivery, endpoint, options, now)
    endpoint.failing_since = endpoint.failing_since or job.started_at
    reason = disable_reason(result.status, endpoint.failing_since, now, options.policy)
    if reason is not None:
        disable_endpoint(endpoint, reason, _disable_detail(reason, endpoint, result), now)
    return _schedule_retry(session, delivery, endpoint, attempt, result, options, now, rng)


def _schedule_retry(
    session: Session,
    delivery: Delivery,
    endpoint: Endpoint,
    attempt: Attempt,
    result: DeliveryResult,
    options: WebhookOptions,
    now: dt.datetime,
    rng: random.Random,
) -> list[Dispatch]:
    """The next attempt after a failed one, or the end of the delivery once none is left."""
    delay = next_attempt_delay(
        delivery.attempts + 1,
        rng,
        options.policy,
        status=result.status,
        retry_after=result.retry_after,
    )
    if delay is None:
        _finish(delivery, DeliveryState.FAILED, now)
        return _next_in_sequence(session, delivery, endpoint, options, now)
    delivery.next_attempt_at = attempt.next_attempt_at = now + delay
    # Only short waits are left to the broker as countdowns; longer ones are picked up by the
    # periodic job near their time, so no task outlives the broker's visibility timeout.
    if endpoint.enabled and delay.total_seconds() <= options.dispatch_interval:
        delivery.dispatched_at = now
        return [Dispatch(delivery.id, delay.total_seconds())]
    delivery.dispatched_at = None
    return []


def _finish(delivery: Delivery, state: DeliveryState, now: dt.datetime) -> None:
    delivery.state = state
    delivery.next_attempt_at = None
    delivery.dispatched_at = None
    delivery.finished_at = now


def _disable_detail(reason: DisableReason, endpoint: Endpoint, result: DeliveryResult) -> str:
    """Why the endpoint was switched off, in words its site's admins can act on."""
    last = f"HTTP {result.status}" if result.status is not None else (result.error or "no answer")
    if reason == DisableReason.GONE:
        return f"The endpoint answered {HTTPStatus.GONE.value} Gone: it asked for no more webhooks."
    since = endpoint.failing_since.isoformat() if endpoint.failing_since else "?"
    return f"Every attempt has failed since {since}; the last one: {last}."


def _next_in_sequence(
    session: Session,
    delivery: Delivery,
    endpoint: Endpoint,
    options: WebhookOptions,
    now: dt.datetime,
) -> list[Dispatch]:
    """The delivery that waited for this one, queued at once if it is due soon."""
    following = session.scalar(
        select(Delivery)
        .where(
            Delivery.endpoint_id == delivery.endpoint_id,
            Delivery.sequence_key == delivery.sequence_key,
            Delivery.state == DeliveryState.PENDING,
            Delivery.id > delivery.id,
        )
        .order_by(Delivery.id)
        .limit(1)
    )
    if following is None or following.next_attempt_at is None or not endpoint.enabled:
        return []
    wait = max(0.0, (following.next_attempt_at - now).total_seconds())
    if wait > options.dispatch_interval:
        return []
    following.dispatched_at = now
    return [Dispatch(following.id, wait)]


def due_dispatches(
    session: Session, options: WebhookOptions, now: dt.datetime, limit: int = 500
) -> list[Dispatch]:
    """Deliveries due before the next run of the periodic job that no live task is queued for."""
    horizon = now + dt.timedelta(seconds=options.dispatch_interval)
    stale = now - options.redispatch_after
    earlier = aliased(Delivery)
    rows = session.scalars(
        select(Delivery)
        .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
        .where(
            Delivery.state == DeliveryState.PENDING,
            Delivery.next_attempt_at <= horizon,
            Endpoint.enabled.is_(True),
            or_(Delivery.dispatched_at.is_(None), Delivery.dispatched_at <= stale),
            or_(Delivery.locked_until.is_(None), Delivery.locked_until < now),
            ~exists().where(
                earlier.endpoint_id == Delivery.endpoint_id,
                earlier.sequence_key == Delivery.sequence_key,
                earlier.state == DeliveryState.PENDING,
                earlier.id < Delivery.id,
            ),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    dispatches = []
    for delivery in rows:
        assert delivery.next_attempt_at is not None
        delivery.dispatched_at = now
        wait = max(0.0, (delivery.next_attempt_at - now).total_seconds())
        dispatches.append(Dispatch(delivery.id, wait))
    return dispatches


def redeliver(
    session: Session, endpoint: Endpoint, delivery: Delivery, now: dt.datetime
) -> Delivery:
    """The message again (same webhook-id): a pending delivery is tried now, a finished one anew."""
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled; enable it before redelivering.")
    if delivery.state == DeliveryState.PENDING:
        # A second delivery would only queue behind this one (same sequence): bring it forward.
        delivery.next_attempt_at = delivery.dispatched_at = now
        queue_after_commit(session, [delivery.id])
        return delivery
    message = session.get_one(Message, delivery.message_id)
    [again] = add_deliveries(
        session, message, [endpoint], delivery.sequence_key, now, redelivery_of=delivery.id
    )
    return again


def send_ping(session: Session, site: Site, endpoint: Endpoint, now: dt.datetime) -> Delivery:
    """A ``ping`` event to one endpoint, to test that it receives and verifies webhooks."""
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled; enable it before pinging it.")
    data = {"site": site_data(site), "endpoint": {"id": endpoint.id, "url": endpoint.url}}
    message = new_message(site, EventType.PING, data, now)
    [delivery] = add_deliveries(session, message, [endpoint], f"ping:{message.id}", now)
    return delivery
