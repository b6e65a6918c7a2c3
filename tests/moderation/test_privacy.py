"""Data subject requests: export every comment of an email, and erase leaving no trace."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.events import EventType
from service.extensions import vault
from service.moderation.models import Action, AuditEntry
from service.privacy.crypto import Vault
from service.sites.models import Site
from service.webhooks.models import Endpoint, Message
from tests.moderation.conftest import ARTICLE

BASE = "/api/v1/moderation"
EXPORT = f"{BASE}/sites/news/privacy/export"
ERASE = f"{BASE}/sites/news/privacy/erase"
THREAD = f"/api/v1/sites/news/articles/{ARTICLE}/comments"
EMAIL = "Erin.Subject@Example.org"
IP = "198.51.100.23"


@pytest.fixture
def traces(
    client: FlaskClient,
    moderator: dict[str, str],
    submit: Any,
    session: Session,
    site: Site,
    run_check: Any,
) -> dict[str, int]:
    """The subject's data spread over every table that can hold it, beside another author's."""
    first = submit(f"Write to me at {EMAIL.lower()} any time.", email=EMAIL, ip=IP)
    second = submit("Buy my course!", email=EMAIL.lower(), ip=IP, article="2018/budget")
    bystander = submit("I am someone else.", email="bob@example.com", ip="192.0.2.9")
    run_check(first)

    def act(method: str, path: str, **body: Any) -> None:
        response = client.open(f"{BASE}{path}", method=method, json=body, headers=moderator)
        assert response.status_code < 300, response.json

    act("POST", f"/comments/{first}/decision", action="approve", reason=f"ok {EMAIL}")
    act("PATCH", f"/comments/{first}", body="Write to me any time.")
    act("POST", f"/comments/{second}/decision", action="spam")
    act("POST", f"/comments/{bystander}/decision", action="ham")
    act("POST", "/sites/news/blocks", kind="email", comment_id=second)
    act("POST", "/sites/news/blocks", kind="ip", comment_id=second)
    act("POST", "/sites/news/blocks", kind="ip", value=IP)
    act("POST", "/sites/news/blocks", kind="domain", value="spam.example")
    act("GET", f"/comments/{first}?reveal=true")
    site.settings = {**site.settings, "blocked_emails": [EMAIL.upper(), "other@example.com"]}
    session.commit()
    return {"first": first, "second": second, "bystander": bystander}


def needles(keys: Vault, email: str, ip: str, site_id: int) -> list[str]:
    """Every form in which an email or address could sit in the database."""
    return [
        email.lower(),
        keys.email_digest(email),
        keys.avatar_seed(email, site_id),
        ip,
        keys.address_digest(ip),
    ]


def database_text(app: Flask, session: Session, keys: Vault) -> str:
    """Every value of every row of every table, encrypted values decrypted, lowercased."""
    engine = app.extensions["vetted.engine"]
    parts: list[str] = []
    for table in inspect(engine).get_table_names():
        for row in session.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    parts.append(raw.decode("latin-1"))
                    with contextlib.suppress(ValueError):
                        parts.append(keys.decrypt(raw))
                else:
                    parts.append(str(value))
    return "\n".join(parts).lower()


def test_export_has_every_comment_of_the_email_with_its_private_data(
    client: FlaskClient,
    admin: dict[str, str],
    traces: dict[str, int],
    session: Session,
    documented: Any,
) -> None:
    response = client.post(EXPORT, json={"email": EMAIL.upper()}, headers=admin)
    documented(response, f"{BASE}/sites/{{site}}/privacy/export", "post")
    assert response.status_code == 200
    comments = response.json["comments"]
    assert [c["id"] for c in comments] == [traces["first"], traces["second"]]
    assert comments[0]["author"]["email"] == "Erin.Subject@example.org"  # as validated
    assert comments[0]["author"]["ip"] == IP
    assert comments[0]["article"]["key"] == ARTICLE
    assert comments[0]["earlier_versions"][0]["body"].startswith("Write to me at")
    assert "bob@example.com" not in response.get_data(as_text=True)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == Action.EXPORT)).one()
    assert entry.detail == {"comments": 2}


@pytest.mark.parametrize("mode", ["delete", "anonymise"])
def test_erase_leaves_no_trace_of_the_email_or_address_anywhere(
    app: Flask,
    site: Site,
    client: FlaskClient,
    admin: dict[str, str],
    traces: dict[str, int],
    session: Session,
    mode: str,
    documented: Any,
) -> None:
    keys = vault(app)
    before = database_text(app, session, keys)
    assert all(needle.lower() in before for needle in needles(keys, EMAIL, IP, site.id))
    response = client.post(ERASE, json={"email": EMAIL, "mode": mode}, headers=admin)
    documented(response, f"{BASE}/sites/{{site}}/privacy/erase", "post")
    assert response.json == {
        "comments": 2,
        "mode": mode,
        "blocks_removed": 3,
        "feedback_removed": 1 if mode == "delete" else 0,
    }
    session.expire_all()
    after = database_text(app, session, keys)
    for needle in needles(keys, EMAIL, IP, site.id):
        assert needle.lower() not in after, needle
    assert "erin" not in after
    bystander = session.get_one(Comment, traces["bystander"])
    assert bystander.email_encrypted is not None
    assert keys.decrypt(bystander.email_encrypted) == "bob@example.com"
    assert "spam.example" in after and "other@example.com" in after


def test_erase_by_delete_takes_the_comments_out_of_every_thread(
    client: FlaskClient, admin: dict[str, str], traces: dict[str, int], session: Session
) -> None:
    client.post(ERASE, json={"email": EMAIL}, headers=admin)
    session.expire_all()
    erased = session.get_one(Comment, traces["first"])
    assert (erased.status, erased.body, erased.author_name) == (Status.DELETED, "", "Anonymous")
    thread = client.get(THREAD).json
    assert [c["id"] for c in thread["comments"]] == [traces["bystander"]]
    assert thread["article"]["comment_count"] == 1
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == Action.ERASE)).one()
    assert entry.detail == {"comments": 2, "mode": "delete"}


def test_an_erased_comment_cannot_be_restored_or_written_into(
    client: FlaskClient,
    admin: dict[str, str],
    moderator: dict[str, str],
    traces: dict[str, int],
    session: Session,
) -> None:
    # Approved again, it was published empty under "Anonymous", and an edit put any text there.
    client.post(ERASE, json={"email": EMAIL}, headers=admin)
    erased = traces["first"]
    approve = client.post(
        f"{BASE}/comments/{erased}/decision", json={"action": "approve"}, headers=moderator
    )
    edit = client.patch(f"{BASE}/comments/{erased}", json={"body": "Words."}, headers=moderator)
    assert (approve.status_code, edit.status_code) == (409, 409)
    assert "erased" in approve.json["detail"]
    session.expire_all()
    assert session.get_one(Comment, erased).status == Status.DELETED
    assert [c["id"] for c in client.get(THREAD).json["comments"]] == [traces["bystander"]]


def test_erase_by_delete_keeps_other_peoples_replies_in_place(
    client: FlaskClient,
    admin: dict[str, str],
    moderator: dict[str, str],
    traces: dict[str, int],
    submit: Any,
) -> None:
    answer = submit("Replying to Erin.", email="bob@example.com", parent_id=traces["first"])
    decided = client.post(
        f"{BASE}/comments/{answer}/decision", json={"action": "approve"}, headers=moderator
    )
    assert decided.status_code == 200
    client.post(ERASE, json={"email": EMAIL}, headers=admin)
    thread = client.get(THREAD).json
    placeholder = next(c for c in thread["comments"] if c["id"] == traces["first"])
    assert (placeholder["removed"], placeholder["author"], placeholder["body_html"]) == (
        True,
        None,
        "",
    )
    assert [r["id"] for r in placeholder["replies"]] == [answer]
    assert thread["article"]["comment_count"] == 2  # the bystander and the reply


def test_erase_by_anonymising_keeps_the_text_without_its_author(
    client: FlaskClient, admin: dict[str, str], traces: dict[str, int], session: Session
) -> None:
    client.patch(f"{BASE}/sites/news/settings", json={"erase_mode": "anonymise"}, headers=admin)
    erased = client.post(ERASE, json={"email": EMAIL}, headers=admin).json
    assert erased["mode"] == "anonymise"
    shown, bystander = client.get(THREAD).json["comments"]
    assert (shown["id"], bystander["id"]) == (traces["first"], traces["bystander"])
    assert shown["author"]["name"] == "Anonymous"
    assert shown["author"]["website"] is None
    assert shown["body_html"] == "<p>Write to me any time.</p>"


def test_erasing_an_unknown_email_changes_nothing_but_the_audit(
    client: FlaskClient, admin: dict[str, str], traces: dict[str, int], session: Session
) -> None:
    response = client.post(ERASE, json={"email": "nobody@example.com"}, headers=admin)
    assert response.json["comments"] == 0
    assert session.get_one(Comment, traces["first"]).email_encrypted is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": "nope"}, "email"),
        ({"email": EMAIL, "mode": "x"}, "mode"),
        ({"email": EMAIL, "mode": {}}, "mode"),
        ({"email": EMAIL, "mode": ["delete"]}, "mode"),
    ],
)
def test_bad_requests_get_422(
    client: FlaskClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    for url in (EXPORT, ERASE):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 422
        assert response.json["errors"][0]["field"] == field


def test_the_command_line_exports_and_erases(
    app: Flask, site: Site, traces: dict[str, int], session: Session
) -> None:
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["privacy", "export", "--site", "news", "--email", EMAIL])
    assert exported.exit_code == 0, exported.output
    document = orjson.loads(exported.output)
    assert [c["id"] for c in document["comments"]] == [traces["first"], traces["second"]]
    refused = runner.invoke(
        args=["privacy", "erase", "--site", "news", "--email", EMAIL], input="n\n"
    )
    assert refused.exit_code != 0
    erased = runner.invoke(
        args=[
            "privacy",
            "erase",
            "--site",
            "news",
            "--email",
            EMAIL,
            "--mode",
            "anonymise",
            "--yes",
        ]
    )
    assert erased.exit_code == 0, erased.output
    assert "erased: 2 comments (anonymise), 3 blocks" in erased.output
    keys = vault(app)
    after = database_text(app, session, keys)
    assert all(needle.lower() not in after for needle in needles(keys, EMAIL, IP, site.id))
    actors = session.scalars(
        select(AuditEntry.actor).where(AuditEntry.action.in_([Action.EXPORT, Action.ERASE]))
    ).all()
    assert actors == ["cli", "cli"]


def test_the_command_line_names_an_unknown_site(app: Flask, site: Site) -> None:
    result = app.test_cli_runner().invoke(
        args=["privacy", "export", "--site", "nowhere", "--email", EMAIL]
    )
    assert result.exit_code == 1
    assert "There is no site 'nowhere'" in result.output


def queued_tasks(app: Flask) -> list[tuple[str, list[Any]]]:
    """Takes every task message off the app's (in-memory) broker: (task name, args)."""
    found = []
    with app.extensions["celery"].connection_for_read() as connection:
        queue = connection.SimpleQueue(app.config["CELERY"]["task_default_queue"])
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            found.append((message.headers["task"], list(message.payload[0])))
            message.ack()
        queue.close()
    return found


