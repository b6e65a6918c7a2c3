"""Validating a submission at the edge into a frozen ``Submission``, with an error per field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from service.db import MAX_ID
from service.errors import FieldError, Invalid

NAME_MAX = 100
BODY_MAX = 10_000
WEBSITE_MAX = 500
EMAIL_MAX = 254
# Whole numbers as a form sends them; at most 30 digits, so int() stays cheap.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,30}")
# Something like an address in a name ("ann@example.com"); "@ann" or "Ann @ home" is a name.
_EMAIL_LIKE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


@dataclass(frozen=True)
class Submission:
    """A comment as a reader submitted it, validated."""

    name: str
    email: str
    body: str
    website: str | None = None
    parent_id: int | None = None
    article_url: str | None = None
    article_title: str | None = None
    honeypot_filled: bool = False
    elapsed_ms: int | None = None


def parse_submission(data: Mapping[str, Any], check_deliverability: bool = False) -> Submission:
    """The submission in ``data``, or Invalid listing every field that is wrong.

    Fields the reader may not set (status, approved, site_id, ...) are ignored, not refused:
    old forms and bots send all sorts, and none of it may change what we store.
    """
    errors: list[FieldError] = []

    def collect(field: str, check: Any) -> Any:
        try:
            return check(data.get(field))
        except _FieldProblem as problem:
            errors.append(FieldError(field, str(problem)))
            return None

    name = collect("name", _name)
    email = collect("email", lambda v: _email(v, check_deliverability))
    website = collect("website", _website)
    body = collect("body", _body)
    parent_id = collect("parent_id", _parent_id)
    article_url = collect("article_url", _optional_url)
    article_title = collect("article_title", _article_title)
    elapsed_ms = collect("elapsed_ms", _elapsed_ms)
    honeypot = collect("honeypot", _text)
    if errors:
        raise Invalid(errors, "Some fields need your attention.")
    return Submission(
        name=name,
        email=email,
        body=body,
        website=website,
        parent_id=parent_id,
        article_url=article_url,
        article_title=article_title,
        honeypot_filled=bool(honeypot),
        elapsed_ms=elapsed_ms,
    )


class _FieldProblem(ValueError):
    """What is wrong with one field's value."""


def _text(value: Any) -> str:
    # Numbers too are refused: 2**70 sent as a name was stored as "1.1805916207174113e+21".
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _FieldProblem("Must be text.")
    return value.strip()


def _whole_number(value: Any) -> int:
    """An int from JSON, or ASCII digits from a form; no fraction, boolean or other digits."""
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"not a whole number: {value!r}")


# Characters that make a name read as another: the bidirectional embeddings, overrides and
# isolates ("Ann\u202eoc.liamg" shows as "Anngmail.co"), direction marks, and invisible spaces.
# Zero-width joiners stay: Persian and Indic names and emoji sequences need them.
_DISGUISING = frozenset(
    "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def _name(value: Any) -> str:
    name = _text(value)
    if not name:
        raise _FieldProblem("Please enter your name.")
    if len(name) > NAME_MAX:
        raise _FieldProblem(f"Names are at most {NAME_MAX} characters.")
    if any(unicodedata.category(ch) == "Cc" or ch in _DISGUISING for ch in name):
        raise _FieldProblem("Names cannot contain control or invisible formatting characters.")
    if _EMAIL_LIKE.search(unicodedata.normalize("NFKC", name)):  # published; emails never are
        raise _FieldProblem("Please enter your name, not an email address: names are published.")
    return name


def _email(value: Any, check_deliverability: bool) -> str:
    email = _text(value)
    if not email:
        raise _FieldProblem("Please enter your email address. It will not be published.")
    if len(email) > EMAIL_MAX:
        raise _FieldProblem("That email address is too long.")
    try:
        result = validate_email(email, check_deliverability=check_deliverability)
    except EmailNotValidError as exc:
        raise _FieldProblem(f"Enter a valid email address. {exc}") from exc
    return result.normalized


def _website(value: Any) -> str | None:
    website = _text(value)
    if not website:
        return None
    if len(website) > WEBSITE_MAX:
        raise _FieldProblem(f"Websites are at most {WEBSITE_MAX} characters.")
    return _http_url(website, "Enter a website address starting with http:// or https://.")


def _optional_url(value: Any) -> str | None:
    url = _text(value)
    if not url:
        return None
    if len(url) > 2000:
        raise _FieldProblem("URLs are at most 2000 characters.")
    return _http_url(url, "Must be an http:// or https:// URL.")


def _http_url(url: str, message: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _FieldProblem(message) from exc
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise _FieldProblem(message)
    if any(ch.isspace() for ch in url):
        raise _FieldProblem(message)
    return url


def _body(value: Any) -> str:
    body = _text(value)
    if not body:
        raise _FieldProblem("Please write a comment.")
    if len(body) > BODY_MAX:
        raise _FieldProblem(f"Comments are at most {BODY_MAX:,} characters ({len(body):,} now).")
    return body.replace("\r\n", "\n")


def _parent_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        parent_id = _whole_number(value)
    except ValueError as exc:
        raise _FieldProblem("Must be the id of the comment you reply to.") from exc
    if not 0 < parent_id <= MAX_ID:
        raise _FieldProblem("Must be the id of the comment you reply to.")
    return parent_id


def _article_title(value: Any) -> str | None:
    title = _text(value)
    if len(title) > 500:
        raise _FieldProblem("Titles are at most 500 characters.")
    return title or None


def _elapsed_ms(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return max(0, min(_whole_number(value), 2**31 - 1))
    except ValueError as exc:
        raise _FieldProblem("Must be a whole number of milliseconds.") from exc
