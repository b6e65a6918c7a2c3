"""Serving widget.js (versioned for long caching) and the demo article page."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, render_template, request, url_for

from service.errors import NotFound

bp = Blueprint("widget", __name__, template_folder="templates")
STATIC = Path(__file__).parent / "static"
ONE_YEAR = 365 * 24 * 3600


# Whole-line comments and /** ... */ notes in widget.js: for its maintainers, not for every
# reader's browser (they were 1.3 KB of its 15 KB gzipped budget). Code, strings and the /*!
# licence header are left as they are: no build step, nothing renamed or reordered.
_MAINTAINERS_NOTES = re.compile(rb"^[ \t]*(?://[^\n]*|/\*\*(?:[^*]|\*(?!/))*\*/)\n", re.MULTILINE)


@cache
def _asset(name: str) -> tuple[bytes, str]:
    """An asset's bytes (a script without its maintainers' notes) and a short hash of them,
    read once per process."""
    data = (STATIC / name).read_bytes()
    if name.endswith(".js"):
        data = _MAINTAINERS_NOTES.sub(b"", data)
    return data, hashlib.sha256(data).hexdigest()[:12]


def widget_version() -> str:
    """The hash in the versioned widget URL; changes whenever widget.js does."""
    return _asset("widget.js")[1]


@bp.get("/widget.js")
def widget_latest() -> Response:
    """The widget under its stable URL: cached briefly so new releases reach pages soon."""
    data, version = _asset("widget.js")
    return _javascript(data, version, "public, max-age=300")


@bp.get("/widget.<version>.js")
def widget_versioned(version: str) -> Response:
    """The widget under a versioned URL, cacheable for a year."""
    data, current = _asset("widget.js")
    if version != current:
        raise NotFound("No widget of that version; load /widget.js.")
    return _javascript(data, current, f"public, max-age={ONE_YEAR}, immutable")


def _javascript(data: bytes, version: str, cache_control: str) -> Response:
    response = Response(data, mimetype="text/javascript")
    response.headers["Cache-Control"] = cache_control
    response.set_etag(version)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _conditional(response)


def _conditional(response: Response) -> Response:
    """A 304 when the request's ETag matches, in place; without the Date werkzeug adds to it,
    since the server (gunicorn, werkzeug's) sends its own and a response had two."""
    response.make_conditional(request)
    response.headers.pop("Date", None)
    return response


@bp.get("/demo.css")
def demo_css() -> Response:
    """Styles of the demo page."""
    data, version = _asset("demo.css")
    response = Response(data, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.set_etag(version)
    return _conditional(response)


@bp.get("/")
def demo_page() -> Response:
    """A demo article with the widget under it, served under a strict CSP."""
    html = render_template(
        "demo.html",
        widget_url=url_for("widget.widget_versioned", version=widget_version()),
        site="demo",
        article="harbour-ferry-returns",
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return response
