"""Webhooks end to end: a real Celery worker (with beat) on Redis delivers to real receivers.

The receivers run on 127.0.0.1, which the settings allowlist; the retry schedule is shortened
to seconds. The Python and PHP verification code is taken from docs/webhooks.md as it stands.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from standardwebhooks import Webhook

from service.comments.forms import Submission
from service.comments.models import Comment, Status
from service.comments.services import Client, set_status, submit_comment
from service.db import session_scope
from service.extensions import sessions, vault
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.sites.models import ModerationMode
from service.sites.services import create_site, site_by_slug
from service.webhooks.models import Attempt, Delivery, DeliveryState
from tests.conftest import IN_CI
from tests.e2e.conftest import ROOT, Worker, broker_url, wait_until, worker_env
from tests.webhooks.conftest import (
    AUTHOR_ADDRESS,
    AUTHOR_EMAIL,
    LOOPBACK,
    Received,
    Receiver,
    Reply,
)

pytestmark = pytest.mark.slow

BASE = "/api/v1/sites/news/webhooks"
EVERY_EVENT = [
    "comment.created",
    "comment.approved",
    "comment.rejected",
    "comment.spam",
    "comment.edited",
    "comment.deleted",
    "article.comment_count_changed",
]
# Seconds, not hours: enough tries to outlast a receiver that is down for a few seconds.
SCHEDULE = [0, 1, 2, 3, 3, 3, 3, 3, 3, 3]
SETTINGS: dict[str, Any] = {
    "WEBHOOK_ALLOWLIST": LOOPBACK,
    "WEBHOOK_ALLOW_HTTP": True,
    "WEBHOOK_RETRY_SCHEDULE": SCHEDULE,
    "WEBHOOK_DISPATCH_INTERVAL": 1,
    "WEBHOOK_REDISPATCH_AFTER": 1,
}


def documented_block(marker: str) -> str:
    """The code block that follows ``<!-- marker`` in docs/webhooks.md."""
    text = (ROOT / "docs" / "webhooks.md").read_text()
    fence = text.split(f"<!-- {marker}", 1)[1].split("```", 2)[1]
    return fence.split("\n", 1)[1]


def documented_verifier() -> Callable[[str, dict[str, str], bytes], None]:
    """verify_webhook exactly as the README shows it."""
    namespace: dict[str, Any] = {}
    exec(documented_block("verify-python"), namespace)
    verifier: Callable[[str, dict[str, str], bytes], None] = namespace["verify_webhook"]
    return verifier


@dataclass
class World:
    """The app on the real broker, an admin client, and how to start its worker."""

    app: Flask
    client: FlaskClient
    headers: dict[str, str]
    start: Callable[..., Worker]

    def register(self, url: str, events: list[str] | None = None) -> dict[str, Any]:
        """An endpoint registered through the API."""
        body = {"url": url, "events": events or ["comment.created"]}
        response = self.client.post(BASE, json=body, headers=self.headers)
        assert response.status_code == 201, response.json
        created: dict[str, Any] = response.json
        return created

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request to the webhook API as the site's admin."""
        response = self.client.open(f"{BASE}{path}", method=method, headers=self.headers, **kwargs)
        assert response.status_code < 400, response.json
        return response.json

    def produce(self, count: int, per_commit: int = 20) -> None:
        """``count`` new comments, so ``count`` comment.created events, committed in batches."""
        client = Client(address=AUTHOR_ADDRESS)
        with self.app.app_context(), session_scope(sessions(self.app)) as session:
            site = site_by_slug(session, "news")
            for index in range(count):
                submission = Submission(name="Ann", email=AUTHOR_EMAIL, body=f"Comment {index}.")
                submit_comment(session, vault(self.app), site, "live", submission, client)
                if (index + 1) % per_commit == 0:
                    session.commit()
            session.commit()

    def deliveries(self) -> list[Delivery]:
        """Every delivery, as the database has it now."""
        with session_scope(sessions(self.app)) as session:
            return list(session.scalars(select(Delivery).order_by(Delivery.id)))

    def attempts(self) -> int:
        """How many attempts the worker has made in all."""
        with session_scope(sessions(self.app)) as session:
            return int(session.scalar(select(func.count()).select_from(Attempt)) or 0)


def settings_env(settings: dict[str, Any]) -> dict[str, str]:
    """Settings as the worker's VETTED_ environment variables (JSON, as the app parses them)."""
    return {name: json.dumps(value) for name, value in settings.items()}


