"""Every operation of the OpenAPI document, fuzzed in process: bad input gets a 4xx, never a 500.

Schemathesis generates requests from the app's own document, schema-conforming and malformed
ones, and sends them to the Flask app through WSGI, on an SQLite database holding a site, an
admin token, comments, a block and a webhook endpoint with a delivery, so that generated ids and
slugs often name real things. Each response must be below 500, every 4xx with a body must be
``application/problem+json``, and a refused request must leave the stored rows as they were.
"""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, text

from service.db import session_scope
from service.extensions import sessions
from service.meta.openapi import openapi_document
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.sites.models import ModerationMode
from service.sites.services import create_site

SITE = "news"
ARTICLE = "story"
HOOK_HOST = "hooks.example.test"
# A public address (TEST-NET would be refused): what the fake resolver gives HOOK_HOST.
HOOK_ADDRESS = "93.184.215.14"
# Columns that every authenticated request updates, refused or not.
VOLATILE = {("api_tokens", "last_used_at")}

schema = schemathesis.openapi.from_dict(openapi_document())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    deterministic=True,
)
KNOWN = {"site": SITE, "article": ARTICLE}


def is_id(name: str, value: Any) -> bool:
    """Whether a path parameter is an integer id (1 exists for every kind seeded, 2 for some)."""
    number = isinstance(value, int) and not isinstance(value, bool)
    return name.endswith("_id") and (number or (isinstance(value, str) and value.isdigit()))


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Often swaps a generated slug or id for one that exists, so the fuzz reaches past 404."""
    if not path_parameters:
        return st.just(path_parameters)
    choices = {
        name: st.sampled_from([KNOWN[name], value])
        if name in KNOWN
        else st.sampled_from([1, 2, value])
        if is_id(name, value)
        else st.just(value)
        for name, value in path_parameters.items()
    }
    return st.fixed_dictionaries(choices)


def with_known_things(case: Any) -> None:
    """The coverage phase (which runs no hooks) sends its bodies and queries to real things."""
    for name, value in (case.path_parameters or {}).items():
        if name in KNOWN:
            case.path_parameters[name] = KNOWN[name]
        elif is_id(name, value):
            case.path_parameters[name] = 1


_real_getaddrinfo = socket.getaddrinfo


def resolve_without_network(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    """getaddrinfo for IP literals and HOOK_HOST only: the fuzz must not ask a DNS server."""
    if host == HOOK_HOST:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (HOOK_ADDRESS, port or 443))]
    return _real_getaddrinfo(host, port, 0, 0, 0, socket.AI_NUMERICHOST)


@dataclass(frozen=True)
class Fuzzed:
    """The app under fuzz, its engine, and the headers of an admin of ``news``."""

    app: Flask
    engine: Engine
    headers: dict[str, str]


def _seed(client: FlaskClient, headers: dict[str, str]) -> None:
    """Comments (one approved, one reply), a block and a webhook endpoint with a delivery."""
    url = f"/api/v1/sites/{SITE}/articles/{ARTICLE}/comments"
    for body in ("First.", "Second.", "Third."):
        sent = {"name": "Ann Reader", "email": "ann@example.com", "body": body}
        assert client.post(url, json=sent).status_code == 202
    decision = client.post(
        "/api/v1/moderation/comments/1/decision", json={"action": "approve"}, headers=headers
    )
    assert decision.status_code == 200, decision.json
    reply = {"name": "Bo", "email": "bo@example.com", "body": "Agreed.", "parent_id": 1}
    assert client.post(url, json=reply).status_code == 202
    block = {"kind": "email", "value": "spam@example.com"}
    blocks = client.post(f"/api/v1/moderation/sites/{SITE}/blocks", json=block, headers=headers)
    assert blocks.status_code == 201, blocks.json
    hook = {"url": f"https://{HOOK_HOST}/vetted", "events": ["comment.created"]}
    made = client.post(f"/api/v1/sites/{SITE}/webhooks", json=hook, headers=headers)
    assert made.status_code == 201, made.json
    ping = client.post(f"/api/v1/sites/{SITE}/webhooks/1/ping", headers=headers)
    assert ping.status_code == 202, ping.json


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the fuzz checks the HTTP edge, which is the same on both databases."""
    path = tmp_path / "vetted.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def fuzzed(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> Fuzzed:
    """A fresh app and database for each operation (its examples share it), seeded by the API."""
    monkeypatch.setattr(socket, "getaddrinfo", resolve_without_network)
    app = make_app()
    with session_scope(sessions(app)) as session:
        create_site(session, SITE, "News", ModerationMode.POST, {})
        secret = create_token(session, [SITE], Role.ADMIN, "fuzz", None).secret
        session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    _seed(app.test_client(), headers)
    return Fuzzed(app, app.extensions["vetted.engine"], headers)


def stored_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, volatile columns left out."""
    rows = {}
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            columns = [
                c["name"]
                for c in inspect(conn).get_columns(table)
                if (table, c["name"]) not in VOLATILE
            ]
            names = ", ".join(f'"{c}"' for c in columns)
            rows[table] = list(conn.execute(text(f'SELECT {names} FROM "{table}" ORDER BY 1')))
    return rows


def assert_problem(response: Any) -> None:
    """A 4xx with a body is problem details: type, title, status, and well-formed errors."""
    if not response.content:
        return
    headers = {name.lower(): values for name, values in response.headers.items()}
    content_type = headers.get("content-type", [""])[0]
    assert content_type.startswith("application/problem+json"), (response.status_code, content_type)
    doc = response.json()
    assert isinstance(doc["type"], str) and doc["type"]
    assert isinstance(doc["title"], str) and doc["title"]
    assert doc["status"] == response.status_code
    for error in doc.get("errors", []):
        assert isinstance(error["field"], str) and isinstance(error["detail"], str), error


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    # ``fuzzed`` is made once per operation on purpose: the examples build on its rows.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_bad_input_is_a_problem_never_a_server_error(case: Any, fuzzed: Fuzzed) -> None:
    if case.meta is not None and case.meta.phase.name == "coverage":
        with_known_things(case)
    before = stored_rows(fuzzed.engine)
    response = case.call(app=fuzzed.app, headers=fuzzed.headers)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert_problem(response)
        assert stored_rows(fuzzed.engine) == before, f"{response.status_code} changed stored rows"