@pytest.mark.parametrize("mode", ["delete", "anonymise"])
def test_erasing_feedback_queues_the_sites_spam_model_for_retraining(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    traces: dict[str, int],
    site: Site,
    mode: str,
) -> None:
    queued_tasks(app)
    client.post(ERASE, json={"email": EMAIL, "mode": mode}, headers=admin)
    assert ("workers.spam.retrain_site_model", [site.id]) in queued_tasks(app)
    client.post(ERASE, json={"email": "nobody@example.com", "mode": mode}, headers=admin)
    assert queued_tasks(app) == []


@pytest.mark.parametrize("mode", ["delete", "anonymise"])
def test_erase_reaches_the_webhook_messages_already_stored(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    moderator: dict[str, str],
    submit: Any,
    session: Session,
    site: Site,
    mode: str,
) -> None:
    session.add(
        Endpoint(
            site_id=site.id,
            url="https://cms.example/hooks",
            events=[event.value for event in EventType],
            secret_encrypted=vault(app).encrypt("whsec_test"),
            secret_hint="whsec_te",
        )
    )
    session.commit()
    comment_id = submit(f"Write to me at {EMAIL.lower()}.", email=EMAIL, name="Erin Subject")
    submit("Another reader's view.", email="bob@example.com", name="Bob Bystander")
    decided = client.post(
        f"{BASE}/comments/{comment_id}/decision", json={"action": "approve"}, headers=moderator
    )
    assert decided.status_code == 200

    def payloads() -> str:
        session.expire_all()
        stored = session.scalars(select(Message.payload)).all()
        return orjson.dumps(stored).decode().lower()

    assert "erin subject" in payloads() and EMAIL.lower() in payloads()
    assert client.post(ERASE, json={"email": EMAIL, "mode": mode}, headers=admin).status_code == 200
    after = payloads()
    assert "erin" not in after
    assert "bob bystander" in after  # other authors' messages are left as they were