@pytest.fixture
def world(
    database_url: str,
    queue_name: str,
    tmp_path: Path,
    make_app: Any,
    start_worker: Callable[..., Worker],
) -> World:
    """A post-moderated site ``news`` with an admin token, on Redis, worker not yet started."""
    broker = broker_url("redis", tmp_path)
    app: Flask = make_app(
        CELERY={"broker_url": broker, "task_default_queue": queue_name}, **SETTINGS
    )
    with app.app_context(), session_scope(sessions(app)) as session:
        create_site(session, "news", "News", ModerationMode.POST)
        token = create_token(session, ["news"], Role.ADMIN, "cms").secret
        session.commit()

    def start(**overrides: Any) -> Worker:
        env = worker_env(
            database_url, broker, queue_name, **settings_env({**SETTINGS, **overrides})
        )
        return start_worker(env, beat=True)

    return World(app, app.test_client(), {"Authorization": f"Bearer {token}"}, start)


def types_received(receiver: Receiver) -> list[str]:
    return [orjson.loads(r.body)["type"] for r in receiver.requests]


def test_worker_deliveries_verify_with_the_documented_code_and_hold_no_email(
    world: World, receiver: Receiver
) -> None:
    endpoint = world.register(receiver.url(), EVERY_EVENT)
    secret = endpoint["secret"]
    world.start()
    world.produce(1, per_commit=1)
    # Decided here rather than by the spam check, so the test does not hang on its verdict.
    for status in (Status.APPROVED, Status.DELETED):
        with world.app.app_context(), session_scope(sessions(world.app)) as session:
            set_status(session, session.scalars(select(Comment)).one(), status)
            session.commit()
    world.api("POST", f"/{endpoint['id']}/ping")
    wait_until(lambda: len(receiver.requests) >= 6, what="deleted, count and ping events")

    received = types_received(receiver)
    assert sorted(received) == sorted(
        ["comment.created", "comment.approved", "comment.deleted", "ping"]
        + ["article.comment_count_changed"] * 2
    )
    comment_events = [t for t in received if t.startswith("comment.")]
    assert comment_events == ["comment.created", "comment.approved", "comment.deleted"]
    verify = documented_verifier()
    for request in receiver.requests:
        verify(secret, request.headers, request.body)
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["id"] == request.headers["webhook-id"]
        with pytest.raises(ValueError):
            verify(secret, request.headers, request.body + b" ")
        assert AUTHOR_EMAIL.encode() not in request.body and b"@" not in request.body
        assert AUTHOR_ADDRESS.encode() not in request.body


def test_during_a_rotation_worker_deliveries_verify_with_both_secrets(
    world: World, receiver: Receiver
) -> None:
    endpoint = world.register(receiver.url())
    world.start()

    rotated = world.api("POST", f"/{endpoint['id']}/rotate-secret", json={"grace_seconds": 600})
    world.api("POST", f"/{endpoint['id']}/ping")
    [request] = wait_until(lambda: receiver.requests, what="the ping")

    verify = documented_verifier()
    for secret in (endpoint["secret"], rotated["secret"]):
        verify(secret, request.headers, request.body)
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "ping"


def test_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(
    world: World, receiver: Receiver
) -> None:
    endpoint = world.register(receiver.url())
    receiver.respond_first(Reply(500, b"down"), Reply(502), Reply(503, b"busy"))
    world.start(WEBHOOK_RETRY_SCHEDULE=[0, 1, 1, 1, 1])

    ping = world.api("POST", f"/{endpoint['id']}/ping")
    delivered = wait_until(
        lambda: (
            world.api("GET", f"/{endpoint['id']}/deliveries/{ping['id']}")["state"] == "delivered"
        ),
        what="the fourth attempt",
    )

    assert delivered
    log = world.api("GET", f"/{endpoint['id']}/deliveries/{ping['id']}")["attempts"]
    assert [a["status_code"] for a in log] == [500, 502, 503, 200]
    assert [a["response"] for a in log][:3] == ["down", "ok", "busy"]
    assert all(a["next_attempt_at"] for a in log[:3]) and log[3]["next_attempt_at"] is None
    assert {r.headers["webhook-id"] for r in receiver.requests} == {ping["message_id"]}
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]  # each attempt signed afresh
    for request in receiver.requests:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)


def test_receiver_down_while_200_events_happen_gets_all_of_them_once_up(
    world: World, closed_port: int
) -> None:
    endpoint = world.register(f"http://127.0.0.1:{closed_port}/hook")
    world.start()

    world.produce(200)
    wait_until(lambda: world.attempts() >= 200, timeout=60, what="a failed attempt of each")
    assert all(d.state == DeliveryState.PENDING for d in world.deliveries())
    receiver = Receiver(port=closed_port)
    receiver.start()
    try:
        wait_until(
            lambda: all(d.state == DeliveryState.DELIVERED for d in world.deliveries()),
            timeout=90,
            what="all 200 deliveries",
        )
    finally:
        receiver.stop()

    message_ids = {d.message_id for d in world.deliveries()}
    received_ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(message_ids) == 200
    assert set(received_ids) == message_ids  # every event at least once, known by its id
    for request in _first_of_each(receiver.requests):
        payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
        assert payload["id"] == request.headers["webhook-id"]


