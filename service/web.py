"""The HTTP edge shared by every blueprint: JSON in and out, and the one error handler."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson
from flask import Flask, Request, Response, current_app, request
from flask.sessions import SessionInterface, SessionMixin
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from service.db import MAX_ID
from service.errors import FieldErrors, NotFound, UnsupportedMediaType, VettedError, problem
from service.extensions import limiter

log = logging.getLogger(__name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# What a dashboard on another origin needs from the token APIs: the methods they answer, the
# headers a decision sends (If-Match guards against another moderator's change) and reads.
TOKEN_API_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
TOKEN_API_HEADERS = "Authorization, Content-Type, If-Match"
TOKEN_API_EXPOSED = "ETag, Location, Retry-After"
NUL_DETAIL = "Must not contain the NUL character (U+0000)."


class NoCookies(SessionInterface):
    """Vetted sets no cookies: readers are not tracked, and no request pays to open a session."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """No session: Flask gives views a null one, which refuses writes."""
        return None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Nothing to save."""


class IdConverter(IntegerConverter):
    """``<int:...>`` in a route is a row id: a number past MAX_ID is a 404, as no row has it.

    Not the converter's ``max``: a route refused by it made Werkzeug answer 405 when the same
    path had a route for another method (PATCH on a huge comment id: "use GET").
    """

    def to_python(self, value: str) -> Any:
        """The id, or NotFound past MAX_ID (which SQLite and an integer column cannot bind)."""
        number = super().to_python(value)
        if number > MAX_ID:
            raise WerkzeugNotFound("There is no such item.")
        return number


def init_app(app: Flask) -> None:
    """Installs the id converter, the proxy rule, the error handlers and cookie-less sessions."""
    # Before any blueprint: each rule takes its converters from the map as it is added.
    app.url_map.converters["int"] = IdConverter
    app.session_interface = NoCookies()
    app.config["MODERATION_ALLOWED_ORIGINS"] = origins_setting(
        app.config["MODERATION_ALLOWED_ORIGINS"]
    )
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.before_request(_refuse_overlong_streams)
    app.before_request(_refuse_nul_in_address)
    app.register_error_handler(VettedError, _vetted_error)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def origins_setting(value: str | list[str]) -> frozenset[str]:
    """Reads MODERATION_ALLOWED_ORIGINS (a list or comma-separated), refusing a non-origin."""
    items = value.split(",") if isinstance(value, str) else list(value)
    origins = set()
    for item in (str(item).strip().rstrip("/") for item in items):
        parts = urlsplit(item)
        if item and (parts.scheme not in ("http", "https") or not parts.hostname or parts.path):
            raise ValueError(
                f"MODERATION_ALLOWED_ORIGINS: {item!r} is not an origin such as https://cms.example"
            )
        if item:
            origins.add(item)
    return frozenset(origins)


