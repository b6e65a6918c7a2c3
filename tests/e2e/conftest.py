"""A real Celery worker, in its own process, on a real broker and a real database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import REDIS_URL, TEST_KEYS, require_server

ROOT = Path(__file__).resolve().parents[2]


def broker_url(kind: str, tmp_path: Path) -> str:
    """A broker of ``kind``, checked to be reachable (a failure in CI, a skip elsewhere)."""
    if kind == "redis":
        require_server("Redis", "127.0.0.1", 6379)
        return f"{REDIS_URL}/13"
    if kind == "amqp":
        require_server("RabbitMQ", "127.0.0.1", 5672)
        return "amqp://guest:guest@127.0.0.1:5672//"
    return f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"


class Worker:
    """A running ``celery worker`` process."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def worker_env(database_url: str, broker: str, queue: str, **settings: Any) -> dict[str, str]:
    """The environment that points a worker at the test's database and broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTED_")}
    env.update({f"VETTED_{k}": str(v) for k, v in TEST_KEYS.items()})
    env.update({f"VETTED_{k}": str(v) for k, v in settings.items()})
    env["VETTED_DATABASE_URL"] = database_url
    env["VETTED_CELERY__broker_url"] = broker
    env["VETTED_CELERY__task_default_queue"] = queue
    return env


@pytest.fixture
def queue_name() -> str:
    """A queue of this test's own, so that tests sharing a broker never steal each other's tasks."""
    return f"vetted-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Starts workers (with beat when asked) and stops them at the end of the test."""
    started: list[Worker] = []

    def start(env: dict[str, str], beat: bool = False) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
        ]
        if beat:
            args += ["--beat", "--schedule", str(tmp_path / f"beat-{len(started)}")]
        with log.open("wb") as out:
            process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        worker = Worker(process, log)
        started.append(worker)
        deadline = time.monotonic() + 45
        while "ready." not in worker.output():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start:\n" + worker.output())
            time.sleep(0.2)
        return worker

    yield start
    for worker in started:
        worker.process.terminate()
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()


@pytest.fixture
def app_with_worker(
    database_url: str,
    queue_name: str,
    tmp_path: Path,
    make_app: Callable[..., Flask],
    start_worker: Callable[..., Worker],
) -> Callable[..., Flask]:
    """Makes an app on a real broker (Redis unless told) whose queue a real worker consumes.

    ``settings`` go to both the app and the worker, as one deployment's configuration would.
    """

    def make(broker_kind: str = "redis", **settings: Any) -> Flask:
        broker = broker_url(broker_kind, tmp_path)
        app = make_app(CELERY={"broker_url": broker, "task_default_queue": queue_name}, **settings)
        start_worker(worker_env(database_url, broker, queue_name, **settings))
        return app

    return make


def wait_until(condition: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    """Polls ``condition`` until it is truthy; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what or condition}")