def _first_of_each(requests: list[Received]) -> Iterator[Received]:
    seen: set[str] = set()
    for request in requests:
        if request.headers["webhook-id"] not in seen:
            seen.add(request.headers["webhook-id"])
            yield request


def test_events_produced_while_the_broker_is_down_are_all_delivered(
    world: World, make_app: Any, receiver: Receiver, queue_name: str
) -> None:
    world.register(receiver.url())
    down: Flask = make_app(
        CELERY={"broker_url": "redis://127.0.0.1:1/0", "task_default_queue": queue_name},
        **SETTINGS,
    )
    world.app, world.client = down, down.test_client()

    world.produce(30, per_commit=15)  # each commit waits ~2 s for the broker, then gives up
    assert len(world.deliveries()) == 30 and world.attempts() == 0
    world.start()

    wait_until(
        lambda: len({r.headers["webhook-id"] for r in receiver.requests}) == 30,
        timeout=60,
        what="the 30 events",
    )
    assert {r.headers["webhook-id"] for r in receiver.requests} == {
        d.message_id for d in world.deliveries()
    }


def test_worker_refuses_a_loopback_url_without_the_allowlist(
    world: World, receiver: Receiver
) -> None:
    endpoint = world.register(receiver.url())
    world.start(WEBHOOK_ALLOWLIST=[])

    ping = world.api("POST", f"/{endpoint['id']}/ping")
    log = wait_until(
        lambda: world.api("GET", f"/{endpoint['id']}/deliveries/{ping['id']}")["attempts"],
        what="the refused attempt",
    )

    assert log[0]["status_code"] is None
    assert log[0]["error"].startswith("refused:") and "127.0.0.1" in log[0]["error"]
    assert receiver.requests == []


def test_gone_disables_the_endpoint_and_stops_deliveries(world: World, receiver: Receiver) -> None:
    endpoint = world.register(receiver.url())
    receiver.respond(410, b"unsubscribed")
    world.start()

    def disabled() -> dict[str, Any] | None:
        shown: dict[str, Any] = world.api("GET", f"/{endpoint['id']}")
        return shown if shown["enabled"] is False else None

    world.produce(1, per_commit=1)
    shown = wait_until(disabled, what="the endpoint to be disabled")
    world.produce(1, per_commit=1)
    time.sleep(1.5)  # longer than the dispatch interval: a retry would have been sent by now

    assert shown["disabled_reason"] == "gone"
    assert "410" in shown["disabled_detail"]
    assert len(receiver.requests) == 1
    assert len(world.deliveries()) == 1  # the second event was not recorded for it


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class PhpReceiver:
    """The README's webhook.php served by ``php -S``, with a secret of our choosing."""

    def __init__(self, folder: Path) -> None:
        php = shutil.which("php")
        if php is None:
            message = "php is not installed (apt-get install php-cli)"
            if IN_CI:
                pytest.fail(message + " (CI=true: a missing tool is a failure)")
            pytest.skip(message)
        self.php = php
        self.folder = folder
        (folder / "webhook.php").write_text(documented_block("verify-php"))
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook.php"

    def serve(self, secret: str) -> None:
        """(Re)starts the server with VETTED_WEBHOOK_SECRET=secret."""
        self.stop()
        env = {**os.environ, "VETTED_WEBHOOK_SECRET": secret}
        self.process = subprocess.Popen(
            [self.php, "-S", f"127.0.0.1:{self.port}", "-t", str(self.folder)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _accepts(self.port), timeout=10, what="php -S")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def php_receiver(tmp_path: Path) -> Iterator[PhpReceiver]:
    """The documented PHP receiver (not started)."""
    running = PhpReceiver(tmp_path)
    yield running
    running.stop()


def test_documented_php_receiver_accepts_vetted_and_refuses_a_wrong_secret(
    world: World, php_receiver: PhpReceiver
) -> None:
    endpoint = world.register(php_receiver.url())
    world.start()

    def ping_status() -> int:
        ping = world.api("POST", f"/{endpoint['id']}/ping")
        path = f"/{endpoint['id']}/deliveries/{ping['id']}"
        attempts = wait_until(lambda: world.api("GET", path)["attempts"], what="the ping")
        status: int = attempts[0]["status_code"]
        return status

    php_receiver.serve(endpoint["secret"])
    assert ping_status() == 204
    rotated = world.api("POST", f"/{endpoint['id']}/rotate-secret")
    assert ping_status() == 204  # the CMS still holds the old secret: it verifies meanwhile
    php_receiver.serve(rotated["secret"])
    assert ping_status() == 204
    php_receiver.serve("whsec_" + "A" * 43 + "=")
    assert ping_status() == 401
