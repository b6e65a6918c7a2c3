"""Emails are private: no public response shows them or a plain hash of them, the database
holds them only encrypted, the logs never print them, and keys rotate.

Comments are submitted through the real app with unique emails and addresses; then every
public GET route of the app (found in its URL map, so routes added later are read too) is
read with every value of its parameters.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography.fernet import Fernet
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service.comments.models import Comment, Status
from service.comments.services import set_status
from service.db import session_scope
from service.extensions import sessions, vault
from service.privacy.crypto import generate_encryption_key
from service.sites.models import ModerationMode
from service.sites.services import create_site
from service.widget.views import widget_version
from tests.conftest import TEST_KEYS
from tests.e2e.conftest import Worker, broker_url, wait_until, worker_env

ARTICLES = ("2024/harbour", "budget-vote")


@dataclass
class Author:
    """A reader with an email and an address of their own."""

    email: str
    address: str

    def needles(self) -> list[str]:
        """What must never show, lowercased: the email, its plain hashes, the address."""
        forms = {self.email, self.email.lower()}
        hashes = {
            getattr(hashlib, algorithm)(form.encode()).hexdigest()
            for algorithm in ("md5", "sha1", "sha256")
            for form in forms
        }
        return [self.email.lower(), *sorted(hashes), self.address.lower()]


@dataclass
class Submitted:
    """A comment as submitted: its id, author, site and the author's token."""

    id: int
    author: Author
    site: str
    token: str


def new_author(n: int) -> Author:
    tag = uuid.uuid4().hex[:10]
    address = f"198.51.{100 + n}.{17 + n}" if n % 3 else f"2001:db8:{n:x}::{tag[:4]}"
    return Author(f"Reader.{tag}@Mail-{tag[:4]}.Example.ORG", address)


def submit(
    client: FlaskClient, author: Author, site: str, article: str, **fields: Any
) -> Submitted:
    response = client.post(
        f"/api/v1/sites/{site}/articles/{article}/comments",
        json={"name": "Reader", "email": author.email, "body": "Good reporting.", **fields},
        environ_base={"REMOTE_ADDR": author.address},
    )
    assert response.status_code == 202, response.json
    body = response.json
    assert body is not None
    assert_private(response, [author])
    return Submitted(body["id"], author, site, body["author_token"])


@pytest.fixture
def scene(app: Flask, session: Session, make_site: Any) -> Iterator[list[Submitted]]:
    """Comments on two sites: published (with replies), pending, rejected and spam."""
    make_site("news", ModerationMode.POST)
    make_site("review", ModerationMode.PRE)
    client = app.test_client()
    made: list[Submitted] = []
    for n in range(9):
        site = "news" if n < 6 else "review"
        parent = made[0].id if n in (3, 4) else None
        made.append(
            submit(client, new_author(n), site, ARTICLES[n % 2 if n not in (3, 4) else 0],
                   **({"parent_id": parent} if parent else {}))
        )  # fmt: skip
        if n in (0, 1, 2, 3, 4, 6):
            approve(session, made[-1].id, Status.APPROVED)
        elif n == 5:
            approve(session, made[-1].id, Status.SPAM)
        elif n == 7:
            approve(session, made[-1].id, Status.REJECTED)
    yield made


def approve(session: Session, comment_id: int, status: Status) -> None:
    session.expire_all()
    set_status(session, session.get_one(Comment, comment_id), status)
    session.commit()


def leaks(data: bytes, headers: dict[str, str], authors: list[Author]) -> list[str]:
    """The needles of ``authors`` found in a body or its headers, in any case."""
    text = "\n".join(f"{k}: {v}" for k, v in headers.items()).encode() + b"\n" + data
    seen = text.decode("utf-8", "replace").lower()
    return [needle for author in authors for needle in author.needles() if needle in seen]


def assert_private(response: TestResponse, authors: list[Author]) -> None:
    """Neither body nor headers hold an author's email, its plain hashes or address."""
    found = leaks(response.get_data(), dict(response.headers.items()), authors)
    assert found == [], f"{found} leaked by {response.request.url}"


@pytest.mark.parametrize(
    "leak",
    [
        lambda a: a.email.upper(),
        lambda a: hashlib.md5(a.email.lower().encode()).hexdigest().upper(),
        lambda a: hashlib.sha1(a.email.encode()).hexdigest(),
        lambda a: hashlib.sha256(a.email.lower().encode()).hexdigest(),
        lambda a: a.address,
    ],
)
def test_the_leak_check_finds_every_form_of_the_email(leak: Callable[[Author], str]) -> None:
    author = new_author(1)
    assert leaks(b'{"x": "' + leak(author).encode() + b'"}', {}, [author])
    assert leaks(b"{}", {"X-Echo": leak(author)}, [author])
    assert leaks(b"{}", {}, [author]) == []


