"""The three servers under test and how each one is asked for the same work.

A target knows how to set itself up (configuration, database, preload), how to start under
gunicorn with WORKERS sync workers, and the requests of each workload: the pages of a full thread
read, the first page of the 10,000-comment thread, a submission, and a mix thread read.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fixture
from servers import HOST, WORKERS, Gunicorn, get, post_json

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
ISSO_VERSION = "0.14.0"
GUNICORN_VERSION = "27.0.1"  # the version Vetted's own virtualenv runs; Isso's gets the same
ISSO_VENV = WORK / "isso-venv"
SITE = "bench"
WRITE_ARTICLES = 100
SUBMISSION_TEMPLATES = 200
#: Sent as elapsed_ms: a person typing, well above any "too fast to be human" spam signal.
ELAPSED_MS = 30_000


@dataclass(frozen=True)
class Submission:
    """One made-up submission; `{n}` in the body is replaced by a number unique to the run."""

    name: str
    email: str
    body: str


def submissions() -> list[Submission]:
    """SUBMISSION_TEMPLATES random submissions, the same for every server."""
    rng = random.Random(fixture.SEED + 1)
    made = []
    for _ in range(SUBMISSION_TEMPLATES):
        name = fixture.random_name(rng)
        body = fixture.random_body(rng)
        made.append(Submission(name, fixture.random_email(rng, name), f"{body} #{{n}}"[:400]))
    return made


@dataclass
class Target:
    """What every server under test provides; see the module docstring."""

    name: str
    port: int
    server: Gunicorn | None = field(default=None, repr=False)

    def gunicorn_argv(self, app: str, python_bin: Path, *extra: str) -> list[str]:
        """The same gunicorn command line for every server."""
        return [
            str(python_bin / "gunicorn"), "-w", str(WORKERS), "-b", f"{HOST}:{self.port}",
            "--worker-class", "sync", "--timeout", "120", "--log-level", "warning",
            *extra, app,
        ]  # fmt: skip

    def setup(self, fixture_path: Path) -> Gunicorn:
        """Prepare configuration and data; describe `server` (not started yet) and return it."""
        raise NotImplementedError

    def require_server(self) -> Gunicorn:
        """The server that `setup` described."""
        assert self.server is not None, "setup() first"
        return self.server

    def full_read(self, size: int) -> list[str]:
        """The paths that read the whole thread of `size` comments, in order."""
        raise NotImplementedError

    def first_page(self, size: int) -> str:
        """The path of the first page of the thread of `size` comments."""
        raise NotImplementedError

    def mix_read(self, number: int) -> str:
        """The path that reads mix thread `number`."""
        raise NotImplementedError

    def submit(self, article: str, submission: Submission) -> tuple[str, str]:
        """The path and JSON body template of a top-level submission to `article`."""
        raise NotImplementedError

    def comment_count(self, body: bytes) -> int:
        """How many comments a read response holds, replies included."""
        raise NotImplementedError


def _count_nested(comments: list[dict[str, Any]], key: str) -> int:
    return sum(1 + _count_nested(c.get(key) or [], key) for c in comments)


class IssoTarget(Target):
    """Isso, pinned, in its own virtualenv, with moderation off and its guard's limits raised."""

    def setup(self, fixture_path: Path) -> Gunicorn:
        """Install Isso if needed, write its configuration and a freshly preloaded database."""
        install_isso()
        db = WORK / "isso.db"
        db.unlink(missing_ok=True)
        cfg = WORK / "isso.cfg"
        template = (BENCH / "isso" / "isso.cfg.in").read_text()
        cfg.write_text(
            template.format(dbpath=db, host=f"http://{HOST}:{self.port}", port=self.port)
        )
        subprocess.run(
            [str(ISSO_VENV / "bin" / "python"), str(BENCH / "isso" / "preload.py"), str(cfg),
             str(fixture_path)],
            check=True, timeout=300,
        )  # fmt: skip
        # Isso's documented gunicorn setup preloads the app, so that its workers share one
        # lock around thread creation and inserts.
        self.server = Gunicorn(
            self.name, self.port,
            self.gunicorn_argv("isso.run", ISSO_VENV / "bin", "--preload"),
            {"ISSO_SETTINGS": str(cfg)}, WORK / "isso.log", WORK, "/?uri=/n1",
        )  # fmt: skip
        return self.server

    def full_read(self, size: int) -> list[str]:
        """Isso returns a whole thread in one response when no limit is given."""
        return [f"/?uri=/{fixture.thread_key(size)}"]

    def first_page(self, size: int) -> str:
        """Twenty top-level comments; Isso then caps each one's replies at the same limit."""
        return f"/?uri=/{fixture.thread_key(size)}&limit=20"

    def mix_read(self, number: int) -> str:
        """The whole (small) mix thread."""
        return f"/?uri=/{fixture.mix_key(number)}"

    def submit(self, article: str, submission: Submission) -> tuple[str, str]:
        """Isso's POST /new; the title spares Isso fetching the article page."""
        body = {
            "text": submission.body, "author": submission.name, "email": submission.email,
            "title": f"Article {article}",
        }  # fmt: skip
        return f"/new?uri=/{article}", json.dumps(body)

    def comment_count(self, body: bytes) -> int:
        """Isso nests replies under "replies"."""
        return _count_nested(json.loads(body)["replies"], "replies")


