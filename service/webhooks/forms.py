"""Reading webhook requests into frozen values, with one error per bad field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.errors import FieldError, Invalid
from service.events import EventType

# Every event an endpoint may subscribe to; ping is sent on demand to any endpoint.
SUBSCRIBABLE: tuple[EventType, ...] = tuple(e for e in EventType if e != EventType.PING)
MAX_URL = 2000
MAX_DESCRIPTION = 500
# A day at most: longer, and a leaked secret stays valid long after it was replaced.
MAX_GRACE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class NewEndpoint:
    """A registration: where to send which events."""

    url: str
    events: tuple[EventType, ...]
    description: str | None


@dataclass(frozen=True)
class EndpointChanges:
    """A partial update; None means "leave as it is" (``description_given`` tells a clear)."""

    url: str | None = None
    events: tuple[EventType, ...] | None = None
    description: str | None = None
    description_given: bool = False
    enabled: bool | None = None


def parse_new_endpoint(fields: Mapping[str, Any]) -> NewEndpoint:
    """A registration from a request body."""
    errors = _unknown_fields(fields, {"url", "events", "description"})
    url = _url(fields.get("url"), errors)
    events = _events(fields.get("events"), errors)
    description = _description(fields.get("description"), errors)
    if errors:
        raise Invalid(errors)
    assert url is not None and events is not None
    return NewEndpoint(url, events, description)


def parse_endpoint_changes(fields: Mapping[str, Any]) -> EndpointChanges:
    """A partial update from a request body; at least one field must be given."""
    errors = _unknown_fields(fields, {"url", "events", "description", "enabled"})
    url = _url(fields["url"], errors) if "url" in fields else None
    events = _events(fields["events"], errors) if "events" in fields else None
    description = _description(fields.get("description"), errors)
    enabled = fields.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        errors.append(FieldError("enabled", "Use true or false."))
    if not fields:
        errors.append(FieldError("body", "Give url, events, description or enabled."))
    if errors:
        raise Invalid(errors)
    return EndpointChanges(url, events, description, "description" in fields, enabled)


def parse_grace_seconds(fields: Mapping[str, Any], default: float) -> float:
    """How long the old secret keeps signing after a rotation (``grace_seconds``)."""
    errors = _unknown_fields(fields, {"grace_seconds"})
    value = fields.get("grace_seconds", default)
    valid = isinstance(value, int | float) and not isinstance(value, bool)
    if not valid or not 0 <= value <= MAX_GRACE_SECONDS:
        errors.append(
            FieldError("grace_seconds", f"Use a number of seconds from 0 to {MAX_GRACE_SECONDS}.")
        )
    if errors:
        raise Invalid(errors)
    return float(value)


def _unknown_fields(fields: Mapping[str, Any], known: set[str]) -> list[FieldError]:
    return [FieldError(name, "Unknown field.") for name in sorted(set(fields) - known)]


def _url(value: Any, errors: list[FieldError]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError("url", "Give the endpoint's URL."))
        return None
    if len(value) > MAX_URL:
        errors.append(FieldError("url", f"Use at most {MAX_URL} characters."))
        return None
    return value.strip()


def _events(value: Any, errors: list[FieldError]) -> tuple[EventType, ...] | None:
    names = ", ".join(e.value for e in SUBSCRIBABLE)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        errors.append(FieldError("events", f"Give a list of one or more of: {names}."))
        return None
    unknown = sorted(set(value) - {e.value for e in SUBSCRIBABLE})
    if unknown:
        errors.append(FieldError("events", f"Unknown events {', '.join(unknown)}; use {names}."))
        return None
    return tuple(EventType(v) for v in dict.fromkeys(value))


def _description(value: Any, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"Use text of at most {MAX_DESCRIPTION} chars."))
        return None
    return value.strip() or None
