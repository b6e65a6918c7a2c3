"""Reading an article's public thread: GET /api/v1/sites/{site}/articles/{article}/comments."""

from __future__ import annotations

import base64
import datetime as dt
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.comments.services import set_status
from service.db import session_scope
from service.extensions import sessions
from service.sites.models import Article, Site

URL = "/api/v1/sites/news/articles/story/comments"


def submit(client: FlaskClient, body: str, parent_id: int | None = None, **extra: Any) -> int:
    data = {"name": "Reader", "email": "r@example.com", "body": body, **extra}
    if parent_id:
        data["parent_id"] = parent_id
    response = client.post(URL, json=data)
    assert response.status_code == 202, response.json
    return int(response.json["id"])


def approve(session: Session, *ids: int, status: Status = Status.APPROVED) -> None:
    session.expire_all()
    for comment_id in ids:
        set_status(session, session.get_one(Comment, comment_id), status)
    session.commit()


def published(
    client: FlaskClient, session: Session, body: str, parent_id: int | None = None
) -> int:
    comment_id = submit(client, body, parent_id)
    approve(session, comment_id)
    return comment_id


def bodies(comments: list[dict[str, Any]]) -> list[str]:
    return [c["body_html"] for c in comments]


def test_only_approved_comments_are_shown(
    client: FlaskClient, site: Site, session: Session
) -> None:
    shown = published(client, session, "shown")
    pending = submit(client, "pending")
    spam = submit(client, "spam")
    approve(session, spam, status=Status.SPAM)
    thread = client.get(URL).json
    assert [c["id"] for c in thread["comments"]] == [shown]
    assert thread["article"]["comment_count"] == 1
    assert "pending" not in str(thread)
    assert pending != shown


def test_replies_nest_under_their_parents(
    client: FlaskClient, site: Site, session: Session
) -> None:
    top = published(client, session, "top")
    reply = published(client, session, "reply", top)
    reply_to_reply = published(client, session, "deeper", reply)
    thread = client.get(URL).json
    (root,) = thread["comments"]
    assert root["id"] == top
    assert root["replies"][0]["id"] == reply
    assert root["replies"][0]["replies"][0]["id"] == reply_to_reply
    assert thread["article"]["comment_count"] == 3


def test_replies_deeper_than_the_limit_stay_at_the_last_level(
    client: FlaskClient, make_site: Any, session: Session
) -> None:
    make_site("news", thread_depth=2)
    top = published(client, session, "top")
    first = published(client, session, "first", top)
    second = published(client, session, "second", first)
    (root,) = client.get(URL).json["comments"]
    assert [r["id"] for r in root["replies"]] == [first, second]
    assert root["replies"][1]["parent_id"] == first  # still says whom it answers


def test_oldest_first_by_default_and_newest_on_request(
    client: FlaskClient, site: Site, session: Session
) -> None:
    ids = [published(client, session, f"c{i}") for i in range(3)]
    assert [c["id"] for c in client.get(URL).json["comments"]] == ids
    newest = client.get(URL + "?sort=newest").json["comments"]
    assert [c["id"] for c in newest] == ids[::-1]


def test_pages_by_top_level_comment_with_a_cursor(
    client: FlaskClient, site: Site, session: Session
) -> None:
    ids = [published(client, session, f"c{i}") for i in range(5)]
    reply = published(client, session, "reply to c0", ids[0])
    seen: list[int] = []
    url = URL + "?limit=2"
    pages = 0
    while url:
        page = client.get(url).json
        seen += [c["id"] for c in page["comments"]]
        pages += 1
        url = URL + f"?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert seen == ids
    assert pages == 3
    first_page = client.get(URL + "?limit=2").json
    assert first_page["comments"][0]["replies"][0]["id"] == reply


