"""Validating site settings sent by an admin: every field checked, one error per field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from service.errors import FieldError, Invalid
from service.moderation.blocks import DOMAIN
from service.sites.models import ModerationMode
from service.sites.services import SETTINGS

LIST_MAX = 1000
WORD_MAX = 100


@dataclass(frozen=True)
class SettingsChange:
    """The changes asked for: the moderation mode and settings by name."""

    moderation: ModerationMode | None
    values: dict[str, Any]


class _Bad(ValueError):
    """What is wrong with one value."""


def parse_settings(data: Mapping[str, Any]) -> SettingsChange:
    """The changes in ``data``, or Invalid with an error for every field that is wrong."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    moderation = None
    for name, value in data.items():
        try:
            if name == "moderation":
                moderation = _mode(value)
            elif name in VALIDATORS and name in SETTINGS:
                values[name] = VALIDATORS[name](value)
            elif name == "blocked_emails":
                raise _Bad("Block emails with POST /blocks (kind email): they are stored hashed.")
            else:
                raise _Bad("There is no such setting.")
        except _Bad as problem:
            errors.append(FieldError(name, str(problem)))
    if errors:
        raise Invalid(errors, "Some settings need your attention.")
    return SettingsChange(moderation, values)


def _mode(value: Any) -> ModerationMode:
    try:
        return ModerationMode(value)
    except ValueError as exc:
        raise _Bad("Use pre, post or trusted.") from exc


def _int_between(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Bad(f"Use a whole number from {low} to {high}.")
        return value

    return check


def _optional_days(value: Any) -> int | None:
    return None if value is None else _int_between(1, 36500)(value)


def _threshold(value: Any) -> float | None:
    # None: the spam model's own threshold.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _Bad("Use a number from 0 to 1, or null for the spam model's own.")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("Use true or false.")
    return value


def _words(value: Any) -> list[str]:
    items = _list_of_text(value)
    for word in items:
        if len(word) > WORD_MAX:
            raise _Bad(f"Words and phrases are at most {WORD_MAX} characters.")
    return items


def _domains(value: Any) -> list[str]:
    items = [d.lower().lstrip("@") for d in _list_of_text(value)]
    for domain in items:
        if not DOMAIN.match(domain):
            raise _Bad(f"{domain!r} is not a domain name.")
    return items


def _origins(value: Any) -> list[str]:
    items = _list_of_text(value)
    for origin in items:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise _Bad(f"{origin!r} is not an origin such as https://news.example.")
    return [o.rstrip("/") for o in items]


def _list_of_text(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Bad("Use a list of strings.")
    if len(value) > LIST_MAX:
        raise _Bad(f"At most {LIST_MAX} entries.")
    items = [v.strip() for v in value]
    if any(not v for v in items):
        raise _Bad("Entries cannot be empty.")
    return items


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise _Bad(f"Use {' or '.join(options)}.")
        return str(value)

    return check


VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "max_links": _int_between(0, 100),
    "allowed_origins": _origins,
    "thread_depth": _int_between(1, 20),
    "close_after_days": _optional_days,
    "blocked_words": _words,
    "suspect_words": _words,
    "blocked_domains": _domains,
    "spam_threshold": _threshold,
    "unsure_threshold": _threshold,
    "spam_classifier": _flag,
    "block_action": _choice("hold", "reject"),
    "erase_mode": _choice("delete", "anonymise"),
}
