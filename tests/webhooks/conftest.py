"""A real HTTP(S) webhook receiver on 127.0.0.1, started per test on an ephemeral port."""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socket import socket
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask
from sqlalchemy.orm import Session

from service.comments.forms import Submission
from service.comments.models import Comment
from service.comments.services import Client, submit_comment
from service.events import EventType
from service.extensions import vault
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.sites.models import Site
from service.webhooks.forms import NewEndpoint
from service.webhooks.options import WebhookOptions
from service.webhooks.services import IssuedSecret, create_endpoint

# The real-worker fixtures, for test_worker.py.
from tests.e2e.conftest import queue_name, start_worker  # noqa: F401


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it; header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    """How the receiver answers: ``delay`` before the status line, ``drip`` between body bytes."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        receiver.requests.append(Received(self.command, self.path, headers, body))
        reply = receiver.next_reply()
        # Waiting on the event, not sleeping, lets the fixture end a slow reply at teardown.
        if receiver.stopping.wait(reply.delay):
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not reply.drip:
            self.wfile.write(reply.body)
            return
        for index in range(len(reply.body)):
            self.wfile.write(reply.body[index : index + 1])
            if receiver.stopping.wait(reply.drip):
                return

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close, so no socket outlives the test.
    daemon_threads = False

    def __init__(self, receiver: Receiver, tls: ssl.SSLContext | None, port: int) -> None:
        self.receiver = receiver
        self.tls = tls
        super().__init__(("127.0.0.1", port), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        with self.tls.wrap_socket(request, server_side=True) as secured:
            super().finish_request(secured, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The client hanging up early (timeouts, truncated bodies) is what several tests do.
        self.receiver.errors += 1


class Receiver:
    """A running receiver: set ``reply``, call the URL, read ``requests``."""

    def __init__(self, tls: ssl.SSLContext | None = None, port: int = 0) -> None:
        self.requests: list[Received] = []
        self.reply = Reply()
        # Replies used once each, in order, before ``reply`` answers every further request.
        self.script: list[Reply] = []
        self._lock = threading.Lock()
        self.errors = 0
        self.server_names: list[str | None] = []
        self.stopping = threading.Event()
        if tls is not None:
            tls.sni_callback = self._record_server_name
        self._server = _Server(self, tls, port)
        self.port: int = self._server.server_address[1]
        # A short poll interval keeps shutdown, and so each test, quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def url(self, path: str = "/hook", host: str = "127.0.0.1", scheme: str = "http") -> str:
        """The receiver's URL under ``host``, which must resolve to 127.0.0.1."""
        return f"{scheme}://{host}:{self.port}{path}"

    def respond(
        self,
        status: int = 200,
        body: bytes = b"ok",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        drip: float = 0.0,
    ) -> None:
        """Answer the following requests this way."""
        self.reply = Reply(status, body, headers or {}, delay, drip)

    def respond_first(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, one each, then as ``respond`` says."""
        with self._lock:
            self.script = list(replies)

    def next_reply(self) -> Reply:
        """The reply for the request being handled."""
        with self._lock:
            return self.script.pop(0) if self.script else self.reply

    def start(self) -> None:
        """Serve requests in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """End slow replies, stop serving and close every socket."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _record_server_name(self, _: Any, name: str | None, __: Any) -> None:
        self.server_names.append(name)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A plain HTTP receiver on 127.0.0.1."""
    running = Receiver()
    running.start()
    yield running
    running.stop()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for ``localhost`` only, and where its files are."""

    cert_path: Path
    key_path: Path

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this certificate and checks host names."""
        return ssl.create_default_context(cafile=str(self.cert_path))


@pytest.fixture(scope="session")
def localhost_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A certificate naming ``localhost`` and no IP address."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


@pytest.fixture
def tls_receiver(localhost_certificate: Certificate) -> Iterator[Receiver]:
    """An HTTPS receiver on 127.0.0.1 presenting the ``localhost`` certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(localhost_certificate.cert_path, localhost_certificate.key_path)
    running = Receiver(context)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port on which nothing listens."""
    with socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# Settings that let the app deliver to a receiver on 127.0.0.1 over plain HTTP.
LOOPBACK = ["127.0.0.1/32"]
RECEIVER_SETTINGS: dict[str, Any] = {"WEBHOOK_ALLOWLIST": LOOPBACK, "WEBHOOK_ALLOW_HTTP": True}


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The app on a fresh database, allowed to deliver to 127.0.0.1 over HTTP."""
    made: Flask = make_app(**RECEIVER_SETTINGS)
    return made


@pytest.fixture
def admin_headers(session: Session, site: Site) -> dict[str, str]:
    """The Authorization header of an admin token for ``news``."""
    issued = create_token(session, [site.slug], Role.ADMIN, "cms")
    session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def register(
    app: Flask,
    session: Session,
    site: Site,
    url: str,
    events: tuple[str, ...] = ("comment.created",),
) -> IssuedSecret:
    """An endpoint registered directly through the service, committed."""
    new = NewEndpoint(url, tuple(EventType(e) for e in events), None)
    issued = create_endpoint(session, vault(app), site, new, WebhookOptions.from_config(app.config))
    session.commit()
    return issued


def submit(app: Flask, session: Session, site: Site, body: str = "Good piece.") -> Comment:
    """A comment by ann@example.com from 203.0.113.9 on ``live``, committed."""
    submission = Submission(
        name="Ann",
        email=AUTHOR_EMAIL,
        body=body,
        article_url="https://news.example/live",
        article_title="Live",
        elapsed_ms=5000,
    )
    comment = submit_comment(
        session, vault(app), site, "live", submission, Client(address=AUTHOR_ADDRESS)
    )
    session.commit()
    return comment


AUTHOR_EMAIL = "ann@example.com"
AUTHOR_ADDRESS = "203.0.113.9"
