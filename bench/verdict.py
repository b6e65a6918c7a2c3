"""Submission-to-verdict latency: Vetted's web server, a Redis broker and one Celery worker.

Submissions are sent open-loop at a steady RATE per second (each at its scheduled time, from a
few sender threads, so one slow answer does not delay the next), for a bounded number of
seconds. The latency of one comment is its `checked_at` (set by the worker's spam check) minus
the moment its request was sent; both clocks are this machine's.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import statistics
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from servers import post_json
from sqlalchemy import Engine
from targets import REPO, WORK, VettedTarget, submissions

RATE = 20
SENDERS = 4
WORKER_READY_S = 60.0
DRAIN_S = 60.0


def measure(vetted: VettedTarget, seconds: float) -> dict[str, str]:
    """Run the steady submissions with one worker; return the figures for the report."""
    env = vetted.environment()
    # The tree may have gained a migration since the preload: the worker runs the code of now.
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "vetted"), "db", "upgrade"],
        cwd=REPO, env={**os.environ, **env}, check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    _purge_broker(env["VETTED_CELERY__broker_url"])
    worker = _start_worker(env)
    try:
        _wait_until_checked(vetted, [_submit(vetted, 0, "v-probe")], WORKER_READY_S)
        sent = _steady_submissions(vetted, seconds)
        checked = _wait_until_checked(vetted, list(sent), DRAIN_S)
    finally:
        _stop_worker(worker)
    latencies = sorted((at - sent[i]) * 1000 for i in sent if (at := checked.get(i)) is not None)
    verdicts = Counter(_verdicts(list(sent)))
    done = sorted(at for at in checked.values() if at is not None)
    busy_s = done[-1] - done[0] if len(done) > 1 else 0.0
    return {
        "rate": f"{RATE} submissions/s for {seconds:g} s ({len(sent)} sent)",
        "outcome": ", ".join(f"{count} {verdict}" for verdict, count in verdicts.most_common()),
        "verdicts": f"{len(latencies)} of {len(sent)} checked within {DRAIN_S:g} s of the last",
        "p50": f"{_rank(latencies, 0.50):.0f} ms",
        "p99": f"{_rank(latencies, 0.99):.0f} ms",
        "max": f"{latencies[-1]:.0f} ms" if latencies else "-",
        "mean": f"{statistics.fmean(latencies):.0f} ms" if latencies else "-",
        # Above RATE the worker keeps up and this is RATE; below, it is what one worker can do.
        "checks per second": f"{(len(done) - 1) / busy_s:.1f}" if busy_s else "-",
    }


def _rank(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values), max(1, round(share * len(values)))) - 1]


def _purge_broker(url: str) -> None:
    """Drop the tasks the throughput runs queued (no worker ran then) from the bench's Redis db."""
    import redis

    redis.Redis.from_url(url).flushdb()


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (WORK / "worker.log").open("ab")
    argv = [
        str(REPO / ".venv" / "bin" / "celery"), "-A", "workers.app", "worker", "--pool=solo",
        "--concurrency=1", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    process = subprocess.Popen(
        argv, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    log.close()
    return process


def _stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _submit(vetted: VettedTarget, number: int, article: str) -> int:
    """One submission; its comment id."""
    template = submissions()[number % 200]
    # Each from a reader of its own, with an email and an address (behind a proxy: Vetted trusts
    # one hop in the bench) of its own: the throughput runs posted hundreds of comments as each
    # template's author, and 300 a minute from one address or author are a flood; the check
    # would say so (spam), which is not the path this measures.
    template = dataclasses.replace(template, email=f"v{number}.{template.email}")
    path, body = vetted.submit(article, template)
    reader = {"X-Forwarded-For": f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"}
    body_bytes = body.replace("{n}", f"v{number}").encode()
    status, answer = post_json(vetted.port, path, body_bytes, headers=reader)
    if status != 202:
        raise RuntimeError(f"vetted: submission answered {status}: {answer[:300]!r}")
    return int(json.loads(answer)["id"])


def _steady_submissions(vetted: VettedTarget, seconds: float) -> dict[int, float]:
    """Submit RATE per second for `seconds`; comment id -> wall-clock time it was sent."""
    sent: dict[int, float] = {}
    lock = threading.Lock()
    total = int(RATE * seconds)
    start = time.monotonic() + 0.2

    def send(number: int) -> None:
        delay = start + number / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        at = time.time()
        comment_id = _submit(vetted, number + 1, f"v-{number % 50:02d}")
        with lock:
            sent[comment_id] = at

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, range(total)))
    return sent


def _wait_until_checked(
    vetted: VettedTarget, ids: list[int], timeout_s: float
) -> dict[int, float | None]:
    """Comment id -> checked_at (epoch seconds, None if unchecked), polling until all or timeout."""
    deadline = time.monotonic() + timeout_s
    checked = _checked_at(ids)
    while any(v is None for v in checked.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
        checked = _checked_at(ids)
    if all(v is None for v in checked.values()):
        raise RuntimeError(f"the worker checked none of {len(ids)} comments; see worker.log")
    return checked


def _checked_at(ids: list[int]) -> dict[int, float | None]:
    """checked_at of each comment (epoch seconds), read with the service's own model."""
    from sqlalchemy import select

    from service.comments.models import Comment

    with _engine().connect() as connection:
        rows = connection.execute(
            select(Comment.id, Comment.checked_at).where(Comment.id.in_(ids))
        ).all()
    return {row.id: row.checked_at.timestamp() if row.checked_at else None for row in rows}


def _verdicts(ids: list[int]) -> list[str]:
    """The verdict of each comment (or "unchecked")."""
    from sqlalchemy import select

    from service.comments.models import Comment

    with _engine().connect() as connection:
        found = connection.scalars(select(Comment.verdict).where(Comment.id.in_(ids))).all()
    return [str(verdict) if verdict else "unchecked" for verdict in found]


@functools.cache
def _engine() -> Engine:
    from service.db import make_engine

    return make_engine(VettedTarget("Vetted", 0).environment()["VETTED_DATABASE_URL"])
