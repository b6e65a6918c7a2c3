"""Decisions, one at a time and in bulk, edits, features and locks, and their races."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from service.comments.models import Comment, Status
from service.events import EventType, listen
from service.extensions import sessions
from service.moderation.models import Action, AuditEntry, CommentChange
from service.sites.models import Article, Site
from service.spam.feedback import Label, Source, SpamFeedback

BASE = "/api/v1/moderation"
THREAD = "/api/v1/sites/news/articles/2018/convoy/comments"


def decide(
    client: FlaskClient, headers: dict[str, str], comment_id: int, action: str, **kw: Any
) -> Any:
    extra = kw.pop("extra_headers", {})
    return client.post(
        f"{BASE}/comments/{comment_id}/decision",
        json={"action": action, **kw},
        headers={**headers, **extra},
    )


def status_of(session: Session, comment_id: int) -> Status:
    session.expire_all()
    return session.get_one(Comment, comment_id).status


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("approve", "approved"),
        ("reject", "rejected"),
        ("spam", "spam"),
        ("ham", "approved"),
        ("delete", "deleted"),
    ],
)
def test_each_decision_leaves_the_comment_in_its_status(
    client: FlaskClient,
    moderator: dict[str, str],
    submit: Any,
    session: Session,
    action: str,
    status: str,
    documented: Any,
) -> None:
    comment_id = submit("Decide on me.")
    response = decide(client, moderator, comment_id, action, reason="Because.")
    documented(response, "/api/v1/moderation/comments/{comment_id}/decision", "post")
    assert response.status_code == 200
    assert response.json["status"] == status
    assert response.headers["ETag"] == f'"{response.json["version"]}"'
    assert status_of(session, comment_id) == Status(status)
    [entry] = session.scalars(select(AuditEntry)).all()
    assert (entry.action, entry.comment_id) == (Action(action), comment_id)
    assert entry.detail == {"from": "pending", "to": status}


def test_approval_publishes_and_rejection_unpublishes(
    client: FlaskClient, moderator: dict[str, str], submit: Any
) -> None:
    comment_id = submit("Publish me.")
    assert client.get(THREAD).json["comments"] == []
    decide(client, moderator, comment_id, "approve")
    thread = client.get(THREAD).json
    assert [c["id"] for c in thread["comments"]] == [comment_id]
    assert thread["article"]["comment_count"] == 1
    decide(client, moderator, comment_id, "reject")
    assert client.get(THREAD).json["comments"] == []


def test_spam_and_ham_decisions_are_recorded_as_feedback_once(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session, site: Site
) -> None:
    spam = submit("Buy followers now")
    ham = submit("A thoughtful reply.")
    decide(client, moderator, spam, "spam")
    decide(client, moderator, spam, "spam")
    decide(client, moderator, ham, "ham")
    decide(client, moderator, ham, "approve")
    rows = session.scalars(select(SpamFeedback).order_by(SpamFeedback.id)).all()
    assert [(r.comment_id, r.label, r.source, r.body, r.site_id) for r in rows] == [
        (spam, Label.SPAM, Source.MODERATOR, "Buy followers now", site.id),
        (ham, Label.HAM, Source.MODERATOR, "A thoughtful reply.", site.id),
    ]


def test_a_repeated_decision_changes_nothing(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session
) -> None:
    comment_id = submit("Approve me twice.")
    first = decide(client, moderator, comment_id, "approve")
    second = decide(client, moderator, comment_id, "approve")
    assert second.json["version"] == first.json["version"]
    changes = session.scalar(select(func.count()).select_from(CommentChange))
    assert changes == 1


def test_unknown_action_gets_422(
    client: FlaskClient, moderator: dict[str, str], submit: Any, documented: Any
) -> None:
    response = decide(client, moderator, submit("x y z"), "publish")
    assert response.status_code == 422
    documented(response, "/api/v1/moderation/comments/{comment_id}/decision", "post")
    assert response.json["errors"][0]["field"] == "action"


@pytest.mark.parametrize("action", [{}, []])
def test_an_action_that_is_an_object_or_a_list_gets_422_not_500(
    client: FlaskClient, moderator: dict[str, str], submit: Any, action: Any
) -> None:
    # Found by tests/test_fuzz.py: an unhashable action raised TypeError (a 500).
    comment_id = submit("x y z")
    response = decide(client, moderator, comment_id, action, reason="")
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "action"
    bulk_response = client.post(
        f"{BASE}/comments/decisions",
        json={"action": action, "reason": "", "ids": [0]},
        headers=moderator,
    )
    assert bulk_response.status_code == 422
    assert bulk_response.json["errors"][0]["field"] == "action"


def test_a_decision_on_a_comment_id_past_any_row_is_404_not_500(
    client: FlaskClient, moderator: dict[str, str], site: Site
) -> None:
    # Found by tests/test_fuzz.py: SQLite cannot bind 2**63, and the lookup raised (a 500).
    response = decide(client, moderator, 2**63, "ham")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_if_match_with_an_old_version_gets_412_with_the_current_state(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session, documented: Any
) -> None:
    comment_id = submit("Two moderators look at me.")
    seen = client.get(f"{BASE}/comments/{comment_id}", headers=moderator).headers["ETag"]
    first = decide(client, moderator, comment_id, "approve", extra_headers={"If-Match": seen})
    assert first.status_code == 200
    late = decide(client, moderator, comment_id, "reject", extra_headers={"If-Match": seen})
    assert late.status_code == 412
    documented(late, "/api/v1/moderation/comments/{comment_id}/decision", "post")
    assert late.json["current"]["status"] == "approved"
    assert late.json["current"]["version"] == first.json["version"]
    assert status_of(session, comment_id) == Status.APPROVED
    fresh = decide(
        client, moderator, comment_id, "reject", extra_headers={"If-Match": first.headers["ETag"]}
    )
    assert fresh.status_code == 200


@pytest.fixture
def concurrent_writer(app: Flask) -> Iterator[Any]:
    """Makes another moderator's change commit just before the request's own flush."""
    factory = sessions(app)
    engine = app.extensions["vetted.engine"]
    armed: dict[str, Any] = {}

    def interleave(session: Session, _context: Any, _instances: Any) -> None:
        comment_id = armed.pop("comment_id", None)
        if comment_id is None or not any(isinstance(o, Comment) for o in session.dirty):
            armed.update({"comment_id": comment_id} if comment_id else {})
            return
        with engine.begin() as other:
            other.execute(
                text(
                    "UPDATE comments SET status = 'rejected', version = version + 1 WHERE id = :id"
                ),
                {"id": comment_id},
            )

    event.listen(factory, "before_flush", interleave)
    yield lambda comment_id: armed.update(comment_id=comment_id)
    event.remove(factory, "before_flush", interleave)


def test_losing_a_race_gets_409_with_the_winners_state(
    client: FlaskClient,
    moderator: dict[str, str],
    submit: Any,
    session: Session,
    concurrent_writer: Any,
    documented: Any,
) -> None:
    comment_id = submit("Both moderators click at once.")
    concurrent_writer(comment_id)
    response = decide(client, moderator, comment_id, "approve")
    assert response.status_code == 409
    documented(response, "/api/v1/moderation/comments/{comment_id}/decision", "post")
    assert response.json["current"]["status"] == "rejected"
    assert response.json["current"]["version"] == 2
    assert status_of(session, comment_id) == Status.REJECTED
    assert session.scalars(select(AuditEntry)).all() == []


def test_losing_a_race_on_an_edit_gets_409_too(
    client: FlaskClient, moderator: dict[str, str], submit: Any, concurrent_writer: Any
) -> None:
    comment_id = submit("Edit me while someone rejects me.")
    concurrent_writer(comment_id)
    response = client.patch(
        f"{BASE}/comments/{comment_id}", json={"body": "Edited."}, headers=moderator
    )
    assert response.status_code == 409
    assert response.json["current"]["body"] == "Edit me while someone rejects me."


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on a real threaded HTTP server on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def race(base: str, headers: dict[str, str], comment_id: int) -> dict[str, int]:
    """Sends approve and reject for one comment at the same moment; the status of each."""
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def send(action: str) -> None:
        request = urllib.request.Request(
            f"{base}{BASE}/comments/{comment_id}/decision",
            data=orjson.dumps({"action": action}),
            headers={**headers, "Content-Type": "application/json", "If-Match": '"1"'},
            method="POST",
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                codes[action] = response.status
        except urllib.error.HTTPError as exc:
            codes[action] = exc.code

    threads = [threading.Thread(target=send, args=(a,)) for a in ("approve", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    return codes


def test_two_moderators_deciding_at_once_cannot_both_win(
    live_server: str, moderator: dict[str, str], submit: Any, session: Session
) -> None:
    for round_ in range(4):
        comment_id = submit(f"Race number {round_}.")
        codes = race(live_server, moderator, comment_id)
        assert sorted(codes.values())[0] == 200, codes
        assert sorted(codes.values())[1] in (409, 412), codes
        winner = next(a for a, code in codes.items() if code == 200)
        expected = {"approve": Status.APPROVED, "reject": Status.REJECTED}[winner]
        assert status_of(session, comment_id) == expected


def bulk(
    client: FlaskClient, headers: dict[str, str], ids: list[Any], action: str = "approve"
) -> Any:
    return client.post(
        f"{BASE}/comments/decisions", json={"action": action, "ids": ids}, headers=headers
    )


def test_bulk_decision_applies_to_every_comment_with_a_result_each(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session, documented: Any
) -> None:
    first, second, third = (submit(f"Comment {n}.") for n in range(3))
    decide(client, moderator, third, "approve")
    response = bulk(client, moderator, [first, second, third, first])
    documented(response, "/api/v1/moderation/comments/decisions", "post")
    assert response.status_code == 200
    assert response.json["applied"] == 2
    assert [(r["id"], r["outcome"], r["status"]) for r in response.json["results"]] == [
        (first, "changed", "approved"),
        (second, "changed", "approved"),
        (third, "unchanged", "approved"),
    ]
    assert client.get(THREAD).json["article"]["comment_count"] == 3


def test_bulk_with_one_unknown_id_applies_nothing_and_says_which(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session, documented: Any
) -> None:
    first, second = submit("One."), submit("Two.")
    response = bulk(client, moderator, [first, 99999, second], "spam")
    documented(response, "/api/v1/moderation/comments/decisions", "post")
    assert response.status_code == 409
    assert response.json["applied"] == 0
    assert [(r["id"], r["outcome"]) for r in response.json["results"]] == [
        (first, "ready"),
        (99999, "not_found"),
        (second, "ready"),
    ]
    assert status_of(session, first) == status_of(session, second) == Status.PENDING
    assert session.scalars(select(SpamFeedback)).all() == []
    assert session.scalars(select(AuditEntry)).all() == []


def test_bulk_treats_another_sites_comment_as_unknown(
    client: FlaskClient, moderator: dict[str, str], submit: Any, make_site: Any, session: Session
) -> None:
    make_site("sports")
    ours, theirs = submit("Ours."), submit("Theirs.", site="sports")
    response = bulk(client, moderator, [ours, theirs])
    assert response.status_code == 409
    assert response.json["results"][1] == {"id": theirs, "outcome": "not_found"}
    assert status_of(session, theirs) == Status.PENDING


def test_bulk_with_a_stale_version_applies_nothing(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session
) -> None:
    first, second = submit("One."), submit("Two.")
    decide(client, moderator, second, "reject")
    response = bulk(client, moderator, [{"id": first, "version": 1}, {"id": second, "version": 1}])
    assert response.status_code == 409
    assert response.json["results"][1] == {
        "id": second,
        "outcome": "stale",
        "status": "rejected",
        "version": 2,
    }
    assert status_of(session, first) == Status.PENDING


@pytest.mark.parametrize(
    "ids",
    [[], "1,2", [0], [True], [{"version": 1}], [{"id": 1, "version": "x"}], [2**63]],
)
def test_bulk_with_malformed_ids_gets_422(
    client: FlaskClient, moderator: dict[str, str], site: Site, ids: Any
) -> None:
    assert bulk(client, moderator, ids).status_code == 422


def test_bulk_takes_500_comments_in_one_transaction_and_refuses_501(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session, site: Site
) -> None:
    template = session.get_one(Comment, submit("The first of many."))
    session.add_all(
        Comment(
            site_id=site.id,
            article_id=template.article_id,
            author_name="Many",
            avatar=template.avatar,
            body=f"Comment {n}",
            body_html=f"<p>Comment {n}</p>",
        )
        for n in range(500)
    )
    session.commit()
    ids = list(session.scalars(select(Comment.id).order_by(Comment.id)))
    assert len(ids) == 501
    refused = bulk(client, moderator, ids)
    assert refused.status_code == 422
    assert "500" in refused.json["errors"][0]["detail"]
    response = bulk(client, moderator, ids[:500] + ids[:2])  # repeated ids count once
    assert response.status_code == 200
    assert response.json["applied"] == 500
    session.expire_all()
    article = session.get_one(Article, template.article_id)
    assert article.approved_count == 500


def test_editing_keeps_the_original_and_shows_the_new_text(
    client: FlaskClient, moderator: dict[str, str], submit: Any, session: Session, documented: Any
) -> None:
    events: list[tuple[EventType, int]] = []

    def remember(_session: Session, event_type: EventType, subject: dict[str, Any]) -> None:
        if event_type == EventType.COMMENT_EDITED:
            events.append((event_type, subject["comment"].id))

    listen(remember)
    try:
        comment_id = submit("Call me on 555-0100, *really*.")
        decide(client, moderator, comment_id, "approve")
        before = client.get(THREAD).headers["ETag"]
        response = client.patch(
            f"{BASE}/comments/{comment_id}",
            json={"body": "Call me, *really*.", "reason": "Phone number removed"},
            headers=moderator,
        )
    finally:
        from service import events as event_module

        event_module._listeners.remove(remember)
    documented(response, "/api/v1/moderation/comments/{comment_id}", "patch")
    assert response.status_code == 200
    assert response.json["body_html"] == "<p>Call me, <em>really</em>.</p>"
    assert response.json["edited_at"] is not None
    assert events == [(EventType.COMMENT_EDITED, comment_id)]
    thread = client.get(THREAD)
    assert thread.headers["ETag"] != before
    assert thread.json["comments"][0]["edited"] is True
    assert "555-0100" not in thread.get_data(as_text=True)
    history = client.get(f"{BASE}/comments/{comment_id}", headers=moderator).json["history"]
    assert history[-1]["action"] == "edit"
    assert history[-1]["previous_body"] == "Call me on 555-0100, *really*."
    assert history[-1]["reason"] == "Phone number removed"


@pytest.mark.parametrize(
    ("patch", "field"),
    [({}, "body"), ({"body": " "}, "body"), ({"body": "x" * 10_001}, "body"),
     ({"featured": "yes"}, "featured"), ({"status": "approved"}, "status")],
)  # fmt: skip
def test_bad_patches_get_422(
    client: FlaskClient, moderator: dict[str, str], submit: Any, patch: dict[str, Any], field: str
) -> None:
    response = client.patch(
        f"{BASE}/comments/{submit('Hello there.')}", json=patch, headers=moderator
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == field


def test_a_patch_names_every_bad_field_at_once(
    client: FlaskClient, moderator: dict[str, str], submit: Any
) -> None:
    patch = {"featured": "yes", "body": 5, "reason": 5, "status": "approved"}
    response = client.patch(
        f"{BASE}/comments/{submit('Hello there.')}", json=patch, headers=moderator
    )
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "status", "detail": "Only body, featured and reason can be changed."},
        {"field": "body", "detail": "Write the new text of the comment."},
        {"field": "featured", "detail": "Use true or false."},
        {"field": "reason", "detail": "Must be text."},
    ]


def test_a_featured_comment_is_shown_first(
    client: FlaskClient, moderator: dict[str, str], submit: Any
) -> None:
    older, newer = submit("Older."), submit("Newer and better.")
    for comment_id in (older, newer):
        decide(client, moderator, comment_id, "approve")
    response = client.patch(f"{BASE}/comments/{newer}", json={"featured": True}, headers=moderator)
    assert response.json["featured"] is True
    thread = client.get(THREAD).json["comments"]
    assert [(c["id"], c["featured"]) for c in thread] == [(newer, True), (older, False)]
    client.patch(f"{BASE}/comments/{newer}", json={"featured": False}, headers=moderator)
    assert [c["id"] for c in client.get(THREAD).json["comments"]] == [older, newer]


def test_a_reply_cannot_be_featured(
    client: FlaskClient, moderator: dict[str, str], submit: Any
) -> None:
    parent = submit("Parent.")
    decide(client, moderator, parent, "approve")
    reply = submit("Reply.", parent_id=parent)
    response = client.patch(f"{BASE}/comments/{reply}", json={"featured": True}, headers=moderator)
    assert response.status_code == 422


def test_a_locked_article_takes_no_comments_until_unlocked(
    client: FlaskClient, moderator: dict[str, str], submit: Any, documented: Any
) -> None:
    submit("Before the lock.")
    url = f"{BASE}/sites/news/articles/2018/convoy"
    locked = client.patch(url, json={"locked": True}, headers=moderator)
    documented(locked, "/api/v1/moderation/sites/{site}/articles/{article}", "patch")
    assert (locked.json["locked"], locked.json["closed"]) == (True, True)
    refused = submit("After the lock.", expect=403)
    assert "closed" in refused.json["detail"]
    assert client.get(THREAD).json["article"]["closed"] is True
    client.patch(url, json={"locked": False}, headers=moderator)
    submit("After the unlock.")


def test_an_article_can_be_locked_before_its_first_comment(
    client: FlaskClient, moderator: dict[str, str], site: Site, submit: Any
) -> None:
    url = f"{BASE}/sites/news/articles/2018/sensitive"
    assert client.get(url, headers=moderator).status_code == 404
    assert client.patch(url, json={"locked": True}, headers=moderator).status_code == 200
    submit("First!", article="2018/sensitive", expect=403)
    assert client.get(url, headers=moderator).json["locked"] is True


def test_a_nul_character_anywhere_in_a_review_request_is_a_422_and_changes_nothing(
    client: FlaskClient,
    moderator: dict[str, str],
    admin: dict[str, str],
    submit: Any,
    session: Session,
) -> None:
    # Each was a 500 on PostgreSQL, which cannot store U+0000 in text.
    comment_id = submit("A fair report.")
    before = status_of(session, comment_id)
    refused = [
        decide(client, moderator, comment_id, "reject", reason="bad\x00reason"),
        client.get(f"{BASE}/comments?q=a%00b", headers=moderator),
        client.post(
            f"{BASE}/sites/news/blocks", json={"kind": "word", "value": "a\x00b"}, headers=moderator
        ),
        client.post(
            f"{BASE}/tokens",
            json={"sites": ["news"], "role": "moderator", "label": "a\x00b"},
            headers=admin,
        ),
    ]
    assert [r.status_code for r in refused] == [422] * 4
    assert [e["field"] for e in refused[0].json["errors"]] == ["reason"]
    assert [e["field"] for e in refused[1].json["errors"]] == ["q"]
    assert status_of(session, comment_id) == before
    assert client.get(f"{BASE}/sites/%00/settings", headers=admin).status_code == 404


def test_only_a_published_comment_can_be_featured_and_a_takedown_unpins_it(
    client: FlaskClient,
    moderator: dict[str, str],
    submit: Any,
    decide_directly: Any,
    session: Session,
) -> None:
    # A deleted comment could be featured, and a featured one taken down stayed pinned (as
    # its placeholder) beyond the page's limit.
    held = submit("Held for review.")
    refused = client.patch(f"{BASE}/comments/{held}", json={"featured": True}, headers=moderator)
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "featured"
    first, pinned = submit("The first word."), submit("Worth pinning.")
    decide_directly(Status.APPROVED, first, pinned)
    reply = submit("A reply under it.", parent_id=pinned)
    decide_directly(Status.APPROVED, reply)
    feature = client.patch(f"{BASE}/comments/{pinned}", json={"featured": True}, headers=moderator)
    assert feature.status_code == 200
    assert decide(client, moderator, pinned, "reject").status_code == 200
    session.expire_all()
    assert session.get_one(Comment, pinned).featured is False
    page = client.get(f"{THREAD}?limit=1").json
    assert [c["id"] for c in page["comments"]] == [first]
    assert page["next_cursor"] is not None