def parameter_values(scene: list[Submitted]) -> dict[str, list[Any]]:
    """Values to fill each URL placeholder with; unknown placeholders get a dummy."""
    return {
        "site": [*sorted({s.site for s in scene}), "nosuch"],
        "article": [*ARTICLES, "never-commented"],
        "comment_id": [s.id for s in scene] + [999_999],
        "version": [widget_version(), "0000"],
    }


def public_urls(app: Flask, scene: list[Submitted]) -> list[str]:
    """Every GET route of the app, expanded with every value of its parameters."""
    values = parameter_values(scene)
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        combinations: list[dict[str, Any]] = [{}]
        for name in sorted(rule.arguments):
            options = values.get(name, ["1"])
            combinations = [{**c, name: v} for c in combinations for v in options]
        with app.test_request_context():
            urls += [url_for(rule.endpoint, **c) for c in combinations]
    return urls


def read_everything(client: FlaskClient, app: Flask, scene: list[Submitted]) -> list[TestResponse]:
    """Every public URL, plain and as a cross-origin read, and the threads page by page."""
    responses = []
    origin = {"Origin": "https://reader.example"}
    for url in public_urls(app, scene):
        responses += [client.get(url), client.get(url, headers=origin)]
    for site in sorted({s.site for s in scene}):
        for article in ARTICLES:
            for sort in ("oldest", "newest"):
                responses += read_thread(client, site, article, sort)
    for submitted in scene:
        own = f"/api/v1/sites/{submitted.site}/comments/{submitted.id}"
        responses.append(client.get(own, headers={"Vetted-Author-Token": submitted.token}))
    return responses


def read_thread(client: FlaskClient, site: str, article: str, sort: str) -> list[TestResponse]:
    url = f"/api/v1/sites/{site}/articles/{article}/comments?sort={sort}&limit=1"
    pages = [client.get(url)]
    while pages[-1].status_code == 200 and (cursor := pages[-1].json["next_cursor"]):  # type: ignore[index]
        pages.append(client.get(f"{url}&cursor={cursor}"))
    return pages


def test_no_public_response_shows_an_email_its_hashes_or_the_address(
    app: Flask, scene: list[Submitted]
) -> None:
    client = app.test_client()
    responses = read_everything(client, app, scene)
    statuses = {r.status_code for r in responses}
    assert 200 in statuses and 404 in statuses
    shown = b"".join(r.get_data() for r in responses)
    # The reads did see the comments: published ones, and pending ones to their authors.
    assert all(str(s.id).encode() in shown for s in scene)
    for response in responses:
        assert_private(response, [s.author for s in scene])


def test_the_authors_own_view_of_a_pending_comment_shows_no_email(
    app: Flask, scene: list[Submitted]
) -> None:
    pending = next(s for s in scene if s.site == "review" and s.id == scene[8].id)
    response = app.test_client().get(
        f"/api/v1/sites/review/comments/{pending.id}",
        headers={"Vetted-Author-Token": pending.token},
    )
    assert response.status_code == 200
    assert response.json["status"] == "pending"  # type: ignore[index]
    assert_private(response, [pending.author])


