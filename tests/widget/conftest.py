"""A running Vetted for the widget: the web app on a real port, a real Celery worker, Chromium.

One service serves the whole browser run (starting a worker takes seconds); each test makes
its own site, so tests share neither comments nor rate-limit counters. Host pages are served
from the service's own origin (under /_pages/, like the demo page) and from a second server
on another port (another origin, as a newspaper's page would be).
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Request, sync_playwright
from sqlalchemy import select
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request as WsgiRequest
from werkzeug.wrappers import Response as WsgiResponse

from service import create_app
from service.comments.forms import Submission
from service.comments.models import Comment, Status
from service.comments.services import Client, set_status, submit_comment
from service.db import session_scope
from service.extensions import sessions, vault
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.sites.models import ModerationMode
from service.sites.services import create_site, site_by_slug
from tests.conftest import IN_CI, TEST_KEYS
from tests.e2e.conftest import worker_env

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def require_chromium() -> None:
    """Skips (laptop) or fails (CI) the current test when Debian's Chromium is missing."""
    if CHROMIUM.exists():
        return
    message = f"Chromium is not installed at {CHROMIUM}"
    if IN_CI:
        pytest.fail(message + " (CI=true: .ci/run installs the chromium package)")
    pytest.skip(message)


class Pages:
    """A tiny WSGI app serving host pages registered by the tests, each with its own headers."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str, dict[str, str]]] = {}

    def add(
        self, text: str, headers: dict[str, str] | None = None, mimetype: str = "text/html"
    ) -> str:
        """Registers a page (or a stylesheet: ``mimetype="text/css"``) and returns its path."""
        suffix = ".css" if mimetype == "text/css" else ".html"
        path = f"/{uuid.uuid4().hex[:10]}{suffix}"
        self.pages[path] = (text, mimetype, headers or {})
        return path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = WsgiRequest(environ)
        found = self.pages.get(request.path)
        if request.path == "/favicon.ico":
            # Browsers ask for it on their own; an empty answer keeps the console clean.
            response = WsgiResponse(status=204)
        elif found is None:
            response = WsgiResponse("no such page", status=404)
        else:
            text, mimetype, headers = found
            response = WsgiResponse(text, mimetype=mimetype, headers=headers)
        return response(environ, start_response)


def snippet(site: str, article: str, **data: str) -> str:
    """The embed element of the issue's snippet; ``data`` become data-* attributes."""
    attrs = {"data-site": site, "data-article": article}
    attrs.update({"data-" + k.replace("_", "-"): v for k, v in data.items()})
    rendered = " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items())
    return f'<div class="vetted-comments" {rendered}></div>'


def host_page(
    script_url: str, *widgets: str, lang: str = "en", title: str = "A story", head: str = ""
) -> str:
    """A minimal article page embedding ``widgets`` with the one script tag."""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>{head}</head><body>"
        f"<main><h1>{html.escape(title)}</h1><p>The article text.</p>{''.join(widgets)}</main>"
        f'<script src="{script_url}" async></script></body></html>'
    )


