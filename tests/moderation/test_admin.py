"""Admin routes: tokens, site settings and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service.db import utcnow
from service.moderation.models import Action, ApiToken, AuditEntry
from service.sites.models import Article, Site
from service.sites.services import get_or_create_article
from tests.moderation.conftest import bearer

BASE = "/api/v1/moderation"
SETTINGS = f"{BASE}/sites/news/settings"


def test_admin_issues_a_token_that_works_at_once_and_is_stored_hashed(
    client: FlaskClient, admin: dict[str, str], session: Session, documented: Any
) -> None:
    response = client.post(
        f"{BASE}/tokens",
        json={"sites": ["news"], "role": "moderator", "label": "Night shift", "expires_in_days": 7},
        headers=admin,
    )
    documented(response, f"{BASE}/tokens", "post")
    assert response.status_code == 201
    secret = response.json["secret"]
    assert response.json["label"] == "Night shift"
    assert response.json["expires_at"] is not None
    assert client.get(f"{BASE}/comments", headers=bearer(secret)).status_code == 200
    assert secret not in str(session.execute(text("SELECT * FROM api_tokens")).all())
    listed = client.get(f"{BASE}/tokens", headers=admin)
    documented(listed, f"{BASE}/tokens", "get")
    assert "secret" not in listed.json["tokens"][0]
    assert secret not in listed.get_data(as_text=True)


def test_a_revoked_token_is_refused_on_its_next_request(
    client: FlaskClient, admin: dict[str, str], session: Session, documented: Any
) -> None:
    created = client.post(f"{BASE}/tokens", json={"sites": ["news"]}, headers=admin).json
    mine = bearer(created["secret"])
    assert client.get(f"{BASE}/comments", headers=mine).status_code == 200
    revoked = client.delete(f"{BASE}/tokens/{created['id']}", headers=admin)
    documented(revoked, f"{BASE}/tokens/{{token_id}}", "delete")
    assert revoked.json["revoked_at"] is not None
    refused = client.get(f"{BASE}/comments", headers=mine)
    assert refused.status_code == 401
    assert refused.json["detail"] == "The token was revoked."
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [Action.TOKEN_CREATE, Action.TOKEN_REVOKE]


def test_an_expired_token_is_refused(
    client: FlaskClient, site: Site, issue: Any, session: Session
) -> None:
    secret = issue(expires_at=utcnow() + dt.timedelta(hours=1))
    assert client.get(f"{BASE}/sites", headers=bearer(secret)).status_code == 200
    token = session.scalars(select(ApiToken)).one()
    token.expires_at = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    response = client.get(f"{BASE}/sites", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json["detail"] == "The token has expired."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "sites"),
        ({"sites": "news"}, "sites"),
        ({"sites": ["news"], "role": "owner"}, "role"),
        # Found by tests/test_fuzz.py: an unhashable role raised TypeError (a 500).
        ({"sites": [""], "role": {}, "label": "", "expires_in_days": 1}, "role"),
        ({"sites": ["news"], "role": []}, "role"),
        ({"sites": ["news"], "label": "x" * 201}, "label"),
        ({"sites": ["news"], "expires_in_days": -1}, "expires_in_days"),
    ],
)
def test_bad_token_requests_get_422(
    client: FlaskClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = client.post(f"{BASE}/tokens", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("method", "path", "body", "fields"),
    [
        (
            "POST",
            "/tokens",
            {"sites": "news", "role": "god", "label": 5, "expires_in_days": -1},
            {"sites", "role", "label", "expires_in_days"},
        ),
        ("GET", "/audit?limit=abc&after=yesterday&action=x", None, {"limit", "after", "action"}),
        (
            "POST",
            "/sites/news/privacy/export",
            {"email": "nope", "mode": "burn"},
            {"email", "mode"},
        ),
    ],
)
def test_every_bad_field_is_named_at_once(
    client: FlaskClient,
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    fields: set[str],
) -> None:
    response = client.open(f"{BASE}{path}", method=method, json=body, headers=admin)
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == fields


def test_settings_show_every_setting_with_its_default(
    client: FlaskClient, admin: dict[str, str], documented: Any
) -> None:
    response = client.get(SETTINGS, headers=admin)
    documented(response, f"{BASE}/sites/{{site}}/settings", "get")
    assert response.json["moderation"] == "post"
    assert response.json["settings"]["max_links"] == 2
    assert response.json["settings"]["block_action"] == "hold"


def test_settings_change_and_take_effect(
    client: FlaskClient, admin: dict[str, str], session: Session, site: Site, documented: Any
) -> None:
    change = {
        "moderation": "pre",
        "max_links": 0,
        "allowed_origins": ["https://news.example"],
        "thread_depth": 3,
        "close_after_days": 14,
        "blocked_words": ["casino"],
        "suspect_words": ["crypto"],
        "blocked_domains": ["Spam.Example"],
        "spam_threshold": 0.8,
        "unsure_threshold": 0.4,
        "block_action": "reject",
        "erase_mode": "anonymise",
    }
    response = client.patch(SETTINGS, json=change, headers=admin)
    documented(response, f"{BASE}/sites/{{site}}/settings", "patch")
    assert response.status_code == 200
    assert response.json["moderation"] == "pre"
    assert response.json["settings"]["blocked_domains"] == ["spam.example"]
    assert response.json["settings"]["close_after_days"] == 14
    [entry] = session.scalars(select(AuditEntry)).all()
    assert entry.action == Action.SETTINGS
    assert set(entry.detail["changed"]) == set(change)


def test_closing_age_closes_old_articles_as_wordpress_does(
    client: FlaskClient, admin: dict[str, str], session: Session, site: Site, submit: Any
) -> None:
    article = get_or_create_article(session, site, "2018/convoy")
    article.created_at = utcnow() - dt.timedelta(days=30)
    session.commit()
    submit("Still open.")
    client.patch(SETTINGS, json={"close_after_days": 14}, headers=admin)
    assert submit("Too late.", expect=403).json["detail"] == "Comments are closed on this article."
    state = client.get(f"{BASE}/sites/news/articles/2018/convoy", headers=admin).json
    assert (state["locked"], state["closed"]) == (False, True)
    client.patch(SETTINGS, json={"close_after_days": None}, headers=admin)
    submit("Open again.")
    assert session.get(Article, article.id) is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"moderation": "none"}, "moderation"),
        ({"max_links": -1}, "max_links"),
        ({"max_links": True}, "max_links"),
        ({"max_links": "2"}, "max_links"),
        ({"allowed_origins": ["news.example"]}, "allowed_origins"),
        ({"allowed_origins": ["https://news.example/path"]}, "allowed_origins"),
        ({"thread_depth": 0}, "thread_depth"),
        ({"close_after_days": 0}, "close_after_days"),
        ({"blocked_words": "casino"}, "blocked_words"),
        ({"blocked_words": [""]}, "blocked_words"),
        ({"suspect_words": ["x" * 101]}, "suspect_words"),
        ({"blocked_domains": ["not a domain"]}, "blocked_domains"),
        ({"blocked_emails": ["a@example.com"]}, "blocked_emails"),
        ({"spam_threshold": 1.5}, "spam_threshold"),
        ({"spam_threshold": 0.5, "unsure_threshold": 0.95}, "unsure_threshold"),
        ({"block_action": "drop"}, "block_action"),
        ({"erase_mode": "forget"}, "erase_mode"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_bad_setting_gets_its_own_422_and_nothing_changes(
    client: FlaskClient,
    admin: dict[str, str],
    change: dict[str, Any],
    field: str,
    documented: Any,
) -> None:
    # A valid change beside the bad one must not be applied either.
    valid = {"max_links": 4} if field == "thread_depth" else {"thread_depth": 4}
    response = client.patch(SETTINGS, json={**change, **valid}, headers=admin)
    documented(response, f"{BASE}/sites/{{site}}/settings", "patch")
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == [field]
    settings = client.get(SETTINGS, headers=admin).json["settings"]
    assert (settings["thread_depth"], settings["max_links"]) == (5, 2)


def test_every_wrong_setting_is_reported_at_once(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    response = client.patch(
        SETTINGS, json={"max_links": -1, "thread_depth": "deep", "colour": 1}, headers=admin
    )
    assert {e["field"] for e in response.json["errors"]} == {"max_links", "thread_depth", "colour"}


@pytest.fixture
def history(
    client: FlaskClient, admin: dict[str, str], moderator: dict[str, str], submit: Any
) -> dict[str, int]:
    """Some actions by a moderator and an admin."""
    first, second = submit("First."), submit("Second.")
    client.post(f"{BASE}/comments/{first}/decision", json={"action": "approve"}, headers=moderator)
    client.post(f"{BASE}/comments/{second}/decision", json={"action": "spam"}, headers=admin)
    client.get(f"{BASE}/comments/{first}?reveal=true", headers=moderator)
    client.patch(SETTINGS, json={"max_links": 4}, headers=admin)
    return {"first": first, "second": second}


def test_audit_log_lists_every_action_newest_first(
    client: FlaskClient, admin: dict[str, str], history: dict[str, int], documented: Any
) -> None:
    response = client.get(f"{BASE}/audit", headers=admin)
    documented(response, f"{BASE}/audit", "get")
    entries = response.json["entries"]
    assert [(e["action"], e["comment_id"]) for e in entries] == [
        ("settings.update", None),
        ("reveal", history["first"]),
        ("spam", history["second"]),
        ("approve", history["first"]),
    ]
    assert all(e["site"] == "news" and e["actor"] == "test" for e in entries)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "reveal"}, ["reveal"]),
        ({"comment_id": "first"}, ["reveal", "approve"]),
        ({"limit": "2"}, ["settings.update", "reveal"]),
        (
            {"after": "2000-01-01T00:00:00Z", "before": "2999-01-01T00:00:00Z"},
            ["settings.update", "reveal", "spam", "approve"],
        ),
        ({"before": "2000-01-01T00:00:00Z"}, []),
    ],
)
def test_audit_log_filters(
    client: FlaskClient,
    admin: dict[str, str],
    history: dict[str, int],
    params: dict[str, str],
    expected: list[str],
) -> None:
    query = {k: str(history[v]) if v in history else v for k, v in params.items()}
    entries = client.get(f"{BASE}/audit", query_string=query, headers=admin).json["entries"]
    assert [e["action"] for e in entries] == expected


def test_audit_log_filters_by_token_and_pages_with_a_cursor(
    client: FlaskClient, admin: dict[str, str], history: dict[str, int], session: Session
) -> None:
    moderator_token = session.scalars(
        select(AuditEntry.token_id).where(AuditEntry.action == Action.APPROVE)
    ).one()
    by_token = client.get(
        f"{BASE}/audit", query_string={"token_id": moderator_token}, headers=admin
    ).json["entries"]
    assert [e["action"] for e in by_token] == ["reveal", "approve"]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = client.get(f"{BASE}/audit", query_string=params, headers=admin).json
        seen += [e["action"] for e in page["entries"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == ["settings.update", "reveal", "spam", "approve"]


@pytest.mark.parametrize(
    "params",
    [
        {"action": "dance"},
        {"token_id": "x"},
        {"after": "later"},
        {"limit": "0"},
        # Ids past 64 bits reached SQLite and raised: a 500.
        {"token_id": str(2**63)},
        {"comment_id": str(2**63)},
        {"cursor": str(2**63)},
    ],
)
def test_bad_audit_filters_get_422(
    client: FlaskClient, admin: dict[str, str], params: dict[str, str]
) -> None:
    assert client.get(f"{BASE}/audit", query_string=params, headers=admin).status_code == 422


def test_the_audit_log_refuses_updates_and_deletes_in_the_database(
    client: FlaskClient, history: dict[str, int], session: Session
) -> None:
    for statement in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert len(session.scalars(select(AuditEntry)).all()) == 4
