"""Serving the widget: its size budget, no eval, and caching of the stable and versioned URLs."""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_test_app

WIDGET = Path(__file__).resolve().parents[2] / "service" / "widget" / "static" / "widget.js"
# The budget: script and styles (which live inside widget.js) under 15 KB gzipped.
BUDGET_BYTES = 15_000


@pytest.fixture
def widget_app(sqlite_template: Path, tmp_path: Path) -> Iterator[Flask]:
    """The app on a migrated SQLite copy (serving assets needs no other database)."""
    database = tmp_path / "vetted.sqlite3"
    shutil.copy(sqlite_template, database)
    app = make_test_app(f"sqlite:///{database}", tmp_path)
    yield app
    app.extensions["vetted.engine"].dispose()


@pytest.fixture
def web(widget_app: Flask) -> FlaskClient:
    """A test client of that app."""
    return widget_app.test_client()


def versioned_path(web: FlaskClient) -> str:
    """The versioned widget URL, as the demo page links it."""
    found = re.search(r'src="(/widget\.[0-9a-f]+\.js)"', web.get("/").get_data(as_text=True))
    assert found, "the demo page links no versioned widget"
    return found.group(1)


def test_the_served_widget_with_its_styles_is_under_15_kb_gzipped(web: FlaskClient) -> None:
    served = web.get("/widget.js").get_data()
    assert b"adoptedStyleSheets" in served, "the styles are expected inside widget.js"
    assert len(gzip.compress(served, compresslevel=9)) < BUDGET_BYTES


def test_the_widget_is_served_without_its_maintainers_notes_and_nothing_else(
    web: FlaskClient,
) -> None:
    served = web.get("/widget.js").get_data(as_text=True)
    source = WIDGET.read_text()
    assert served.startswith("/*! Vetted comment widget.")  # the licence header stays
    assert "/** An element with attributes" in source and "/** An element" not in served
    assert not re.search(r"^\s*//", served, re.MULTILINE)
    code = [line for line in source.splitlines() if not re.match(r"\s*(//|/\*\*|\*)", line)]
    assert [line for line in served.splitlines() if not re.match(r"\s*\*", line)] == code


def test_widget_source_has_no_eval_or_function_constructor() -> None:
    source = WIDGET.read_text()
    assert not re.search(r"\beval\s*\(", source)
    assert not re.search(r"\bnew\s+Function\b|\bFunction\s*\(", source)
    assert not re.search(r"set(Timeout|Interval)\s*\(\s*['\"`]", source)


def test_versioned_widget_is_cached_for_a_year_as_immutable(web: FlaskClient) -> None:
    response = web.get(versioned_path(web))
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert {"public", "immutable", f"max-age={365 * 24 * 3600}"} <= cache
    assert response.get_data() == web.get("/widget.js").get_data()


def test_version_in_the_url_is_the_hash_of_the_served_script(web: FlaskClient) -> None:
    version = versioned_path(web).split(".")[1]
    served = web.get(versioned_path(web)).get_data()
    assert hashlib.sha256(served).hexdigest().startswith(version)


def test_stable_widget_url_is_cached_briefly_and_never_immutable(web: FlaskClient) -> None:
    response = web.get("/widget.js")
    assert response.status_code == 200
    cache = response.headers["Cache-Control"]
    assert "immutable" not in cache
    max_age = int(re.search(r"max-age=(\d+)", cache).group(1))  # type: ignore[union-attr]
    assert 0 < max_age <= 3600
    assert b"function mountAll()" in response.get_data()


def test_widget_revalidates_with_its_etag(web: FlaskClient) -> None:
    etag = web.get("/widget.js").headers["ETag"]
    again = web.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_widget_of_an_unknown_version_is_a_404_problem(web: FlaskClient) -> None:
    response = web.get("/widget.000000000000.js")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_widget_may_be_loaded_by_any_page(web: FlaskClient) -> None:
    response = web.get("/widget.js", headers={"Origin": "https://news.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_demo_page_is_served_under_a_strict_content_security_policy(web: FlaskClient) -> None:
    response = web.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    page = response.get_data(as_text=True)
    assert 'id="vetted-comments"' in page
    assert "<script>" not in page, "no inline script on the demo page"


@pytest.mark.parametrize("path", ["/widget.js", "/demo.css"])
def test_assets_leave_the_date_header_to_the_server(web: FlaskClient, path: str) -> None:
    # gunicorn and werkzeug's server add Date to every response; one set here made two.
    response = web.get(path)
    assert response.status_code == 200
    assert "Date" not in response.headers
    etag = response.headers["ETag"]
    assert "Date" not in web.get(path, headers={"If-None-Match": etag}).headers