def _serve(wsgi_app: Any) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@dataclass
class Service:
    """The running service, with helpers to arrange data the way moderators and sites would."""

    app: Flask
    url: str
    pages: Pages
    host_url: str
    host_pages: Pages
    worker_log: Path

    def make_site(self, mode: ModerationMode = ModerationMode.POST, **settings: Any) -> str:
        """A new site of this test's own; returns its slug."""
        slug = f"s-{uuid.uuid4().hex[:10]}"
        with self.app.app_context(), session_scope(sessions(self.app)) as session:
            create_site(session, slug, slug, mode, settings)
            session.commit()
        return slug

    def page_url(self, html_text: str, headers: dict[str, str] | None = None) -> str:
        """A page on the service's own origin (with an inline icon: the service has none)."""
        html_text = html_text.replace("</head>", '<link rel="icon" href="data:,"></head>', 1)
        return self.url + "/_pages" + self.pages.add(html_text, headers)

    def foreign_page_url(self, html_text: str, headers: dict[str, str] | None = None) -> str:
        """A page on another origin (another port)."""
        return self.host_url + self.host_pages.add(html_text, headers)

    def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> tuple[int, Any]:
        """Calls the public API over HTTP, as any client would."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")

    def seed_comment(
        self,
        site: str,
        article: str,
        body: str,
        name: str = "Ruth Baines",
        website: str | None = None,
        parent_id: int | None = None,
    ) -> int:
        """An approved comment, stored through the domain layer (fast, for arranging a thread)."""
        submission = Submission(
            name=name,
            email=f"{uuid.uuid4().hex[:8]}@example.org",
            body=body,
            website=website,
            parent_id=parent_id,
        )
        with self.app.app_context(), session_scope(sessions(self.app)) as session:
            target = site_by_slug(session, site)
            comment = submit_comment(
                session, vault(self.app), target, article, submission, Client()
            )
            set_status(session, comment, Status.APPROVED)
            session.commit()
            return comment.id

    def stored_bodies(self, site: str) -> list[str]:
        """The bodies of every comment stored for ``site``, whatever its status."""
        with self.app.app_context(), session_scope(sessions(self.app)) as session:
            site_id = site_by_slug(session, site).id
            query = select(Comment.body).where(Comment.site_id == site_id).order_by(Comment.id)
            return list(session.scalars(query))

    def comment(self, comment_id: int) -> Comment:
        """A comment as stored now."""
        with session_scope(sessions(self.app)) as session:
            return session.get_one(Comment, comment_id)

    def moderator_token(self, site: str) -> str:
        """A bearer token of a moderator of ``site``."""
        with self.app.app_context(), session_scope(sessions(self.app)) as session:
            issued = create_token(session, [site], Role.MODERATOR, "widget tests")
            session.commit()
            return issued.secret

    def approve(self, site: str, comment_id: int) -> None:
        """A moderator approves a comment through the review API."""
        self.decide(site, comment_id, "approve", "approved")

    def decide(self, site: str, comment_id: int, action: str, expected: str) -> None:
        """A moderator's decision on a comment through the review API."""
        status, body = self.api(
            "POST",
            f"/api/v1/moderation/comments/{comment_id}/decision",
            {"action": action},
            Authorization=f"Bearer {self.moderator_token(site)}",
        )
        assert (status, body["status"]) == (200, expected), body

    def lock_article(self, site: str, article: str) -> None:
        """A moderator closes an article to new comments through the review API."""
        status, body = self.api(
            "PATCH",
            f"/api/v1/moderation/sites/{site}/articles/{article}",
            {"locked": True},
            Authorization=f"Bearer {self.moderator_token(site)}",
        )
        assert status == 200, body


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A real ``celery worker`` process, waited for until it is ready."""
    args = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--pool=solo"]
    args += ["--loglevel=INFO", "--without-mingle", "--without-gossip"]
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 45
    while "ready." not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the worker did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.2)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def service(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Vetted on 127.0.0.1:<port> with SQLite, the embedded broker and a real worker."""
    require_chromium()
    work = tmp_path_factory.mktemp("widget-service")
    database = work / "vetted.sqlite3"
    shutil.copy(sqlite_template, database)
    database_url = f"sqlite:///{database}"
    broker = f"sqla+sqlite:///{work / 'broker.sqlite3'}"
    queue = f"vetted-widget-{uuid.uuid4().hex[:8]}"
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "CELERY": {"broker_url": broker, "task_default_queue": queue},
            "RATELIMIT_ENABLED": True,
            "INSTANCE_PATH": str(work),
            **TEST_KEYS,
        }
    )
    with app.app_context(), session_scope(sessions(app)) as session:
        # The demo page's site; pre-moderated so a reader's comment waits for a moderator.
        create_site(session, "demo", "Demo Gazette", ModerationMode.PRE)
        session.commit()
    worker_log = work / "worker.log"
    worker = _start_worker(worker_env(database_url, broker, queue, INSTANCE_PATH=work), worker_log)
    pages, host_pages = Pages(), Pages()
    server, thread = _serve(DispatcherMiddleware(app.wsgi_app, {"/_pages": pages}))
    host_server, host_thread = _serve(host_pages)
    try:
        yield Service(
            app=app,
            url=f"http://127.0.0.1:{server.server_port}",
            pages=pages,
            host_url=f"http://127.0.0.1:{host_server.server_port}",
            host_pages=host_pages,
            worker_log=worker_log,
        )
    finally:
        for running, running_thread in ((server, thread), (host_server, host_thread)):
            running.shutdown()
            running_thread.join(timeout=10)
            running.server_close()
        _stop(worker)
        app.extensions["vetted.engine"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright."""
    require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class Watch:
    """What a page did: every request's URL, the POSTs, and every console error or exception."""

    requests: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    """The record of the ``page`` fixture's requests and errors."""
    return Watch()


@pytest.fixture
def page(browser: Browser, watch: Watch) -> Iterator[Page]:
    """A fresh page in its own context (empty storage, empty cache), recorded into ``watch``."""
    context = browser.new_context(
        viewport={"width": 900, "height": 1000}, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(10_000)
    opened = context.new_page()

    def on_request(request: Request) -> None:
        watch.requests.append(request.url)
        if request.method == "POST":
            watch.posts.append(request.url)

    opened.on("request", on_request)
    opened.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    yield opened
    context.close()


@pytest.fixture
def screenshot(page: Page) -> Callable[..., Path]:
    """Saves a screenshot into test-artifacts/ (kept by CI): the whole page, or one element."""

    def take(name: str, selector: str | None = None) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"widget-{name}.png"
        if selector:
            page.locator(selector).screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    return take
