"""The write client: THREADS threads each POSTing the plan's submissions, bounded in time and count.

Reads the same plan format as wrk/plan.lua (weight, method, path, body with "{n}"), sends one
request per connection as gunicorn's sync workers close it anyway, and prints one JSON line after
"BENCH-RESULT " with the figures wrk reports. Only the standard library; only loopback.

Usage: writer.py HOST PORT PLAN_FILE THREADS DURATION_S MAX_REQUESTS
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field

JSON_HEADERS = {"Content-Type": "application/json"}
TIMEOUT_S = 30.0


@dataclass
class Tally:
    """What the threads measured, appended to under a lock."""

    latencies_us: list[int] = field(default_factory=list)
    status_errors: int = 0
    failures: int = 0
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def read_plan(path: str) -> list[tuple[str, str, str]]:
    """The POST lines of a plan file as (method, path, body template)."""
    with open(path) as plan:
        rows = [line.rstrip("\n").split("\t") for line in plan if line.strip()]
    return [(row[1], row[2], row[3]) for row in rows if row[1] == "POST"]


def percentile(sorted_values: list[int], share: float) -> int:
    """The nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0
    rank = max(1, round(share * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def send_one(host: str, port: int, method: str, path: str, body: str) -> int:
    """Send one request on a new connection and return its status."""
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
    try:
        connection.request(method, path, body=body.encode(), headers=JSON_HEADERS)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def run_thread(
    number: int,
    args: tuple[str, int, int],
    plan: list[tuple[str, str, str]],
    deadline: float,
    tally: Tally,
) -> None:
    """Send random plan requests until the deadline or the shared request budget is spent."""
    host, port, max_requests = args
    rng = random.Random(number)
    counter = 0
    while time.monotonic() < deadline:
        with tally.lock:
            if tally.sent >= max_requests:
                return
            tally.sent += 1
        method, path, template = rng.choice(plan)
        counter += 1
        body = template.replace("{n}", f"p{number}x{counter}")
        started = time.perf_counter()
        try:
            status = send_one(host, port, method, path, body)
        except OSError:
            with tally.lock:
                tally.failures += 1
            continue
        elapsed_us = int((time.perf_counter() - started) * 1e6)
        if time.monotonic() > deadline:
            return  # finished after the end: not counted, as wrk counts none of those either
        with tally.lock:
            tally.latencies_us.append(elapsed_us)
            if status >= 400:
                tally.status_errors += 1


def main(argv: list[str]) -> None:
    """Run the threads and print the result line."""
    host, port, plan_path = argv[1], int(argv[2]), argv[3]
    threads, duration_s, max_requests = int(argv[4]), float(argv[5]), int(argv[6])
    plan = read_plan(plan_path)
    tally = Tally()
    started = time.monotonic()
    deadline = started + duration_s
    workers = [
        threading.Thread(
            target=run_thread, args=(n, (host, port, max_requests), plan, deadline, tally)
        )
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=duration_s + TIMEOUT_S + 5)
    duration_us = int(duration_s * 1e6)
    latencies = sorted(tally.latencies_us)
    result = {
        "requests": len(latencies),
        "duration_us": duration_us,
        "errors": {"status": tally.status_errors, "connect": tally.failures},
        "p50_us": percentile(latencies, 0.50),
        "p99_us": percentile(latencies, 0.99),
        "max_us": latencies[-1] if latencies else 0,
        "mean_us": sum(latencies) / len(latencies) if latencies else 0.0,
    }
    print("BENCH-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
