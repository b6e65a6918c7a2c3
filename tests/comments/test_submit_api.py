"""Submitting a comment: POST /api/v1/sites/{site}/articles/{article}/comments."""

from __future__ import annotations

import datetime as dt
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.comments.services import set_status
from service.extensions import vault
from service.moderation.audit import Actor
from service.moderation.blocks import BlockSpec, create_block
from service.moderation.models import BlockKind
from service.sites.models import Site
from tests.conftest import REDIS_URL, require_server

URL = "/api/v1/sites/news/articles/2018-05-28-convoy/comments"
VALID = {"name": "Ann Reader", "email": "ann@example.com", "body": "A fair report."}


def post(client: FlaskClient, url: str = URL, **fields: Any) -> Any:
    return client.post(url, json={**VALID, **fields})


def field_errors(response: Any) -> dict[str, str]:
    assert response.content_type == "application/problem+json"
    return {e["field"]: e["detail"] for e in response.json["errors"]}


def posted_then(client: FlaskClient, session: Session, status: Status) -> Comment:
    """A comment posted through the API (the VALID one), then moved to ``status``."""
    comment = session.get_one(Comment, post(client).json["id"])
    set_status(session, comment, status)
    session.commit()
    return comment


def count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Comment)) or 0)


def test_valid_comment_is_accepted_pending_with_an_author_token(
    client: FlaskClient, site: Site
) -> None:
    response = post(client)
    assert response.status_code == 202
    assert response.json["status"] == "pending"
    assert isinstance(response.json["id"], int)
    assert response.json["author_token"]
    assert response.json["comment"]["author"]["name"] == "Ann Reader"
    assert response.headers["Location"].endswith(f"/comments/{response.json['id']}")


def test_form_encoded_submission_is_accepted(client: FlaskClient, site: Site) -> None:
    response = client.post(URL, data={**VALID, "website": "https://ann.example"})
    assert response.status_code == 202
    assert response.json["comment"]["author"]["website"] == "https://ann.example"


def test_article_is_created_on_first_comment_with_host_metadata(
    client: FlaskClient, site: Site
) -> None:
    post(client, article_url="https://news.example/convoy", article_title="The convoy")
    thread = client.get(URL).json
    assert thread["article"]["url"] == "https://news.example/convoy"
    assert thread["article"]["title"] == "The convoy"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": None}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"email": None}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "ann@"}, "email"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "ftp://files.example"}, "website"),
        ({"body": ""}, "body"),
        ({"body": " \n "}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"parent_id": "abc"}, "parent_id"),
        # Found by tests/test_fuzz.py: ids past 64 bits reached SQLite and raised (a 500).
        ({"parent_id": 2**63}, "parent_id"),
        ({"name": ["a list"]}, "name"),
        # A right-to-left override makes "Ann\u202eoc.liamg" read "Anngmail.co".
        ({"name": "Ann\u202eoc.liamg"}, "name"),
        ({"name": "Ann\u200b"}, "name"),
        ({"name": "Ann\x7f"}, "name"),
        # Names are published: an email typed as one would be too.
        ({"name": "carol.reader@example.org"}, "name"),
        ({"name": "Carol (carol@example.org)"}, "name"),
        ({"name": "carol\uff20example.org"}, "name"),  # a fullwidth at sign
    ],
)
def test_invalid_field_gets_422_with_an_error_for_that_field(
    client: FlaskClient, site: Site, session: Session, fields: dict[str, Any], field: str
) -> None:
    data = {**VALID, **fields}
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(URL, json=data)
    assert response.status_code == 422
    assert field in field_errors(response)
    assert response.json["type"].endswith("/validation")
    assert count(session) == 0


def test_every_invalid_field_is_reported_at_once(client: FlaskClient, site: Site) -> None:
    response = client.post(URL, json={"website": "nope"})
    assert response.status_code == 422
    assert set(field_errors(response)) == {"name", "email", "website", "body"}