@pytest.mark.parametrize("removal", [Status.REJECTED, Status.SPAM, Status.DELETED])
def test_a_removed_comment_keeps_its_place_so_other_peoples_replies_stay(
    client: FlaskClient, site: Site, session: Session, removal: Status, documented: Any
) -> None:
    parent = published(client, session, "Parent")
    reply = published(client, session, "Reply", parent)
    approve(session, parent, status=removal)
    response = client.get(URL)
    documented(response, "/api/v1/sites/{site}/articles/{article}/comments", "get")
    thread = response.json
    assert thread["comments"] == [
        {
            "id": parent,
            "parent_id": None,
            "author": None,
            "body_html": "",
            "created_at": thread["comments"][0]["created_at"],
            "edited": False,
            "featured": False,
            "removed": True,
            "replies": [thread["comments"][0]["replies"][0]],
        }
    ]
    assert thread["comments"][0]["replies"][0]["id"] == reply
    # The count is of what readers see: the reply, not the placeholder.
    assert thread["article"]["comment_count"] == 1


def test_a_placeholder_deep_in_a_thread_keeps_the_replies_below_it(
    client: FlaskClient, site: Site, session: Session
) -> None:
    root = published(client, session, "Root")
    middle = published(client, session, "Middle", root)
    leaf = published(client, session, "Leaf", middle)
    approve(session, middle, status=Status.REJECTED)
    [shown] = client.get(URL).json["comments"]
    [placeholder] = shown["replies"]
    assert (placeholder["id"], placeholder.get("removed")) == (middle, True)
    assert [r["id"] for r in placeholder["replies"]] == [leaf]


def test_a_placeholder_goes_with_its_last_reply_and_returns_as_the_comment_when_approved(
    client: FlaskClient, site: Site, session: Session
) -> None:
    parent = published(client, session, "Parent")
    reply = published(client, session, "Reply", parent)
    approve(session, parent, status=Status.REJECTED)
    approve(session, parent)
    assert bodies(client.get(URL).json["comments"]) == ["<p>Parent</p>"]
    approve(session, parent, status=Status.REJECTED)
    approve(session, reply, status=Status.REJECTED)
    assert client.get(URL).json["comments"] == []


def test_a_placeholder_appearing_does_not_change_the_comments_version(
    client: FlaskClient, site: Site, session: Session
) -> None:
    # A moderator holding the rejected parent's version must still be able to decide it.
    parent = published(client, session, "Parent")
    reply = submit(client, "Reply", parent)
    approve(session, parent, status=Status.REJECTED)
    version = session.get_one(Comment, parent).version
    approve(session, reply)
    session.expire_all()
    held = session.get_one(Comment, parent)
    assert (held.listed, held.version) == (True, version)


def test_newest_first_pagination_walks_backwards(
    client: FlaskClient, site: Site, session: Session
) -> None:
    ids = [published(client, session, f"c{i}") for i in range(3)]
    page = client.get(URL + "?limit=2&sort=newest").json
    rest = client.get(URL + f"?limit=2&sort=newest&cursor={page['next_cursor']}").json
    assert [c["id"] for c in page["comments"] + rest["comments"]] == ids[::-1]
    assert rest["next_cursor"] is None


def test_every_bad_parameter_is_named_at_once(client: FlaskClient, site: Site) -> None:
    response = client.get(f"{URL}?limit=abc&sort=sideways&cursor=garbage!")
    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {"limit", "sort", "cursor"}


def test_bad_parameters_are_422(client: FlaskClient, site: Site) -> None:
    # A cursor naming comment 2**63 (one we never gave out) raised in SQLite: a 500.
    past_any_id = base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00",9223372036854775808]')
    huge_cursor = "cursor=" + past_any_id.decode().rstrip("=")
    # A hand-made cursor whose time has no zone could not be compared with stored times: a 500.
    naive = base64.urlsafe_b64encode(b'["2026-01-01T00:00:00",5]')
    naive_cursor = "cursor=" + naive.decode().rstrip("=")
    for query in (
        "sort=random",
        "limit=0",
        "limit=1000",
        "limit=ten",
        "cursor=garbage!",
        huge_cursor,
        naive_cursor,
    ):
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 422, query
        assert response.content_type == "application/problem+json"


