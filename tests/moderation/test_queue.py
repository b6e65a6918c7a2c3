"""The moderation queue: GET /api/v1/moderation/comments and GET .../comments/{id}."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.db import utcnow
from service.moderation.models import Action, AuditEntry, Role
from service.sites.models import Site

QUEUE = "/api/v1/moderation/comments"
DOC_QUEUE = "/api/v1/moderation/comments"
DOC_DETAIL = "/api/v1/moderation/comments/{comment_id}"


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [c["id"] for c in response.json["comments"]]


def backdate(session: Session, comment_id: int, minutes_ago: int) -> None:
    session.expire_all()
    comment = session.get_one(Comment, comment_id)
    comment.created_at = utcnow() - dt.timedelta(minutes=minutes_ago)
    session.commit()


@pytest.fixture
def queue(submit: Any, session: Session, decide_directly: Any, run_check: Any) -> dict[str, int]:
    """Five comments on two articles by three authors, in known order and states."""
    made = {
        "old_pending": submit("First, about the convoy.", email="ann@example.com"),
        "approved": submit("Second: thanks for this.", email="bob@example.com", ip="198.51.100.2"),
        "spam": submit("Cheap pills here", email="spam@bots.example", honeypot="x"),
        "other_article": submit(
            "On another story.", email="dan@example.com", article="2018/budget"
        ),
        "new_pending": submit("Latest thoughts on the CONVOY route.", email="ann@example.com"),
    }
    for age, key in zip((50, 40, 30, 20, 10), made, strict=True):
        backdate(session, made[key], age)
    run_check(made["spam"])
    decide_directly(Status.APPROVED, made["approved"])
    return made


def test_queue_is_oldest_first_with_counts_per_status(
    client: FlaskClient, moderator: dict[str, str], queue: dict[str, int], documented: Any
) -> None:
    response = client.get(QUEUE, headers=moderator)
    documented(response, DOC_QUEUE, "get")
    assert ids(response) == list(queue.values())
    assert response.json["counts"] == {
        "pending": 3,
        "approved": 1,
        "rejected": 0,
        "spam": 1,
        "deleted": 0,
    }
    assert response.json["next_cursor"] is None


def test_queue_is_newest_first_on_request(
    client: FlaskClient, moderator: dict[str, str], queue: dict[str, int]
) -> None:
    response = client.get(QUEUE, query_string={"sort": "newest"}, headers=moderator)
    assert ids(response) == list(reversed(queue.values()))


def test_status_filter_narrows_the_list_but_not_the_counts(
    client: FlaskClient, moderator: dict[str, str], queue: dict[str, int]
) -> None:
    response = client.get(QUEUE, query_string={"status": "pending"}, headers=moderator)
    assert ids(response) == [queue["old_pending"], queue["other_article"], queue["new_pending"]]
    assert response.json["counts"]["approved"] == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"article": "2018/budget"}, ["other_article"]),
        ({"verdict": "spam"}, ["spam"]),
        ({"author": "ANN@example.com"}, ["old_pending", "new_pending"]),
        ({"ip": "198.51.100.2"}, ["approved"]),
        ({"q": "convoy"}, ["old_pending", "new_pending"]),
        ({"q": "100%"}, []),
        ({"author": "ann@example.com", "q": "route"}, ["new_pending"]),
        ({"status": "pending", "article": "2018/convoy"}, ["old_pending", "new_pending"]),
    ],
)
def test_filters_select_the_matching_comments(
    client: FlaskClient,
    moderator: dict[str, str],
    queue: dict[str, int],
    params: dict[str, str],
    expected: list[str],
) -> None:
    response = client.get(QUEUE, query_string=params, headers=moderator)
    assert ids(response) == [queue[k] for k in expected]


def test_created_before_and_after_bound_the_list(
    client: FlaskClient, moderator: dict[str, str], queue: dict[str, int]
) -> None:
    now = utcnow()
    window = {
        "created_after": (now - dt.timedelta(minutes=45)).isoformat(),
        "created_before": (now - dt.timedelta(minutes=15)).isoformat(),
    }
    response = client.get(QUEUE, query_string=window, headers=moderator)
    assert ids(response) == [queue["approved"], queue["spam"], queue["other_article"]]


def test_counts_follow_the_other_filters(
    client: FlaskClient, moderator: dict[str, str], queue: dict[str, int]
) -> None:
    response = client.get(QUEUE, query_string={"author": "bob@example.com"}, headers=moderator)
    assert response.json["counts"] == {
        "pending": 0,
        "approved": 1,
        "rejected": 0,
        "spam": 0,
        "deleted": 0,
    }


def test_counts_stop_at_the_cap_which_the_response_names(
    client: FlaskClient, moderator: dict[str, str], queue: dict[str, int]
) -> None:
    client.application.config["MODERATION_COUNT_CAP"] = 2
    response = client.get(QUEUE, headers=moderator)
    assert response.json["counts"]["pending"] == 2  # three are pending: "at least 2"
    assert response.json["counts"]["approved"] == 1
    assert response.json["counts_capped_at"] == 2
    assert len(response.json["comments"]) == 5  # the page itself is not capped


@pytest.mark.parametrize("sort", ["oldest", "newest"])
def test_cursor_pages_walk_every_comment_once(
    client: FlaskClient, moderator: dict[str, str], queue: dict[str, int], sort: str
) -> None:
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2, "sort": sort}
    for _ in range(5):
        page = client.get(QUEUE, query_string=params, headers=moderator)
        seen += ids(page)
        if page.json["next_cursor"] is None:
            break
        params["cursor"] = page.json["next_cursor"]
    expected = list(queue.values())
    assert seen == (expected if sort == "oldest" else expected[::-1])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "hidden"}, "status"),
        ({"verdict": "maybe"}, "verdict"),
        ({"author": "not-an-email"}, "author"),
        ({"ip": "999.1.1.1"}, "ip"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"sort": "random"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "!!"}, "cursor"),
        # A cursor naming comment 2**63 (one we never gave out) raised in SQLite: a 500.
        (
            {"cursor": "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiw5MjIzMzcyMDM2ODU0Nzc1ODA4XQ"},
            "cursor",
        ),
        # ["2026-01-01T00:00:00", 5]: a time without its zone (a 500 before).
        ({"cursor": "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiw1XQ"}, "cursor"),
        ({"reveal": "perhaps"}, "reveal"),
    ],
)
def test_bad_parameters_get_422_naming_the_parameter(
    client: FlaskClient,
    moderator: dict[str, str],
    site: Site,
    params: dict[str, str],
    field: str,
    documented: Any,
) -> None:
    response = client.get(QUEUE, query_string=params, headers=moderator)
    assert response.status_code == 422
    documented(response, DOC_QUEUE, "get")
    assert [e["field"] for e in response.json["errors"]] == [field]


def test_item_shows_article_verdict_author_history_and_parent(
    client: FlaskClient,
    moderator: dict[str, str],
    submit: Any,
    decide_directly: Any,
    run_check: Any,
) -> None:
    parent = submit("The parent comment.", email="bob@example.com")
    decide_directly(Status.APPROVED, parent)
    earlier = submit("An earlier one.", email="carol@example.com")
    decide_directly(Status.REJECTED, earlier)
    reply = submit("A reply with https://a.example https://b.example https://c.example",
                   email="carol@example.com", parent_id=parent)  # fmt: skip
    run_check(reply)
    response = client.get(QUEUE, query_string={"q": "A reply with"}, headers=moderator)
    [item] = response.json["comments"]
    assert item["id"] == reply
    assert item["article"]["key"] == "2018/convoy"
    assert item["article"]["approved_count"] == 1
    assert item["parent"] == {
        "id": parent,
        "author_name": "Ann Reader",
        "body": "The parent comment.",
        "status": "approved",
        "created_at": item["parent"]["created_at"],
    }
    history = item["author"]["history"]
    assert history["rejected"] == 1
    assert history["pending"] + history["spam"] + history["approved"] == 1
    assert item["verdict"]["verdict"] in ("unsure", "spam")
    assert item["verdict"]["score"] > 0
    assert "LINKS" in {r["code"] for r in item["verdict"]["reasons"]}
    assert item["private"] is None
    assert "carol@example.com" not in response.get_data(as_text=True)


def test_private_fields_appear_only_on_reveal_and_each_reveal_is_audited(
    client: FlaskClient,
    moderator: dict[str, str],
    queue: dict[str, int],
    session: Session,
    documented: Any,
) -> None:
    hidden = client.get(QUEUE, headers=moderator)
    assert "ann@example.com" not in hidden.get_data(as_text=True)
    assert "203.0.113.7" not in hidden.get_data(as_text=True)
    assert session.scalars(select(AuditEntry)).all() == []

    shown = client.get(
        QUEUE, query_string={"status": "pending", "reveal": "true"}, headers=moderator
    )
    documented(shown, DOC_QUEUE, "get")
    private = {c["id"]: c["private"] for c in shown.json["comments"]}
    assert private[queue["old_pending"]]["email"] == "ann@example.com"
    assert private[queue["old_pending"]]["ip"] == "203.0.113.7"
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.comment_id) for e in entries] == [
        (Action.REVEAL, comment_id) for comment_id in private
    ]
    assert all(e.actor == "test" and e.token_id is not None for e in entries)


def test_searching_by_author_is_audited_without_the_email(
    client: FlaskClient, moderator: dict[str, str], queue: dict[str, int], session: Session
) -> None:
    client.get(QUEUE, query_string={"author": "ann@example.com"}, headers=moderator)
    [entry] = session.scalars(select(AuditEntry)).all()
    assert entry.action == Action.SEARCH_PRIVATE
    assert entry.detail == {"by": ["author"]}
    assert "ann" not in str(entry.detail) + (entry.subject or "")


def test_detail_has_the_history_and_the_version_as_etag(
    client: FlaskClient, moderator: dict[str, str], submit: Any, documented: Any
) -> None:
    comment_id = submit("Judge me.")
    url = f"{QUEUE}/{comment_id}"
    decided = client.post(
        f"{url}/decision", json={"action": "reject", "reason": "Off topic"}, headers=moderator
    )
    assert decided.status_code == 200
    response = client.get(url, headers=moderator)
    documented(response, DOC_DETAIL, "get")
    assert response.headers["ETag"] == f'"{response.json["version"]}"'
    [change] = response.json["history"]
    assert (change["action"], change["from_status"], change["to_status"]) == (
        "reject",
        "pending",
        "rejected",
    )
    assert change["reason"] == "Off topic"
    assert change["actor"] == "test"


def test_detail_reveal_is_audited_for_that_comment(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session
) -> None:
    comment_id = submit("Who wrote me?")
    response = client.get(f"{QUEUE}/{comment_id}?reveal=true", headers=moderator)
    assert response.json["private"]["email"] == "ann@example.com"
    [entry] = session.scalars(select(AuditEntry)).all()
    assert (entry.action, entry.comment_id) == (Action.REVEAL, comment_id)
    assert entry.detail == {"fields": ["email", "ip", "user_agent", "referrer"]}


def test_queue_spans_every_site_of_the_token_unless_one_is_named(
    client: FlaskClient, make_site: Any, issue: Any, submit: Any
) -> None:
    make_site("news")
    make_site("sports")
    on_news = submit("News comment.")
    on_sports = submit("Sports comment.", site="sports")
    both = {"Authorization": f"Bearer {issue(Role.MODERATOR, 'news', 'sports')}"}
    assert ids(client.get(QUEUE, headers=both)) == [on_news, on_sports]
    assert ids(client.get(QUEUE, query_string={"site": "sports"}, headers=both)) == [on_sports]


def test_detail_refuses_a_reveal_that_is_not_true_or_false(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session
) -> None:
    response = client.get(f"{QUEUE}/{submit('Hm.')}?reveal=perhaps", headers=moderator)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "reveal"
    assert session.scalars(select(AuditEntry)).all() == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/moderation/comments?created_after=0001-01-01T00:00:00%2B14:00", None),
        ("GET", "/api/v1/moderation/audit?after=9999-12-31T23:00:00-14:00", None),
        (
            "POST",
            "/api/v1/moderation/sites/news/blocks",
            {"kind": "word", "value": "x", "expires_at": "9999-12-31T23:59:59-14:00"},
        ),
    ],
)
def test_a_time_past_the_calendar_in_utc_is_a_422(
    client: FlaskClient, admin: dict[str, str], method: str, path: str, body: Any
) -> None:
    # Each was an OverflowError, a 500, when turned into UTC.
    response = client.open(path, method=method, json=body, headers=admin)
    assert response.status_code == 422
    assert "between the years 1 and 9999" in response.json["errors"][0]["detail"]
