"""Parsing moderators' requests at the edge into frozen values, with an error per field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeGuard

from email_validator import EmailNotValidError, validate_email

from service.comments.forms import BODY_MAX
from service.comments.models import Status, Verdict
from service.comments.threads import Cursor, Sort
from service.db import MAX_ID
from service.errors import FieldError, FieldErrors, Invalid
from service.moderation.blocks import BlockSpec
from service.moderation.dsr import EraseMode
from service.moderation.models import Action, BlockKind, Role
from service.moderation.services import DECISIONS, BulkItem
from service.privacy.addresses import parse_address

REASON_MAX = 1000
LABEL_MAX = 200


@dataclass(frozen=True)
class QueueArgs:
    """The queue's query string, parsed; email and address still in the clear."""

    site: str | None
    status: Status | None
    article: str | None
    verdict: Verdict | None
    author: str | None
    ip: str | None
    text: str | None
    created_after: dt.datetime | None
    created_before: dt.datetime | None
    sort: Sort
    limit: int
    cursor: Cursor | None
    reveal: bool


@dataclass(frozen=True)
class CommentPatch:
    """Changes to one comment: a new body, featured or not, and why."""

    body: str | None
    featured: bool | None
    reason: str | None


@dataclass(frozen=True)
class TokenRequest:
    """A token an admin asks for."""

    sites: list[str]
    role: Role
    label: str | None
    expires_at: dt.datetime | None


def parse_queue_args(args: Mapping[str, str], default_limit: int, max_limit: int) -> QueueArgs:
    """The queue's filters, sort and page, or Invalid naming each bad parameter."""
    errors: list[FieldError] = []

    def take(name: str, parse: Any) -> Any:
        raw = args.get(name)
        if raw in (None, ""):
            return None
        try:
            return parse(raw)
        except (ValueError, Invalid) as exc:
            errors.append(FieldError(name, _message(exc)))
            return None

    result = QueueArgs(
        site=args.get("site") or None,
        status=take("status", lambda v: _enum(Status, v)),
        article=args.get("article") or None,
        verdict=take("verdict", lambda v: _enum(Verdict, v)),
        author=take("author", _email),
        ip=take("ip", _address),
        text=(args.get("q") or "").strip() or None,
        created_after=take("created_after", timestamp),
        created_before=take("created_before", timestamp),
        sort=take("sort", lambda v: _enum(Sort, v)) or Sort.OLDEST,
        limit=take("limit", lambda v: _limit(v, max_limit)) or default_limit,
        cursor=take("cursor", Cursor.decode),
        reveal=take("reveal", _flag) or False,
    )
    if errors:
        raise Invalid(errors, "Some parameters need your attention.")
    return result


def _message(exc: Exception) -> str:
    if isinstance(exc, Invalid):
        return exc.errors[0].detail
    return str(exc)