@dataclass
class VettedTarget(Target):
    """Vetted from this repository, on SQLite, its submission limit raised.

    With `page_cache` off, the per-process caches of rendered thread pages and of thread versions
    are disabled, so every read queries and encodes; that server shares the other's database and
    is not preloaded.
    """

    page_cache: bool = True

    def environment(self) -> dict[str, str]:
        """The VETTED_ settings of the run."""
        uncached = {"VETTED_THREAD_CACHE_BYTES": "0", "VETTED_THREAD_VERSION_TTL": "0"}
        cache = {} if self.page_cache else uncached
        return cache | {
            "VETTED_DATABASE_URL": f"sqlite:///{WORK / 'vetted.sqlite3'}",
            "VETTED_SECRET_KEY": "bench-secret-key-bench-secret-key",
            "VETTED_HASH_KEY": "bench-hash-key-bench-hash-key-bench",
            "VETTED_ENCRYPTION_KEYS": "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMDE=",
            "VETTED_RATELIMIT_SUBMIT": "1000000 per minute",
            "VETTED_CELERY__broker_url": "redis://127.0.0.1:6379/15",
            "VETTED_LOG_LEVEL": "WARNING",
        }

    def setup(self, fixture_path: Path) -> Gunicorn:
        """Make the schema and the site, load the fixture, and describe the server."""
        env = self.environment()
        if self.page_cache:
            (WORK / "vetted.sqlite3").unlink(missing_ok=True)
            subprocess.run(
                [sys.executable, str(BENCH / "preload.py"), str(fixture_path), SITE],
                check=True, timeout=600, env=_with(env), cwd=REPO,
            )  # fmt: skip
        log = WORK / ("vetted.log" if self.page_cache else "vetted-no-cache.log")
        self.server = Gunicorn(
            self.name, self.port,
            self.gunicorn_argv("service:create_app()", REPO / ".venv" / "bin"),
            env, log, REPO,
            f"/api/v1/sites/{SITE}/articles/{fixture.thread_key(1)}/comments",
        )  # fmt: skip
        return self.server

    def _thread(self, article: str, query: str = "") -> str:
        return f"/api/v1/sites/{SITE}/articles/{article}/comments{query}"

    def full_read(self, size: int) -> list[str]:
        """Pages of the largest size, following next_cursor to the end."""
        paths = [self._thread(fixture.thread_key(size), "?limit=100")]
        for _ in range(10_000):
            status, body = get(self.port, paths[-1])
            if status != 200:
                raise RuntimeError(f"vetted: {paths[-1]} answered {status}")
            cursor = json.loads(body)["next_cursor"]
            if cursor is None:
                return paths
            query = urllib.parse.urlencode({"limit": 100, "cursor": cursor})
            paths.append(self._thread(fixture.thread_key(size), f"?{query}"))
        raise RuntimeError("vetted: the thread never ended")

    def first_page(self, size: int) -> str:
        """The default page: twenty top-level comments with all their replies."""
        return self._thread(fixture.thread_key(size))

    def mix_read(self, number: int) -> str:
        """The (small) mix thread's first page, which holds all of it."""
        return self._thread(fixture.mix_key(number))

    def submit(self, article: str, submission: Submission) -> tuple[str, str]:
        """The contract's submission."""
        body = {
            "name": submission.name, "email": submission.email, "body": submission.body,
            "article_title": f"Article {article}", "honeypot": "", "elapsed_ms": ELAPSED_MS,
        }  # fmt: skip
        return self._thread(article), json.dumps(body)

    def comment_count(self, body: bytes) -> int:
        """Vetted nests replies under "replies"."""
        return _count_nested(json.loads(body)["comments"], "replies")


