"""Every error leaves as RFC 9457 problem details, Werkzeug's included, and never a traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from service.sites.models import Site

SUBMIT = "/api/v1/sites/news/articles/story/comments"
TRACE_MARKS = ("Traceback", 'File "', "line ", ".py", "Error:", "Exception")


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """Checks the problem-details shape and returns the document."""
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    doc = response.get_json(force=True)
    assert {"type", "title", "status", "detail", "errors"} <= set(doc)
    assert doc["status"] == status
    assert doc["type"].startswith("https://")
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["detail"], str) and doc["detail"]
    assert isinstance(doc["errors"], list)
    body = response.get_data(as_text=True)
    for mark in TRACE_MARKS:
        assert mark not in body
    return doc  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "path", ["/nope", "/api/v1/nope", "/api/v1/sites/news/articles", "/widget.abc.js"]
)
def test_unknown_route_is_a_404_problem(client: Any, path: str) -> None:
    assert_problem(client.get(path), 404)


def test_unknown_site_is_a_404_problem(client: Any) -> None:
    doc = assert_problem(client.get("/api/v1/sites/nosuch/articles/a/comments/x"), 404)
    assert doc["type"].endswith("/not-found")


def test_wrong_method_is_a_405_problem_with_allow(client: Any) -> None:
    response = client.delete("/healthz")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_wrong_method_on_the_comments_route_lists_its_methods(client: Any) -> None:
    response = client.put(SUBMIT, json={})
    assert_problem(response, 405)
    allowed = set(response.headers["Allow"].replace(" ", "").split(","))
    assert {"GET", "POST"} <= allowed


@pytest.mark.parametrize("kind", ["json", "form"])
def test_body_over_the_limit_is_a_413_problem(client: Any, site: Site, kind: str) -> None:
    big = "x" * (64 * 1024 + 1)
    if kind == "json":
        response = client.post(SUBMIT, json={"name": "A", "email": "a@example.com", "body": big})
    else:
        response = client.post(SUBMIT, data={"name": "A", "email": "a@example.com", "body": big})
    assert_problem(response, 413)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/octet-stream", None]
)
def test_body_of_an_unreadable_type_is_a_415_problem(
    client: Any, site: Site, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(SUBMIT, data=b"name=A", headers=headers)
    assert_problem(response, 415)


@pytest.mark.parametrize("body", [b"{", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_json_that_is_not_an_object_is_a_400_problem(client: Any, site: Site, body: bytes) -> None:
    response = client.post(SUBMIT, data=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400)


def failing_app(make_app: Any, **config: Any) -> Flask:
    app: Flask = make_app(**config)

    def explode() -> str:
        raise RuntimeError("secret internals: /srv/vetted/service/db.py line 42")

    app.add_url_rule("/_test/explode", "explode", explode)
    return app


@pytest.mark.parametrize("testing", [True, False])
def test_unexpected_error_is_a_generic_500_problem(
    make_app: Any, caplog: pytest.LogCaptureFixture, testing: bool
) -> None:
    app = failing_app(make_app, TESTING=testing)
    with caplog.at_level(logging.ERROR, logger="service"):
        response = app.test_client().get("/_test/explode")
    doc = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert doc["detail"] == "Something went wrong on our side."
    # The traceback goes to the log, for the operator.
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)


def test_rate_limited_submission_is_a_429_problem_with_retry_after(
    make_app: Any, session: Any, site: Site
) -> None:
    # Not a minute: the body once said 60 whatever the window, while the header was right.
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="1 per 10 seconds")
    client = app.test_client()
    fields = {"name": "A", "email": "a@example.com", "body": "First."}
    assert client.post(SUBMIT, json=fields).status_code == 202
    response = client.post(SUBMIT, json={**fields, "body": "Second."})
    doc = assert_problem(response, 429)
    assert 0 < int(response.headers["Retry-After"]) <= 11  # reset times are whole seconds
    assert doc["retry_after"] == int(response.headers["Retry-After"])
    assert (
        doc["detail"]
        == f"Too many comments from your address. Try again in {doc['retry_after']} seconds."
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/moderation/comments/{id}"),
        ("PATCH", "/api/v1/moderation/comments/{id}"),
        ("DELETE", "/api/v1/sites/news/webhooks/{id}"),
        ("GET", "/api/v1/sites/news/comments/{id}"),
    ],
)
def test_an_id_past_any_row_is_a_404_whatever_the_method(
    client: Any, site: Site, method: str, path: str
) -> None:
    # PATCH and DELETE were a 405 "use GET" where the same path has a GET route.
    response = client.open(path.format(id=10**26), method=method, json={})
    assert_problem(response, 404)
