"""The error family of Vetted and the one handler that turns every error into problem details.

Every error a client can see, Werkzeug's 404/405/413/415/429 included, leaves as RFC 9457
``application/problem+json`` with the same members, so clients parse one shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

PROBLEM_BASE = "https://vetted.dev/problems/"


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field."""

    field: str
    detail: str


class VettedError(Exception):
    """Base of the errors the domain raises; each maps to one HTTP status."""

    status = 400
    kind = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}

    def extra(self) -> dict[str, Any]:
        """Members added to the problem document beyond the standard ones."""
        return {}


class Invalid(VettedError):
    """Input that fails validation, with one message per field."""

    status = 422
    kind = "validation"
    title = "Your input could not be accepted"

    def __init__(self, errors: list[FieldError] | FieldError, detail: str = "") -> None:
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        summary = "; ".join(f"{e.field}: {e.detail}" for e in self.errors)
        super().__init__(detail or summary)

    @classmethod
    def field(cls, name: str, detail: str) -> Invalid:
        """An error about one field."""
        return cls([FieldError(name, detail)])

    def extra(self) -> dict[str, Any]:
        return {"errors": [{"field": e.field, "detail": e.detail} for e in self.errors]}


class NotFound(VettedError):
    """The thing asked for does not exist, or the caller may not know that it does."""

    status = 404
    kind = "not-found"
    title = "Not found"


class Forbidden(VettedError):
    """The caller is known but may not do this (comments closed, wrong role)."""

    status = 403
    kind = "forbidden"
    title = "Forbidden"


class CommentsClosed(Forbidden):
    """The article takes no new comments: a widget shows its closed note, not an error."""

    kind = "comments-closed"
    title = "Comments are closed"


class ForeignOrigin(Forbidden):
    """A page on an origin the site does not list posted: the embedding needs fixing."""

    kind = "origin-not-allowed"
    title = "Origin not allowed"


class Unauthorized(VettedError):
    """No valid credentials were given."""

    status = 401
    kind = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="vetted"'})


class Conflict(VettedError):
    """The change conflicts with the current state."""

    status = 409
    kind = "conflict"
    title = "Conflict"

    def __init__(self, detail: str = "", current: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.current = current

    def extra(self) -> dict[str, Any]:
        return {"current": self.current} if self.current is not None else {}


class PreconditionFailed(Conflict):
    """An ``If-Match`` precondition did not hold: someone else changed the thing first."""

    status = 412
    kind = "precondition-failed"
    title = "Precondition failed"


class UnsupportedMediaType(VettedError):
    """The request body is in a format the endpoint does not read."""

    status = 415
    kind = "unsupported-media-type"
    title = "Unsupported media type"


def problem(
    status: int, kind: str, title: str, detail: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A problem-details document."""
    doc: dict[str, Any] = {
        "type": PROBLEM_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
    }
    doc.update(extra or {})
    doc.setdefault("errors", [])
    return doc


class FieldErrors:
    """Every bad field of one request, gathered before refusing it: the client fixes its request
    in one round, not one field per round.

        errors = FieldErrors()
        role = errors.check(lambda: parse_role(data))  # None when it raised Invalid
        errors.raise_if_any()
    """

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def check(self, parse: Callable[[], T]) -> T | None:
        """parse()'s result, or None with its Invalid's errors kept."""
        try:
            return parse()
        except Invalid as exc:
            self.errors.extend(exc.errors)
            return None

    def add(self, field: str, detail: str) -> None:
        """Keeps one field's error."""
        self.errors.append(FieldError(field, detail))

    def raise_if_any(self, detail: str = "") -> None:
        """Invalid with every error kept, if any."""
        if self.errors:
            raise Invalid(self.errors, detail)
