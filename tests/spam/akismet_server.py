"""A local HTTP server speaking Akismet's documented REST protocol (https://akismet.com/developers/).

POST /1.1/verify-key      key, blog            -> "valid" | "invalid"
POST /1.1/comment-check   api_key, blog, user_ip, comment_* ...
                          -> "true" (spam; with X-akismet-pro-tip: discard when blatant)
                             | "false" | "invalid" (bad key, with X-akismet-debug-help)
POST /1.1/submit-spam|submit-ham   same arguments -> "Thanks for making the web a better place."

Verdicts: a comment containing "blatant" is discarded spam, one containing "casino" is spam,
anything else ham. Every request is recorded for the test to inspect.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

API_KEY = "test-akismet-key"
BLOG = "https://news.example"
THANKS = "Thanks for making the web a better place."


@dataclass
class Received:
    """One request the server answered."""

    path: str
    form: dict[str, str]


@dataclass
class AkismetServer:
    """The running server's address and what it received."""

    url: str
    received: list[Received] = field(default_factory=list)
    fail_with: int | None = None

    def calls(self, endpoint: str) -> list[dict[str, str]]:
        """The form of every request to an endpoint ("comment-check", "submit-ham", ...)."""
        return [r.form for r in self.received if r.path == f"/1.1/{endpoint}"]


def _answer(path: str, form: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The body and headers Akismet would answer with."""
    if path == "/1.1/verify-key":
        valid = form.get("key") == API_KEY and form.get("blog", "").startswith("http")
        return ("valid" if valid else "invalid"), {}
    if form.get("api_key") != API_KEY:
        return "invalid", {"X-akismet-debug-help": "We were unable to verify your API key."}
    if path == "/1.1/comment-check":
        content = form.get("comment_content", "").lower()
        if "blatant" in content:
            return "true", {"X-akismet-pro-tip": "discard"}
        return ("true" if "casino" in content else "false"), {}
    if path in ("/1.1/submit-spam", "/1.1/submit-ham"):
        return THANKS, {}
    return "", {}


def _handler(server: AkismetServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            server.received.append(Received(self.path, form))
            if server.fail_with is not None:
                self.send_response(server.fail_with)
                self.end_headers()
                return
            body, headers = _answer(self.path, form)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body.encode())))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running_akismet(host: str = "127.0.0.1") -> Iterator[AkismetServer]:
    """Runs the server on a free loopback port for the duration of the block."""
    state = AkismetServer(url="")
    httpd = ThreadingHTTPServer((host, 0), _handler(state))
    state.url = f"http://{host}:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