def token_api_cors(response: Response) -> Response:
    """CORS for the token APIs: only MODERATION_ALLOWED_ORIGINS, and never with cookies.

    Registered after each request of the review and webhooks blueprints; preflights are
    Flask's automatic OPTIONS answers, which pass here too.
    """
    origin = request.headers.get("Origin")
    if not origin:
        return response
    response.vary.add("Origin")
    if origin in current_app.config["MODERATION_ALLOWED_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = TOKEN_API_METHODS
        response.headers["Access-Control-Allow-Headers"] = TOKEN_API_HEADERS
        response.headers["Access-Control-Expose-Headers"] = TOKEN_API_EXPOSED
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response encoded with orjson."""
    return Response(
        orjson.dumps(body), status=status, headers=dict(headers or {}), mimetype="application/json"
    )


def problem_response(doc: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    """A problem-details response."""
    return Response(
        orjson.dumps(doc),
        status=doc["status"],
        headers=dict(headers or {}),
        mimetype="application/problem+json",
    )


def request_fields() -> dict[str, Any]:
    """The request body as a mapping, from JSON or a form; 415 for anything else."""
    mimetype = request.mimetype
    data: dict[str, Any]
    if mimetype == "application/json" or mimetype.endswith("+json"):
        # orjson reads RFC 8259 JSON only: Python's json would take NaN, Infinity and 1e400 as
        # numbers no field can hold.
        try:
            parsed = orjson.loads(request.get_data(cache=True))
        except orjson.JSONDecodeError as exc:
            raise VettedError(
                f"The body is not valid JSON: {exc.msg} at position {exc.pos}."
            ) from exc
        if not isinstance(parsed, dict):
            raise VettedError("The body must be a JSON object.")
        data = parsed
    elif mimetype in FORM_TYPES:
        data = request.form.to_dict()
    else:
        raise UnsupportedMediaType("Send application/json or application/x-www-form-urlencoded.")
    _refuse_nul_in(data)
    return data


def _refuse_nul_in(data: dict[str, Any]) -> None:
    """422 naming each field whose text holds U+0000.

    PostgreSQL cannot store it in text (the insert failed with a 500) and no reader types it;
    refusing it here keeps SQLite and PostgreSQL answering alike.
    """
    errors = FieldErrors()
    for field in _fields_with_nul(data, ""):
        errors.add(field, NUL_DETAIL)
    errors.raise_if_any()


def _fields_with_nul(value: Any, path: str) -> list[str]:
    """The paths (``reason``, ``sites[0]``) of the strings in value that hold U+0000."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            found += [where] if "\x00" in key else _fields_with_nul(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _fields_with_nul(item, f"{path}[{index}]")
    return found


def _refuse_nul_in_address() -> None:
    """404 for a path, 422 for query parameters, holding U+0000 (see _refuse_nul_in)."""
    if "\x00" in request.path:
        raise NotFound("There is nothing at this address.")
    errors = FieldErrors()
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            errors.add(name, NUL_DETAIL)
    errors.raise_if_any()


def _refuse_overlong_streams() -> None:
    """A 413 for a body streamed without Content-Length (chunked) beyond MAX_CONTENT_LENGTH.

    Werkzeug stops reading such a stream at the limit without a word, so a 10 MB JSON body was
    judged "not a JSON object" and a 10 MB form lost its end; with a Content-Length it is a 413.
    """
    if request.method not in ("POST", "PUT", "PATCH") or request.content_length is not None:
        return
    if not request.environ.get("wsgi.input_terminated"):
        return  # Werkzeug then reads no body at all
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and len(request.get_data(cache=True)) >= limit:
        request.stream.read(1)  # past the limit: Werkzeug raises RequestEntityTooLarge


def _vetted_error(exc: VettedError) -> Response:
    return problem_response(vetted_problem(exc), exc.headers)


def vetted_problem(exc: VettedError) -> dict[str, Any]:
    """The problem document of a domain error."""
    return problem(exc.status, exc.kind, exc.title, exc.detail, exc.extra())


def _rate_limited(exc: RateLimitExceeded) -> Response:
    breached = limiter.current_limit
    reset_in = breached.reset_at - time.time() if breached else exc.limit.limit.get_expiry()
    retry_after = max(1, math.ceil(reset_in))
    detail = f"Too many comments from your address. Try again in {retry_after} seconds."
    doc = problem(429, "rate-limited", "Too many requests", detail, {"retry_after": retry_after})
    return problem_response(doc, {"Retry-After": str(retry_after)})


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    kind = (exc.name or "error").lower().replace(" ", "-")
    headers = {}
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    detail = exc.description or exc.name
    if status == 413:  # Werkzeug's words name no limit
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        detail = f"The request is too large: at most {limit // 1024} KiB."
    return problem_response(problem(status, kind, exc.name, detail), headers)


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    doc = problem(500, "internal", "Internal error", "Something went wrong on our side.")
    return problem_response(doc)
