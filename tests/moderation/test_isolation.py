"""Role and site isolation: every endpoint tried with every kind of wrong credential.

401 for no token, a bad, an expired or a revoked one; 404 (never 403) for another site's
token, so a token cannot probe; 403 for a moderator on an admin endpoint. Every response to
a token, errors included, is Cache-Control: no-store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.db import utcnow
from service.moderation.models import Role
from service.moderation.tokens import create_token, revoke_token
from service.sites.models import Site
from tests.moderation.conftest import ARTICLE, bearer


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: dict[str, Any] | None = None
    role: Role = Role.MODERATOR
    ok: int = 200
    # What another site's token gets: 404, or the documented refusal of a bulk request.
    foreign: int = 404


ENDPOINTS = [
    Endpoint("GET", "/sites", foreign=200),
    Endpoint("GET", "/comments?site=news"),
    Endpoint("GET", "/comments/{comment}"),
    Endpoint("POST", "/comments/{comment}/decision", {"action": "approve"}),
    Endpoint("PATCH", "/comments/{comment}", {"body": "A fair report, edited."}),
    Endpoint(
        "POST", "/comments/decisions", {"action": "reject", "ids": ["{comment}"]}, foreign=409
    ),
    Endpoint("GET", f"/sites/news/articles/{ARTICLE}"),
    Endpoint("PATCH", f"/sites/news/articles/{ARTICLE}", {"locked": True}),
    Endpoint("GET", "/sites/news/blocks"),
    Endpoint("POST", "/sites/news/blocks", {"kind": "word", "value": "casino"}, ok=201),
    Endpoint("DELETE", "/sites/news/blocks/{block}", ok=204),
    Endpoint("GET", "/tokens", role=Role.ADMIN, foreign=200),
    Endpoint("POST", "/tokens", {"sites": ["news"]}, role=Role.ADMIN, ok=201),
    Endpoint("DELETE", "/tokens/{token}", role=Role.ADMIN),
    Endpoint("GET", "/sites/news/settings", role=Role.ADMIN),
    Endpoint("PATCH", "/sites/news/settings", {"max_links": 3}, role=Role.ADMIN),
    Endpoint("GET", "/audit?site=news", role=Role.ADMIN),
    Endpoint("POST", "/sites/news/privacy/export", {"email": "ann@example.com"}, role=Role.ADMIN),
    Endpoint("POST", "/sites/news/privacy/erase", {"email": "ann@example.com"}, role=Role.ADMIN),
]


@dataclass
class World:
    ids: dict[str, int]
    tokens: dict[str, str]


@pytest.fixture
def world(
    client: FlaskClient, session: Session, site: Site, make_site: Any, submit: Any, issue: Any
) -> World:
    make_site("sports")
    comment_id = submit("A fair report.")
    tokens = {
        "moderator": issue(Role.MODERATOR, "news"),
        "admin": issue(Role.ADMIN, "news"),
        "foreign_moderator": issue(Role.MODERATOR, "sports"),
        "foreign_admin": issue(Role.ADMIN, "sports"),
        "expired": issue(Role.ADMIN, "news", expires_at=utcnow() - dt.timedelta(seconds=1)),
    }
    revoked = create_token(session, ["news"], Role.ADMIN, "revoked")
    revoke_token(session, revoked.token.id)
    tokens["revoked"] = revoked.secret
    target = create_token(session, ["news"], Role.MODERATOR, "to revoke")
    session.commit()
    block = client.post(
        "/api/v1/moderation/sites/news/blocks",
        json={"kind": "domain", "value": "spam.example"},
        headers=bearer(tokens["admin"]),
    )
    assert block.status_code == 201
    ids = {"comment": comment_id, "block": block.json["id"], "token": target.token.id}
    return World(ids, tokens)


def call(client: FlaskClient, endpoint: Endpoint, world: World, headers: dict[str, str]) -> Any:
    path = endpoint.path.format(**world.ids)
    body = endpoint.body
    if body is not None:
        body = {k: [world.ids["comment"]] if v == ["{comment}"] else v for k, v in body.items()}
    return client.open(
        "/api/v1/moderation" + path, method=endpoint.method, json=body, headers=headers
    )


def label(endpoint: Endpoint) -> str:
    return f"{endpoint.method} {endpoint.path}"


def documented_path(endpoint: Endpoint) -> str:
    """The endpoint's path as the OpenAPI document writes it."""
    path = endpoint.path.partition("?")[0].replace(ARTICLE, "{article}")
    path = path.replace("/sites/news/", "/sites/{site}/")
    for name in ("comment", "block", "token"):
        path = path.replace("{" + name + "}", "{" + name + "_id}")
    return "/api/v1/moderation" + path


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=label)
def test_every_endpoint_refuses_every_wrong_credential(
    client: FlaskClient, world: World, endpoint: Endpoint, documented: Any
) -> None:
    own = "admin" if endpoint.role == Role.ADMIN else "moderator"
    cases: list[tuple[str, dict[str, str], int]] = [
        ("no token", {}, 401),
        ("not bearer", {"Authorization": f"Basic {world.tokens[own]}"}, 401),
        ("bad token", bearer("vt_not-a-token-we-issued"), 401),
        ("expired token", bearer(world.tokens["expired"]), 401),
        ("revoked token", bearer(world.tokens["revoked"]), 401),
        ("another site's token", bearer(world.tokens[f"foreign_{own}"]), endpoint.foreign),
    ]
    if endpoint.role == Role.ADMIN:
        cases.append(("moderator on an admin endpoint", bearer(world.tokens["moderator"]), 403))
    cases.append(("the right token", bearer(world.tokens[own]), endpoint.ok))
    for case, headers, expected in cases:
        response = call(client, endpoint, world, headers)
        assert response.status_code == expected, (case, response.get_json())
        assert response.headers["Cache-Control"] == "no-store", case
        documented(response, documented_path(endpoint), endpoint.method.lower())
        if expected == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.content_type == "application/problem+json"


