"""Starting, probing, measuring and stopping the gunicorn servers under test (loopback only)."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
WORKERS = 2
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: A server is idle when its workers use at most IDLE_CPU_S of CPU in IDLE_WINDOW_S.
IDLE_WINDOW_S = 0.15
IDLE_CPU_S = 0.02
IDLE_TIMEOUT_S = 90.0


def get(port: int, path: str, timeout: float = 60.0) -> tuple[int, bytes]:
    """One GET on a new loopback connection: (status, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def post_json(
    port: int, path: str, body: bytes, timeout: float = 60.0, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One JSON POST on a new loopback connection: (status, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        sent = {"Content-Type": "application/json", **(headers or {})}
        connection.request("POST", path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Gunicorn:
    """One gunicorn master and its workers, started from `argv` in its own process group."""

    name: str
    port: int
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    cwd: Path
    probe_path: str = "/"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the master and wait until a worker answers the probe."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            env={**os.environ, **self.env},
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            try:
                status, _ = get(self.port, self.probe_path, timeout=5)
                if status < 500 and len(self.worker_pids()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """Ask the master to stop (SIGTERM), then kill its group if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def wait_idle(self, timeout_s: float = IDLE_TIMEOUT_S) -> float:
        """Wait until the workers stop using CPU; return the seconds waited.

        A sync worker goes on serving the requests queued in its backlog after the client has
        gone; the next run, whichever server it measures, must not share the cores with that.
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            before = self.worker_cpu_s()
            time.sleep(IDLE_WINDOW_S)
            if self.worker_cpu_s() - before <= IDLE_CPU_S:
                break
        return time.monotonic() - started

    def worker_pids(self) -> list[int]:
        """The pids of the master's children (its workers)."""
        if self.process is None:
            return []
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        if children.exists():
            return [int(pid) for pid in children.read_text().split()]
        return [pid for pid in _all_pids() if _parent_of(pid) == master]

    def worker_rss_mb(self) -> list[float]:
        """Each worker's resident set size, in MiB."""
        sizes = []
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return sizes

    def worker_cpu_s(self) -> float:
        """CPU seconds (user + system) the workers have used so far."""
        total = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1