@pytest.mark.parametrize(
    "name", ["Zoë Ångström", "\u0645\u0647\u200c\u0633\u0627", "Ann 👩\u200d💻", "@ann_reads"]
)
def test_names_in_any_script_are_accepted(client: FlaskClient, site: Site, name: str) -> None:
    # Zero-width (non-)joiners are letters' glue in Persian and in emoji, not a disguise.
    response = client.post(URL, json={**VALID, "name": name})
    assert response.status_code == 202, response.json
    assert response.json["comment"]["author"]["name"] == name


def test_body_of_exactly_ten_thousand_characters_is_accepted(
    client: FlaskClient, site: Site
) -> None:
    assert post(client, body="y" * 10_000).status_code == 202


def test_unknown_site_is_404(client: FlaskClient, site: Site) -> None:
    response = post(client, url="/api/v1/sites/nowhere/articles/a/comments")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_request_over_64_kib_is_413(client: FlaskClient, site: Site) -> None:
    response = client.post(URL, data=b"{" + b" " * 70_000 + b"}", content_type="application/json")
    assert response.status_code == 413
    assert response.json["status"] == 413
    assert response.json["detail"] == "The request is too large: at most 64 KiB."


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"name": "A", "email": "a@example.com", "body": "' + b"x" * 70_000),
        (
            "application/x-www-form-urlencoded",
            b"name=A&email=a%40example.com&body=" + b"x" * 70_000,
        ),
    ],
)
def test_a_chunked_request_over_64_kib_is_413_too(
    client: FlaskClient, site: Site, session: Session, content_type: str, body: bytes
) -> None:
    # No Content-Length: Werkzeug cut the stream at the limit, and the rest of the request was
    # judged on what was left (400 "not a JSON object", 422 "body too long").
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": content_type},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets for chunked input
    )
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert count(session) == 0


def test_a_small_chunked_request_is_read_whole(client: FlaskClient, site: Site) -> None:
    body = orjson.dumps({**VALID, "body": "Sent in chunks."})
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 202, response.json