def test_admin_token_passes_moderator_endpoints(
    client: FlaskClient, world: World, admin: dict[str, str]
) -> None:
    response = client.get("/api/v1/moderation/comments", headers=admin)
    assert response.status_code == 200
    assert [c["id"] for c in response.json["comments"]] == [world.ids["comment"]]


def test_lists_show_another_sites_token_nothing_of_this_site(
    client: FlaskClient, world: World
) -> None:
    foreign = bearer(world.tokens["foreign_admin"])
    base = "/api/v1/moderation"
    assert client.get(f"{base}/comments", headers=foreign).json["comments"] == []
    sites = client.get(f"{base}/sites", headers=foreign).json["sites"]
    assert [s["slug"] for s in sites] == ["sports"]
    tokens = client.get(f"{base}/tokens", headers=foreign).json["tokens"]
    assert all(t["sites"] == ["sports"] for t in tokens)
    assert client.get(f"{base}/audit", headers=foreign).json["entries"] == []


def test_token_for_two_sites_is_hidden_from_an_admin_of_one(
    client: FlaskClient, world: World, session: Session
) -> None:
    both = create_token(session, ["news", "sports"], Role.MODERATOR, "both")
    session.commit()
    admin = bearer(world.tokens["admin"])
    listed = client.get("/api/v1/moderation/tokens", headers=admin).json["tokens"]
    assert both.token.id not in {t["id"] for t in listed}
    refused = client.delete(f"/api/v1/moderation/tokens/{both.token.id}", headers=admin)
    assert refused.status_code == 404


def test_admin_cannot_issue_a_token_for_a_site_it_does_not_have(
    client: FlaskClient, world: World
) -> None:
    response = client.post(
        "/api/v1/moderation/tokens",
        json={"sites": ["news", "sports"], "role": "admin"},
        headers=bearer(world.tokens["admin"]),
    )
    assert response.status_code == 404
    assert "sports" in response.json["detail"]


def test_unknown_site_and_foreign_site_answer_alike(client: FlaskClient, world: World) -> None:
    admin = bearer(world.tokens["admin"])
    foreign = client.get("/api/v1/moderation/sites/sports/settings", headers=admin)
    missing = client.get("/api/v1/moderation/sites/nowhere/settings", headers=admin)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json["title"] == missing.json["title"]