def _enum(enum: Any, value: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise ValueError(f"Use one of: {', '.join(m.value for m in enum)}.") from None


def _limit(value: str, most: int) -> int:
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise ValueError(f"Use a whole number from 1 to {most}.")
    return int(value)


def _flag(value: str) -> bool:
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ValueError("Use true or false.")


def query_flag(args: Mapping[str, str], name: str) -> bool:
    """A true/false query parameter (absent: false), or Invalid."""
    raw = args.get(name)
    if not raw:
        return False
    try:
        return _flag(raw)
    except ValueError as exc:
        raise Invalid.field(name, str(exc)) from exc


def _email(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("Enter an email address.")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"Enter a valid email address. {exc}") from exc


def _address(value: str) -> str:
    address = parse_address(value)
    if address is None:
        raise ValueError("Enter an IP address.")
    return str(address)


def timestamp(value: Any) -> dt.datetime:
    """An ISO 8601 time; one without a zone is taken as UTC."""
    if not isinstance(value, str):
        raise ValueError("Use an ISO 8601 time such as 2026-05-28T14:00:00Z.")
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("Use an ISO 8601 time such as 2026-05-28T14:00:00Z.") from None
    try:
        # In UTC, as stored: 0001-01-01T00:00+14:00 lies before year 1 (an OverflowError, a 500).
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("Use a time between the years 1 and 9999 in UTC.") from None


def parse_decision(data: Mapping[str, Any]) -> tuple[Action, str | None]:
    """A decision and its optional reason."""
    action = data.get("action")
    if not _one_of(action, DECISIONS):
        choices = ", ".join(a.value for a in DECISIONS)
        raise Invalid.field("action", f"Use one of: {choices}.")
    return Action(action), _reason(data.get("reason"))


def parse_bulk(data: Mapping[str, Any], most: int) -> tuple[Action, list[BulkItem], str | None]:
    """A bulk decision: the action, the comments (ids, or ids with versions) and a reason."""
    action, reason = parse_decision(data)
    raw = data.get("ids")
    if not isinstance(raw, list) or not raw:
        raise Invalid.field("ids", "Send a list of comment ids (or {id, version} objects).")
    items: dict[int, BulkItem] = {}
    for index, entry in enumerate(raw):  # at most some thousands: the body is 64 KiB at most
        item = _bulk_item(entry)
        if item is None:
            raise Invalid.field(f"ids[{index}]", "Use a comment id or {id, version}.")
        items.setdefault(item.id, item)
    if len(items) > most:  # repeated ids count once
        raise Invalid.field("ids", f"At most {most} comments at once ({len(items)} sent).")
    return action, list(items.values()), reason


def _bulk_item(entry: Any) -> BulkItem | None:
    if isinstance(entry, dict):
        version = entry.get("version")
        if version is not None and not _positive(version):
            return None
        return BulkItem(entry["id"], version) if _row_id(entry.get("id")) else None
    return BulkItem(entry) if _row_id(entry) else None


def _one_of(value: Any, choices: Iterable[StrEnum]) -> TypeGuard[str]:
    # A JSON list or object is unhashable: testing it against a set raised TypeError (a 500).
    return isinstance(value, str) and value in {c.value for c in choices}


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _row_id(value: Any) -> bool:
    return _positive(value) and value <= MAX_ID


def _reason(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid.field("reason", "Must be text.")
    if len(value) > REASON_MAX:
        raise Invalid.field("reason", f"Use text of at most {REASON_MAX} characters.")
    return value.strip() or None


def parse_patch(data: Mapping[str, Any]) -> CommentPatch:
    """A new body and/or featured flag for a comment."""
    errors = FieldErrors()
    for name in sorted(set(data) - {"body", "featured", "reason"}):
        errors.add(name, "Only body, featured and reason can be changed.")
    body = errors.check(lambda: _new_body(data.get("body")))
    featured = data.get("featured")
    if featured is not None and not isinstance(featured, bool):
        errors.add("featured", "Use true or false.")
    reason = errors.check(lambda: _reason(data.get("reason")))
    if not errors.errors and body is None and featured is None:
        errors.add("body", "Send a new body, featured, or both.")
    errors.raise_if_any("Some fields need your attention.")
    return CommentPatch(body, featured, reason)


def _new_body(body: Any) -> str | None:
    if body is None:
        return None
    if not isinstance(body, str) or not body.strip():
        raise Invalid.field("body", "Write the new text of the comment.")
    if len(body) > BODY_MAX:
        raise Invalid.field("body", f"Comments are at most {BODY_MAX:,} characters.")
    return body.strip().replace("\r\n", "\n")


def parse_block(data: Mapping[str, Any]) -> BlockSpec:
    """A block: its kind, and a value or the comment whose author or address to block."""
    errors = FieldErrors()
    kind = data.get("kind")
    if not _one_of(kind, BlockKind):
        errors.add("kind", "Use email, domain, ip or word.")
    comment_id = data.get("comment_id")
    if comment_id is not None and not _row_id(comment_id):
        errors.add("comment_id", "Use the id of a comment.")
    elif comment_id is not None and kind not in (BlockKind.EMAIL, BlockKind.IP):
        errors.add("comment_id", "Only email and ip blocks can be made from a comment.")
    elif comment_id is not None and data.get("value") is not None:
        errors.add("value", "Give a value or a comment_id, not both.")
    value = data.get("value")
    if value is not None and not isinstance(value, str):
        errors.add("value", "Must be text.")
    regex = data.get("regex", False)
    if not isinstance(regex, bool):
        errors.add("regex", "Use true or false.")
    note = errors.check(lambda: _text_field(data, "note", 500))
    expires_at = errors.check(lambda: _expiry(data))
    errors.raise_if_any("Some fields need your attention.")
    return BlockSpec(
        kind=BlockKind(str(kind)),  # checked above
        value=value,
        comment_id=comment_id,
        regex=regex,
        note=note,
        expires_at=expires_at,
    )


def _text_field(data: Mapping[str, Any], name: str, most: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid.field(name, "Must be text.")
    if len(value) > most:
        raise Invalid.field(name, f"Use text of at most {most} characters.")
    return value.strip() or None


def _expiry(data: Mapping[str, Any]) -> dt.datetime | None:
    """An expiry given as ``expires_at`` (ISO 8601, in the future) or ``expires_in_days``."""
    if data.get("expires_at") is not None:
        if data.get("expires_in_days") is not None:
            raise Invalid.field("expires_in_days", "Give expires_at or expires_in_days, not both.")
        try:
            expires = timestamp(data["expires_at"])
        except ValueError as exc:
            raise Invalid.field("expires_at", str(exc)) from exc
        if expires <= dt.datetime.now(dt.UTC):
            raise Invalid.field("expires_at", "Must be in the future: it would never apply.")
        return expires
    days = data.get("expires_in_days")
    if days is None:
        return None
    if not _positive(days) or days > 36500:
        raise Invalid.field("expires_in_days", "Use a whole number of days from 1 to 36500.")
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


def parse_token_request(data: Mapping[str, Any]) -> TokenRequest:
    """A token request: sites, role, label and expiry, or Invalid naming each bad field."""
    errors = FieldErrors()
    sites = data.get("sites")
    if not isinstance(sites, list) or not sites or not all(isinstance(s, str) for s in sites):
        errors.add("sites", "Send a list of site slugs.")
    role = data.get("role", Role.MODERATOR.value)
    if not _one_of(role, Role):
        errors.add("role", "Use moderator or admin.")
    label = errors.check(lambda: _text_field(data, "label", LABEL_MAX))
    expires_at = errors.check(lambda: _expiry(data))
    errors.raise_if_any("Some fields need your attention.")
    return TokenRequest(
        sites=list(dict.fromkeys(sites)),  # type: ignore[arg-type]  # checked above
        role=Role(role),
        label=label,
        expires_at=expires_at,
    )


def parse_subject(data: Mapping[str, Any]) -> tuple[str, EraseMode | None]:
    """The email of a data subject request, and an erase mode if one was given."""
    errors = FieldErrors()
    email = ""
    try:
        email = _email(data.get("email"))
    except ValueError as exc:
        errors.add("email", str(exc))
    mode = data.get("mode")
    if mode is not None and not _one_of(mode, EraseMode):
        errors.add("mode", "Use delete or anonymise.")
    errors.raise_if_any("Some fields need your attention.")
    return email, EraseMode(mode) if mode is not None else None