def test_wrong_content_type_is_415(client: FlaskClient, site: Site) -> None:
    response = client.post(URL, data="name=Ann", content_type="text/plain")
    assert response.status_code == 415
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b"null",
        # Not JSON (RFC 8259), yet Python's json reads them as floats no id or count can hold:
        # each was a 500 (OverflowError) in parent_id or elapsed_ms.
        b'{"name": "A", "email": "a@example.com", "body": "x", "parent_id": Infinity}',
        b'{"name": "A", "email": "a@example.com", "body": "x", "elapsed_ms": NaN}',
        b'{"name": "A", "email": "a@example.com", "body": "x", "elapsed_ms": 1e400}',
    ],
)
def test_malformed_json_is_a_4xx_problem_never_a_500(
    client: FlaskClient, site: Site, raw: bytes
) -> None:
    response = client.post(URL, data=raw, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.content_type == "application/problem+json"


def test_a_comment_id_past_any_row_is_404_not_500(client: FlaskClient, site: Site) -> None:
    # Found by tests/test_fuzz.py: SQLite cannot bind 2**63, and the lookup raised (a 500).
    response = client.get(f"/api/v1/sites/news/comments/{2**63}")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_reply_to_an_approved_comment_is_accepted(
    client: FlaskClient, site: Site, session: Session
) -> None:
    parent_id = post(client).json["id"]
    _approve(session, parent_id)
    response = post(client, parent_id=parent_id, body="I agree.")
    assert response.status_code == 202
    assert response.json["comment"]["parent_id"] == parent_id


def test_reply_to_unapproved_comment_is_refused(client: FlaskClient, site: Site) -> None:
    parent_id = post(client).json["id"]
    response = post(client, parent_id=parent_id)
    assert response.status_code == 422
    assert "parent_id" in field_errors(response)


def test_reply_to_a_comment_on_another_article_is_refused(
    client: FlaskClient, site: Site, session: Session
) -> None:
    other = post(client, url="/api/v1/sites/news/articles/other/comments").json["id"]
    _approve(session, other)
    response = post(client, parent_id=other)
    assert response.status_code == 422
    assert "parent_id" in field_errors(response)


def test_posted_status_approved_or_site_id_change_nothing(
    client: FlaskClient, site: Site, session: Session
) -> None:
    response = post(client, status="approved", approved=True, site_id=999, featured=True)
    assert response.status_code == 202
    comment = session.get_one(Comment, response.json["id"])
    assert comment.status == Status.PENDING
    assert comment.site_id == site.id
    assert comment.featured is False


def test_locked_article_refuses_comments_with_403(
    client: FlaskClient, site: Site, session: Session
) -> None:
    post(client)
    from service.sites.models import Article

    article = session.scalar(select(Article))
    assert article is not None
    article.locked = True
    session.commit()
    response = post(client, body="A second thought.")
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    assert response.json["type"].endswith("/comments-closed")  # a widget shows its closed note


def test_a_post_from_an_origin_the_site_does_not_list_is_a_readable_403(
    client: FlaskClient, site: Site, session: Session
) -> None:
    # Readable by the page that sent it: without CORS headers the browser reported a network
    # error, and the widget told the reader to check their connection.
    origin = {"Origin": "https://elsewhere.example"}
    preflight = client.options(
        URL, headers={**origin, "Access-Control-Request-Method": "POST",
                      "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://elsewhere.example"
    response = client.post(URL, json=VALID, headers=origin)
    assert response.status_code == 403
    assert response.json["type"].endswith("/origin-not-allowed")
    assert "allowed_origins" in response.json["detail"]
    assert response.headers["Access-Control-Allow-Origin"] == "https://elsewhere.example"
    assert count(session) == 0


def test_markup_is_escaped_and_links_get_nofollow(client: FlaskClient, site: Site) -> None:
    body = "<script>alert(1)</script> see [this](https://example.org) and [x](javascript:alert(1))"
    html = post(client, body=body, name="<b>Eve</b>").json["comment"]["body_html"]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="https://example.org"' in html
    assert 'rel="nofollow ugc noopener"' in html
    assert "javascript:" not in html.replace("(javascript:alert(1))", "")


def test_rate_limit_gives_429_with_retry_after_in_problem_shape(make_app: Any, site: Site) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per minute")
    client = app.test_client()
    assert post(client).status_code == 202
    assert post(client, body="second").status_code == 202
    response = post(client, body="third")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.content_type == "application/problem+json"
    assert response.json["status"] == 429


def test_processes_share_the_rate_limit_in_redis_keyed_by_no_readable_address(
    make_app: Any, site: Site
) -> None:
    require_server("Redis", "127.0.0.1", 6379)
    storage = f"{REDIS_URL}/12"
    redis = Redis.from_url(storage)
    redis.flushdb()
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_SUBMIT": "2 per minute"}
    web = [make_app(RATELIMIT_STORAGE_URI=storage, **settings) for _ in range(2)]
    reader = {"REMOTE_ADDR": "198.51.100.23"}
    sent = [
        web[i % 2]
        .test_client()
        .post(URL, json={**VALID, "body": f"Point {i}."}, environ_base=reader)
        for i in range(3)
    ]
    assert [r.status_code for r in sent] == [202, 202, 429]
    keys = [key.decode() for key in redis.keys("*")]
    assert keys and not any("198.51.100.23" in key for key in keys)
    redis.flushdb()


def test_invalid_submissions_do_not_use_up_the_rate_limit(make_app: Any, site: Site) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="1 per minute")
    client = app.test_client()
    assert post(client, email="bad").status_code == 422
    assert post(client).status_code == 202


def _approve(session: Session, comment_id: int) -> None:
    from service.comments.services import set_status

    session.expire_all()
    set_status(session, session.get_one(Comment, comment_id), Status.APPROVED)
    session.commit()


def test_the_same_submission_sent_again_gets_the_first_comment_back(
    client: FlaskClient, site: Site, session: Session
) -> None:
    # A double click, or a retry after a lost answer: one comment, not a copy held as a repeat.
    first = post(client)
    again = post(client, email="ANN@example.com ")
    assert again.status_code == 202
    assert again.json["id"] == first.json["id"]
    assert again.json["comment"] == first.json["comment"]
    assert again.headers["Location"] == first.headers["Location"]
    assert count(session) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"body": "Another point."},
        {"email": "bob@example.com"},
        {"url": "/api/v1/sites/news/articles/another-story/comments"},
    ],
)
def test_another_text_author_or_article_is_another_comment(
    client: FlaskClient, site: Site, session: Session, change: dict[str, str]
) -> None:
    post(client)
    assert post(client, **change).status_code == 202
    assert count(session) == 2