@dataclass
class CeilingTarget(Target):
    """ceiling_app.py, serving a copy of another target's responses byte for byte."""

    bodies_dir: Path = WORK / "ceiling-bodies"
    #: The target copied, and how many pages its full read of each size took.
    source: Target | None = None
    pages: dict[int, int] = field(default_factory=dict)

    def setup(self, fixture_path: Path) -> Gunicorn:
        """Describe the server; `capture` must have written the bodies before it starts."""
        self.server = Gunicorn(
            self.name, self.port,
            self.gunicorn_argv("ceiling_app:create_app()", REPO / ".venv" / "bin"),
            {"CEILING_BODIES": str(self.bodies_dir)}, WORK / "ceiling.log", BENCH, "/c/mix",
        )  # fmt: skip
        return self.server

    def capture(self, source: Target, sizes: tuple[int, ...], page_size: int) -> None:
        """Save `source`'s response to each read (and to one submission) as the ceiling's."""
        self.source = source
        shutil.rmtree(self.bodies_dir, ignore_errors=True)
        self.bodies_dir.mkdir(parents=True)
        for size in sizes:
            paths = source.full_read(size)
            self.pages[size] = len(paths)
            for number, path in enumerate(paths, 1):
                self._save(f"read{size}-p{number}", source, path)
        self._save("page", source, source.first_page(page_size))
        self._save("mix", source, source.mix_read(0))
        path, template = source.submit("w-capture", submissions()[0])
        status, body = post_json(source.port, path, template.replace("{n}", "0").encode())
        if status >= 300:
            raise RuntimeError(f"{source.name}: submission answered {status}: {body[:300]!r}")
        (self.bodies_dir / "submit.json").write_bytes(body)

    def _save(self, name: str, source: Target, path: str) -> None:
        status, body = get(source.port, path)
        if status != 200:
            raise RuntimeError(f"{source.name}: {path} answered {status}")
        (self.bodies_dir / f"{name}.json").write_bytes(body)

    def full_read(self, size: int) -> list[str]:
        """As many pages as the source needed, each the same size as the source's."""
        return [f"/c/read{size}-p{n}" for n in range(1, self.pages[size] + 1)]

    def first_page(self, size: int) -> str:
        """The source's first page."""
        return "/c/page"

    def mix_read(self, number: int) -> str:
        """The source's mix thread read."""
        return "/c/mix"

    def submit(self, article: str, submission: Submission) -> tuple[str, str]:
        """The source's submission response, whatever is posted."""
        assert self.source is not None, "capture() first"
        _, body = self.source.submit(article, submission)
        return "/c/submit", body

    def comment_count(self, body: bytes) -> int:
        """Not meaningful: the bodies are copies."""
        return 0


def _with(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env}


def install_isso() -> None:
    """Create Isso's own virtualenv with the pinned Isso and gunicorn, unless it is there."""
    marker = ISSO_VENV / f".installed-isso-{ISSO_VERSION}-gunicorn-{GUNICORN_VERSION}"
    if marker.exists():
        return
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(ISSO_VENV)], check=True)
    subprocess.run(
        [str(ISSO_VENV / "bin" / "pip"), "install", "--quiet", f"isso=={ISSO_VERSION}",
         f"gunicorn=={GUNICORN_VERSION}"],
        check=True, timeout=600,
    )  # fmt: skip
    marker.touch()
