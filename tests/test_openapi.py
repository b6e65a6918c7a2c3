"""The OpenAPI document is valid, lists every route, and what it documents is what we send."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service.comments import openapi as comments_openapi
from service.comments.models import Comment, Status
from service.comments.services import set_status
from service.sites.models import Site

SPEC_URL = "/api/v1/openapi.json"
THREAD = "/api/v1/sites/{site}/articles/{article}/comments"
ONE = "/api/v1/sites/{site}/comments/{comment_id}"
URL = "/api/v1/sites/news/articles/story/comments"
VALID = {"name": "Ann", "email": "ann@example.com", "body": "A fair report."}
UNDOCUMENTED_METHODS = {"HEAD", "OPTIONS"}


def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get(SPEC_URL)
    assert response.status_code == 200
    return response.json  # type: ignore[no-any-return]


def openapi_path(rule: str) -> str:
    """Werkzeug's /a/<conv:name> as OpenAPI's /a/{name}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def app_routes(app: Flask) -> dict[str, set[str]]:
    """Every route of the app (static files aside) with its methods, as OpenAPI paths."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        methods = {m.lower() for m in (rule.methods or set()) - UNDOCUMENTED_METHODS}
        routes.setdefault(openapi_path(rule.rule), set()).update(methods)
    return routes


def test_openapi_path_converts_every_kind_of_placeholder() -> None:
    assert openapi_path("/s/<site>/a/<path:article>/c/<int:comment_id>") == (
        "/s/{site}/a/{article}/c/{comment_id}"
    )
    assert openapi_path("/widget.<version>.js") == "/widget.{version}.js"


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    doc = document(client)
    assert doc["openapi"].startswith("3.1")
    errors = [str(e.message) for e in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert errors == []


def test_every_route_of_the_app_is_documented_with_its_methods(
    app: Flask, client: FlaskClient
) -> None:
    paths = document(client)["paths"]
    missing = {
        f"{method.upper()} {path}"
        for path, methods in app_routes(app).items()
        for method in methods
        if method not in paths.get(path, {})
    }
    assert missing == set()


def test_every_documented_operation_is_a_route_of_the_app(app: Flask, client: FlaskClient) -> None:
    routes = app_routes(app)
    verbs = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    extra = {
        f"{method.upper()} {path}"
        for path, item in document(client)["paths"].items()
        for method in set(item) & verbs
        if method not in routes.get(path, set())
    }
    assert extra == set()


def test_every_path_parameter_is_declared(client: FlaskClient) -> None:
    for path, item in document(client)["paths"].items():
        placeholders = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            assert declared == placeholders, f"{method.upper()} {path}"


def response_validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema`` whose #/components/... references resolve in the document."""
    root = {**schema, "components": doc["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_documented(doc: dict[str, Any], path: str, method: str, response: TestResponse) -> None:
    """The response's status is documented for the operation and its body fits the schema."""
    responses = doc["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} answered an undocumented {status}"
    content = responses[status].get("content")
    if not content:
        assert response.get_data() == b""
        return
    assert response.mimetype in content, f"{response.mimetype} is not documented for {status}"
    schema = content[response.mimetype]["schema"]
    errors = sorted(response_validator(doc, schema).iter_errors(response.get_json()), key=str)
    assert [e.message for e in errors] == []


# How to make each documented response of the public comments API happen.
Scenario = Callable[[FlaskClient, Session, Site, Any], TestResponse]


def submit(client: FlaskClient, **fields: Any) -> TestResponse:
    return client.post(URL, json={**VALID, **fields})


def published(client: FlaskClient, session: Session, body: str, parent: int | None = None) -> int:
    fields = {"body": body, **({"parent_id": parent} if parent else {})}
    comment_id = int(submit(client, **fields).json["id"])  # type: ignore[index]
    session.expire_all()
    set_status(session, session.get_one(Comment, comment_id), Status.APPROVED)
    session.commit()
    return comment_id


def rate_limited(client: FlaskClient, session: Session, site: Site, make_app: Any) -> TestResponse:
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="1 per minute").test_client()
    assert submit(limited).status_code == 202
    return submit(limited, body="Again.")


def thread_with_replies(client: FlaskClient, session: Session, *_: Any) -> TestResponse:
    root = published(client, session, "Top, *emphasised*.")
    published(client, session, "A reply.", parent=root)
    published(client, session, "Second top.")
    response = client.get(URL + "?limit=1")
    assert response.json and response.json["next_cursor"]
    return response


def not_modified(client: FlaskClient, session: Session, *_: Any) -> TestResponse:
    published(client, session, "Cached.")
    etag = client.get(URL).headers["ETag"]
    return client.get(URL, headers={"If-None-Match": etag})


def own_pending(client: FlaskClient, *_: Any) -> TestResponse:
    accepted = submit(client).json
    assert accepted is not None
    return client.get(
        f"/api/v1/sites/news/comments/{accepted['id']}",
        headers={"Vetted-Author-Token": accepted["author_token"]},
    )


def someone_elses_pending(client: FlaskClient, *_: Any) -> TestResponse:
    comment_id = submit(client).json["id"]  # type: ignore[index]
    return client.get(f"/api/v1/sites/news/comments/{comment_id}")


SCENARIOS: dict[tuple[str, str, str], Scenario] = {
    (THREAD, "post", "202"): lambda c, *_: submit(c),
    (THREAD, "post", "403"): lambda c, *_: c.post(
        URL, json=VALID, headers={"Origin": "https://elsewhere.example"}
    ),
    (THREAD, "post", "404"): lambda c, *_: c.post(URL.replace("news", "nosuch"), json=VALID),
    (THREAD, "post", "413"): lambda c, *_: submit(c, body="x" * 70_000),
    (THREAD, "post", "415"): lambda c, *_: c.post(URL, data="hi", content_type="text/plain"),
    (THREAD, "post", "422"): lambda c, *_: submit(c, email="nope", name=""),
    (THREAD, "post", "429"): rate_limited,
    (THREAD, "get", "200"): thread_with_replies,
    (THREAD, "get", "304"): not_modified,
    (THREAD, "get", "404"): lambda c, *_: c.get(URL.replace("news", "nosuch")),
    (THREAD, "get", "422"): lambda c, *_: c.get(URL + "?sort=sideways"),
    (ONE, "get", "200"): own_pending,
    (ONE, "get", "404"): someone_elses_pending,
}


def documented_responses() -> set[tuple[str, str, str]]:
    return {
        (path, method, status)
        for path, item in comments_openapi.PATHS.items()
        for method, operation in item.items()
        for status in operation["responses"]
    }


def test_every_documented_response_of_the_comments_api_has_a_scenario() -> None:
    assert set(SCENARIOS) == documented_responses()


@pytest.mark.parametrize(("path", "method", "status"), sorted(SCENARIOS))
def test_documented_response_validates_against_its_schema(
    client: FlaskClient,
    session: Session,
    site: Site,
    make_app: Any,
    path: str,
    method: str,
    status: str,
) -> None:
    doc = document(client)
    response = SCENARIOS[(path, method, status)](client, session, site, make_app)
    assert str(response.status_code) == status, response.get_data(as_text=True)
    assert_documented(doc, path, method, response)


def test_an_approved_comment_read_by_anyone_validates(
    client: FlaskClient, session: Session, site: Site
) -> None:
    comment_id = published(client, session, "Public.")
    response = client.get(f"/api/v1/sites/news/comments/{comment_id}")
    assert response.status_code == 200
    assert_documented(document(client), ONE, "get", response)


def test_a_schema_violation_is_caught(client: FlaskClient) -> None:
    # The validator is not a no-op: a comment without its author is refused.
    doc = document(client)
    schema = {"$ref": "#/components/schemas/Comment"}
    bad = {"id": 1, "parent_id": None, "body_html": "", "created_at": "yesterday"}
    assert list(response_validator(doc, schema).iter_errors(bad))