def test_a_reply_is_not_the_top_level_comment_it_repeats(
    client: FlaskClient, site: Site, session: Session
) -> None:
    first = posted_then(client, session, Status.APPROVED)
    assert post(client, parent_id=first.id).json["id"] != first.id
    assert count(session) == 2


def test_a_resend_after_the_window_or_with_it_off_is_a_new_comment(
    make_app: Any, site: Site, session: Session
) -> None:
    client = make_app(SUBMIT_RESEND_WINDOW=0).test_client()
    post(client)
    post(client)
    assert count(session) == 2
    stored = session.scalars(select(Comment)).all()
    for comment in stored:
        comment.created_at -= dt.timedelta(minutes=11)
    session.commit()
    post(make_app().test_client())
    assert count(session) == 3


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        # Found by an adversarial run on PostgreSQL, each a 500: a honeypot that is not text ...
        ({"honeypot": True}, "honeypot"),
        ({"honeypot": {"a": 1}}, "honeypot"),
        # ... and numbers taken as text or as whole numbers when they are neither.
        ({"name": 2**70}, "name"),
        ({"body": 1.5}, "body"),
        ({"elapsed_ms": True}, "elapsed_ms"),
        ({"elapsed_ms": 1.5}, "elapsed_ms"),
        ({"elapsed_ms": "\uff11\uff12"}, "elapsed_ms"),  # fullwidth "12"
        ({"parent_id": 1.5}, "parent_id"),
        ({"parent_id": True}, "parent_id"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_422_for_that_field(
    client: FlaskClient, site: Site, session: Session, fields: dict[str, Any], field: str
) -> None:
    response = post(client, **fields)
    assert response.status_code == 422
    assert field in field_errors(response)
    assert count(session) == 0


def test_whole_numbers_come_as_json_numbers_or_form_digits(
    client: FlaskClient, site: Site, session: Session
) -> None:
    assert post(client, elapsed_ms=4200).status_code == 202
    response = client.post(URL, data={**VALID, "body": "Another.", "elapsed_ms": " 3100 "})
    assert response.status_code == 202
    session.expire_all()
    assert sorted(c.elapsed_ms for c in session.scalars(select(Comment))) == [3100, 4200]


@pytest.mark.parametrize("kind", ["json", "form"])
def test_a_nul_character_in_a_field_is_a_422_on_every_database(
    client: FlaskClient, site: Site, session: Session, kind: str
) -> None:
    # PostgreSQL cannot store U+0000 in text: the insert raised, a 500.
    fields = {**VALID, "body": "hello\x00world", "article_title": "A\x00B"}
    sent = client.post(URL, json=fields) if kind == "json" else client.post(URL, data=fields)
    assert sent.status_code == 422
    assert set(field_errors(sent)) == {"body", "article_title"}
    assert count(session) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sites/news/articles/x%00/comments",
        "/api/v1/sites/%00/articles/a1/comments",
        "/api/v1/sites/news/comments/1%00",
    ],
)
def test_a_nul_character_in_the_path_is_a_404(client: FlaskClient, site: Site, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_a_thread_read_with_a_key_no_article_can_have_is_a_422(
    client: FlaskClient, site: Site
) -> None:
    # As a submission to it would be: an empty thread hid the page's wrong key until a reader
    # tried to comment.
    response = client.get(f"/api/v1/sites/news/articles/{'a' * 201}/comments")
    assert response.status_code == 422
    assert "article" in field_errors(response)


def test_a_json_syntax_error_says_so(client: FlaskClient, site: Site) -> None:
    response = client.post(URL, data=b'{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json["detail"].startswith("The body is not valid JSON")


def _at_once(count: int, send: Any) -> list[Any]:
    """send(i) from count threads released together, as a double click or a busy article."""
    start = threading.Barrier(count)

    def run(index: int) -> Any:
        start.wait()
        return send(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_first_comments_sent_together_to_a_new_article_are_all_stored(
    app: Flask, site: Site, session: Session
) -> None:
    # Each request found no article and inserted it; the losers' retry re-read on a session
    # whose failed insert was still pending: one 500 and a lost comment, on PostgreSQL.
    responses = _at_once(
        8, lambda i: app.test_client().post(URL, json={**VALID, "email": f"r{i}@example.com"})
    )
    assert [r.status_code for r in responses] == [202] * 8
    assert count(session) == 8


def test_the_same_submission_sent_twice_at_once_stores_one_comment(
    app: Flask, site: Site, session: Session
) -> None:
    post(app.test_client(), url=URL, body="An earlier comment creates the article.")
    responses = _at_once(6, lambda _: post(app.test_client()))
    assert [r.status_code for r in responses] == [202] * 6
    assert len({r.json["id"] for r in responses}) == 1
    assert count(session) == 2


@pytest.mark.parametrize(
    ("language", "name_error", "email_error"),
    [
        (
            "de-DE,de;q=0.9,en;q=0.5",
            "Bitte gib deinen Namen ein.",
            "Bitte gib eine gültige E-Mail-Adresse ein.",
        ),
        ("fr", "Veuillez indiquer votre nom.", "Veuillez saisir une adresse e-mail valide."),
        ("es, en;q=0.1", "Please enter your name.", "Enter a valid email address."),
    ],
)
def test_a_reader_is_told_what_is_wrong_in_the_widgets_language(
    client: FlaskClient, site: Site, language: str, name_error: str, email_error: str
) -> None:
    # The widget sends its language; a German form showed English errors beside its fields.
    response = client.post(
        URL, json={"email": "ann@", "body": "Hallo."}, headers={"Accept-Language": language}
    )
    assert response.status_code == 422
    errors = field_errors(response)
    assert errors["name"] == name_error
    assert errors["email"].startswith(email_error)
    assert "Accept-Language" in response.headers["Vary"]


def test_every_translated_text_is_one_the_service_says() -> None:
    # A reworded English message would leave its translations behind without a word.
    from service.comments.forms import NAME_MAX, WEBSITE_MAX
    from service.comments.translations import _TEXTS

    source = "\n".join(
        path.read_text() for path in Path("service").rglob("*.py") if path.name != "translations.py"
    )
    source = source.replace("{NAME_MAX}", str(NAME_MAX)).replace("{WEBSITE_MAX}", str(WEBSITE_MAX))
    assert [text for text in _TEXTS if text not in source] == []


def test_a_resent_comment_marked_spam_still_shows_as_pending_to_its_author(
    client: FlaskClient, site: Site, session: Session
) -> None:
    # The resend's answer said "status": "spam" at its top: a spammer learned the verdict.
    first = posted_then(client, session, Status.SPAM)
    again = post(client)
    assert again.json["id"] == first.id
    assert (again.json["status"], again.json["comment"]["status"]) == ("pending", "pending")


def test_a_resend_meets_the_block_a_new_submission_would(
    app: Flask, client: FlaskClient, site: Site, session: Session
) -> None:
    # A resend answered with the earlier comment before the blocks were asked: 202, not 403.
    post(client)
    site.settings = {**(site.settings or {}), "block_action": "reject"}
    with app.app_context():
        email_block = BlockSpec(BlockKind.EMAIL, value="ann@example.com")
        create_block(session, vault(), site, email_block, Actor.cli())
    session.commit()
    assert post(client).status_code == 403


def test_resends_do_not_use_up_the_rate_limit(make_app: Any, site: Site) -> None:
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="2 per minute").test_client()
    first = post(client)
    assert [post(client).json["id"] for _ in range(3)] == [first.json["id"]] * 3
    assert post(client, body="A second point.").status_code == 202
    assert post(client, body="A third point.").status_code == 429
