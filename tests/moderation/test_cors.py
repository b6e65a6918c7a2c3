"""CORS on the token APIs: a dashboard on a listed origin may call them from a browser."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.sites.models import Site

DASHBOARD = "https://cms.example"


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The app with one dashboard origin allowed."""
    return make_app(MODERATION_ALLOWED_ORIGINS=[DASHBOARD])  # type: ignore[no-any-return]


def preflight(client: FlaskClient, path: str, method: str, origin: str = DASHBOARD) -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/moderation/comments/1/decision", "POST"),  # the review API
        ("/api/v1/moderation/sites/news/settings", "PATCH"),  # its admin routes
        ("/api/v1/sites/news/webhooks/1", "DELETE"),  # the webhooks API
    ],
)
def test_a_listed_origin_passes_the_preflight_of_every_token_api(
    client: FlaskClient, path: str, method: str
) -> None:
    response = preflight(client, path, method)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed_headers = response.headers["Access-Control-Allow-Headers"]
    assert {"Authorization", "Content-Type", "If-Match"} <= set(allowed_headers.split(", "))
    # Tokens go in a header; cookies are never invited.
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_listed_origin_reads_the_answer_and_its_etag(
    client: FlaskClient, moderator: dict[str, str]
) -> None:
    response = client.get("/api/v1/moderation/sites", headers={**moderator, "Origin": DASHBOARD})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.vary


def test_another_origin_gets_no_cors_headers(
    client: FlaskClient, moderator: dict[str, str]
) -> None:
    refused = preflight(
        client, "/api/v1/moderation/comments/1/decision", "POST", "https://evil.example"
    )
    answered = client.get(
        "/api/v1/moderation/sites", headers={**moderator, "Origin": "https://evil.example"}
    )
    for response in (refused, answered):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Origin" in response.vary  # a cache must not hand one origin's answer to another


def test_by_default_no_origin_is_allowed(make_app: Any) -> None:
    client = make_app().test_client()
    response = preflight(client, "/api/v1/moderation/sites", "GET")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_public_api_keeps_its_own_per_site_rule(client: FlaskClient, site: Site) -> None:
    # Reads of the public API are open to any origin while the site lists none; the token
    # APIs' list does not narrow them.
    response = client.get(
        "/api/v1/sites/news/articles/a/comments", headers={"Origin": "https://reader.example"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "https://reader.example"


def test_origins_may_be_set_comma_separated_in_the_environment(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VETTED_MODERATION_ALLOWED_ORIGINS", f"{DASHBOARD}, https://admin.example/")
    app = make_app()
    assert app.config["MODERATION_ALLOWED_ORIGINS"] == {DASHBOARD, "https://admin.example"}


@pytest.mark.parametrize(
    "value", [["cms.example"], ["https://cms.example/admin"], "ftp://x.example"]
)
def test_a_value_that_is_not_an_origin_stops_the_app_from_starting(
    make_app: Any, value: Any
) -> None:
    with pytest.raises(ValueError, match="MODERATION_ALLOWED_ORIGINS"):
        make_app(MODERATION_ALLOWED_ORIGINS=value)