def every_row(session: Session) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every row of every table, as it is stored."""
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    for table in metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            yield table.name, dict(row)


def as_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def test_the_database_holds_emails_only_encrypted(
    app: Flask, session: Session, scene: list[Submitted]
) -> None:
    rows = list(every_row(session))
    assert {name for name, _ in rows} >= {"comments", "sites", "articles"}
    stored = "\n".join(as_text(v) for _, row in rows for v in row.values()).lower()
    for submitted in scene:
        for needle in submitted.author.needles():
            assert needle not in stored
    # Encrypted, not lost: the vault reads every email and address back.
    comments = {row["id"]: row for name, row in rows if name == "comments"}
    for submitted in scene:
        row = comments[submitted.id]
        email = vault(app).decrypt(bytes(row["email_encrypted"]))
        assert email.lower() == submitted.author.email.lower()
        assert vault(app).decrypt(bytes(row["ip_encrypted"])) == submitted.author.address
        assert row["email_digest"] == vault(app).email_digest(submitted.author.email)


def test_submitting_and_checking_log_no_email(
    app: Flask, make_site: Any, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    from workers.spam import check_comment

    make_site("news", ModerationMode.POST)
    authors = [new_author(n) for n in range(3)]
    # Everything at DEBUG, SQL with its parameters and rows included; set_level restores it.
    for name in (None, "service", "sqlalchemy.engine", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)
    client = app.test_client()
    ids = [submit(client, author, "news", ARTICLES[0]).id for author in authors]
    for comment_id in ids:
        assert check_comment(comment_id) is not None  # checked, whatever the verdict
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records).lower()
    assert "comment " in logged and "checked" in logged
    assert "insert into comments" in logged
    for author in authors:
        for needle in author.needles():
            assert needle not in logged


@pytest.mark.slow
def test_a_real_worker_logs_no_email(
    database_url: str,
    make_app: Any,
    queue_name: str,
    tmp_path: Path,
    start_worker: Callable[..., Worker],
) -> None:
    broker = broker_url("redis", tmp_path)
    app = make_app(CELERY={"broker_url": broker, "task_default_queue": queue_name})
    with app.app_context(), session_scope(sessions(app)) as session:
        create_site(session, "news", "News", ModerationMode.POST)
        session.commit()
    worker = start_worker(
        worker_env(database_url, broker, queue_name, LOG_LEVEL="DEBUG", DATABASE_ECHO="true")
    )
    author = new_author(1)
    submitted = submit(app.test_client(), author, "news", ARTICLES[0])
    wait_until(lambda: f"comment {submitted.id} checked" in worker.output(), what="the check")
    output = worker.output().lower()
    assert "insert" in output or "update comments" in output
    for needle in author.needles():
        assert needle not in output


@pytest.fixture
def old_and_new_keys() -> tuple[str, str]:
    return TEST_KEYS["ENCRYPTION_KEYS"], generate_encryption_key()


def encrypted_values(session: Session) -> dict[tuple[int, str], bytes]:
    session.expire_all()
    values = {}
    for comment in session.scalars(select(Comment)):
        values[(comment.id, "email")] = comment.email_encrypted
        values[(comment.id, "ip")] = comment.ip_encrypted
    return values  # type: ignore[return-value]


def test_a_new_key_in_front_still_reads_rows_written_with_the_old_one(
    make_app: Any, scene: list[Submitted], old_and_new_keys: tuple[str, str]
) -> None:
    old, new = old_and_new_keys
    rotated_app = make_app(ENCRYPTION_KEYS=f"{new},{old}")
    with rotated_app.app_context(), session_scope(sessions(rotated_app)) as session:
        for submitted in scene:
            comment = session.get_one(Comment, submitted.id)
            email = vault(rotated_app).decrypt(comment.email_encrypted)  # type: ignore[arg-type]
            assert email.lower() == submitted.author.email.lower()
    # What it writes uses the new key: an app with only the new key reads it.
    author = new_author(42)
    written = submit(rotated_app.test_client(), author, "news", ARTICLES[0])
    new_only = make_app(ENCRYPTION_KEYS=new)
    with new_only.app_context(), session_scope(sessions(new_only)) as session:
        written_token = session.get_one(Comment, written.id).email_encrypted
        old_token = session.get_one(Comment, scene[0].id).email_encrypted
    assert written_token is not None and old_token is not None
    assert vault(new_only).decrypt(written_token).lower() == author.email.lower()
    with pytest.raises(ValueError, match="key that encrypted this is gone"):
        vault(new_only).decrypt(old_token)


def invoke(app: Flask, *args: str) -> Result:
    """Runs a command of ``app``; its own context, since the session fixture holds another."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def test_keys_rotate_re_encrypts_every_encrypted_column_with_the_newest_key(
    make_app: Any, session: Session, scene: list[Submitted], old_and_new_keys: tuple[str, str]
) -> None:
    old, new = old_and_new_keys
    before = encrypted_values(session)
    rotated_app = make_app(ENCRYPTION_KEYS=f"{new},{old}")
    result = invoke(rotated_app, "keys", "rotate", "--batch-size", "4")
    assert result.exit_code == 0, result.output
    assert f"comments: {len(scene)} rows re-encrypted (email_encrypted, ip_encrypted)" in (
        result.output
    )
    after = encrypted_values(session)
    assert set(after) == set(before)
    assert all(after[k] != before[k] for k in before)
    new_only = make_app(ENCRYPTION_KEYS=new)
    by_id = {s.id: s.author for s in scene}
    for (comment_id, kind), token in after.items():
        value = vault(new_only).decrypt(token)
        expected = by_id[comment_id].email if kind == "email" else by_id[comment_id].address
        assert value.lower() == expected.lower()
    # Digests and avatars do not depend on the encryption key: lookups still match.
    session.expire_all()
    first = session.get_one(Comment, scene[0].id)
    assert first.email_digest == vault(new_only).email_digest(scene[0].author.email)


def test_keys_rotate_without_the_old_key_fails_in_one_line_and_keeps_the_data(
    make_app: Any, session: Session, scene: list[Submitted]
) -> None:
    before = encrypted_values(session)
    stranger = make_app(ENCRYPTION_KEYS=generate_encryption_key())
    result = invoke(stranger, "keys", "rotate")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: comments.email_encrypted of row")
    assert "Traceback" not in result.output
    assert encrypted_values(session) == before


def test_keys_generate_prints_a_new_fernet_key(app: Flask) -> None:
    runner = app.test_cli_runner()
    first, second = (runner.invoke(args=["keys", "generate"]) for _ in range(2))
    assert first.exit_code == 0
    key = first.stdout.strip()
    assert key != second.stdout.strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
