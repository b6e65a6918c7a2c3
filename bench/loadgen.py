"""The two load generators, wrk (reads, the mix) and writer.py (submissions), run as children.

Each run returns a Sample: what the client measured plus the client's own CPU use, taken from the
child's rusage, so a table can show that the client was not the bottleneck.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers import HOST

BENCH = Path(__file__).resolve().parent
WRK_TIMEOUT_S = 30
#: Extra wall time allowed past a run's duration before the child is killed.
GRACE_S = WRK_TIMEOUT_S + 15


@dataclass(frozen=True)
class Sample:
    """One run of one cell against one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    client_cpu_pct: float


def _run_child(argv: list[str], duration_s: float) -> tuple[dict[str, Any], float]:
    """Run a client, bounded in time; return its BENCH-RESULT and its CPU use in % of a core."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(argv, stdout=out, stderr=err)
        deadline = started + duration_s + GRACE_S
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        while not pid and time.monotonic() < deadline:
            time.sleep(0.05)
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if not pid:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
        # Reaped here, with its rusage; tell Popen so that it does not wait again.
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    lines = [line for line in stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if not lines:
        raise RuntimeError(f"no result from {argv[0]}: {stdout[-500:]} {stderr[-500:]}")
    cpu_s = usage.ru_utime + usage.ru_stime
    return json.loads(lines[-1].removeprefix("BENCH-RESULT ")), 100.0 * cpu_s / wall


def _sample(result: dict[str, Any], cpu_pct: float) -> Sample:
    return Sample(
        rps=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        errors=sum(result["errors"].values()),
        requests=result["requests"],
        client_cpu_pct=cpu_pct,
    )


def wrk_plan(port: int, plan: Path, connections: int, duration_s: float) -> Sample:
    """wrk with one thread sending the plan's weighted requests over `connections`."""
    argv = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
        f"--timeout={WRK_TIMEOUT_S}s", "-s", str(BENCH / "wrk" / "plan.lua"),
        f"http://{HOST}:{port}", "--", str(plan),
    ]  # fmt: skip
    return _sample(*_run_child(argv, duration_s))


def wrk_chain(port: int, plan: Path, connections: int, duration_s: float) -> Sample:
    """wrk with one thread per connection, each reading the plan's pages in order (full reads)."""
    argv = [
        "wrk", f"-t{connections}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
        f"--timeout={WRK_TIMEOUT_S}s", "-s", str(BENCH / "wrk" / "chain.lua"),
        f"http://{HOST}:{port}", "--", str(plan),
    ]  # fmt: skip
    return _sample(*_run_child(argv, duration_s))


def writer(port: int, plan: Path, threads: int, duration_s: float, max_requests: int) -> Sample:
    """writer.py with `threads` threads POSTing the plan's submissions."""
    argv = [
        sys.executable, str(BENCH / "writer.py"), HOST, str(port), str(plan), str(threads),
        str(duration_s), str(max_requests),
    ]  # fmt: skip
    return _sample(*_run_child(argv, duration_s))