def test_etag_answers_304_until_the_thread_changes(
    client: FlaskClient, site: Site, session: Session
) -> None:
    published(client, session, "first")
    first = client.get(URL)
    etag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    submit(client, "pending comments do not change what readers see")
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    published(client, session, "second")
    changed = client.get(URL, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_unpublishing_a_comment_changes_the_etag_and_the_count(
    client: FlaskClient, site: Site, session: Session
) -> None:
    comment_id = published(client, session, "soon gone")
    etag = client.get(URL).headers["ETag"]
    approve(session, comment_id, status=Status.DELETED)
    response = client.get(URL, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.json["comments"] == []
    assert response.json["article"]["comment_count"] == 0


def test_featured_comments_come_first(client: FlaskClient, site: Site, session: Session) -> None:
    first = published(client, session, "first")
    pinned = published(client, session, "pinned")
    session.get_one(Comment, pinned).featured = True
    session.get_one(Article, session.get_one(Comment, pinned).article_id).thread_version += 1
    session.commit()
    ids = [c["id"] for c in client.get(URL).json["comments"]]
    assert ids == [pinned, first]


def test_article_nobody_commented_on_is_an_empty_thread(client: FlaskClient, site: Site) -> None:
    thread = client.get("/api/v1/sites/news/articles/untouched/comments").json
    assert thread["comments"] == []
    assert thread["article"]["comment_count"] == 0


def test_closed_article_says_so(client: FlaskClient, make_site: Any, session: Session) -> None:
    make_site("news", close_after_days=7)
    published(client, session, "old news")
    article = session.query(Article).one()
    article.created_at = article.created_at - dt.timedelta(days=8)
    session.commit()
    assert client.get(URL).json["article"]["closed"] is True
    response = client.post(URL, json={"name": "Late", "email": "l@example.com", "body": "Hi"})
    assert response.status_code == 403


def test_author_sees_own_pending_comment_with_token_others_do_not(
    client: FlaskClient, site: Site
) -> None:
    response = client.post(URL, json={"name": "Ann", "email": "a@example.com", "body": "Mine"})
    comment_id, token = response.json["id"], response.json["author_token"]
    url = f"/api/v1/sites/news/comments/{comment_id}"
    own = client.get(url, headers={"Vetted-Author-Token": token})
    assert own.status_code == 200
    assert own.json["status"] == "pending"
    assert client.get(url).status_code == 404
    other = client.post(URL, json={"name": "Bo", "email": "b@example.com", "body": "x"}).json
    assert (
        client.get(url, headers={"Vetted-Author-Token": other["author_token"]}).status_code == 404
    )


def test_an_app_wide_default_limit_still_applies_to_reads(make_app: Any, site: Site) -> None:
    # Reads skip the limiter only while no app-wide limit is set (service.extensions).
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute").test_client()
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]


def test_a_process_trusts_a_thread_version_for_the_ttl_then_reads_it_again(
    make_app: Any, site: Site, session: Session
) -> None:
    # `session` belongs to another app: its changes reach this one as another process's would.
    client = make_app(THREAD_VERSION_TTL=0.5).test_client()
    published(client, session, "first")
    before = client.get(URL)
    published(client, session, "second")
    within_ttl = client.get(URL)
    assert within_ttl.headers["ETag"] == before.headers["ETag"]
    assert bodies(within_ttl.json["comments"]) == bodies(before.json["comments"])
    time.sleep(0.6)
    after = client.get(URL)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert len(after.json["comments"]) == 2


def test_with_no_ttl_every_read_sees_the_latest_version(
    make_app: Any, site: Site, session: Session
) -> None:
    client = make_app(THREAD_VERSION_TTL=0).test_client()
    published(client, session, "first")
    client.get(URL)
    published(client, session, "second")
    assert len(client.get(URL).json["comments"]) == 2


def test_a_change_made_through_this_process_shows_at_once(make_app: Any, site: Site) -> None:
    app = make_app(THREAD_VERSION_TTL=60)
    client = app.test_client()
    with app.app_context(), session_scope(sessions(app)) as own:
        published(client, own, "first")
        assert len(client.get(URL).json["comments"]) == 1
        published(client, own, "second")
        assert len(client.get(URL).json["comments"]) == 2
