"""How endpoints and the delivery log look to a site's admins: never a whole secret."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.webhooks.log import LoggedDelivery
from service.webhooks.models import Attempt, Endpoint
from service.webhooks.outbox import iso


def _time(moment: dt.datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def endpoint_view(endpoint: Endpoint, site_slug: str) -> dict[str, Any]:
    """An endpoint as the API and the command line show it."""
    return {
        "id": endpoint.id,
        "site": site_slug,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "secret": endpoint.secret_hint,
        "previous_secret_expires_at": _time(endpoint.previous_secret_expires_at),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason.value if endpoint.disabled_reason else None,
        "disabled_detail": endpoint.disabled_detail,
        "disabled_at": _time(endpoint.disabled_at),
        "failing_since": _time(endpoint.failing_since),
        "created_at": _time(endpoint.created_at),
        "updated_at": _time(endpoint.updated_at),
    }


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    """One attempt of the delivery log."""
    return {
        "number": attempt.number,
        "at": _time(attempt.started_at),
        "webhook_timestamp": attempt.signed_timestamp,
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "response": attempt.response_excerpt,
        "error": attempt.error,
        "next_attempt_at": _time(attempt.next_attempt_at),
    }


def delivery_view(entry: LoggedDelivery) -> dict[str, Any]:
    """A delivery with its attempts, oldest first."""
    delivery, message = entry.delivery, entry.message
    return {
        "id": delivery.id,
        "message_id": message.id,
        "event": message.type.value,
        "state": delivery.state.value,
        "attempts": [attempt_view(a) for a in entry.attempts],
        "next_attempt_at": _time(delivery.next_attempt_at),
        "created_at": _time(delivery.created_at),
        "finished_at": _time(delivery.finished_at),
        "redelivery_of": delivery.redelivery_of,
        "payload": message.payload,
    }
