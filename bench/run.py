"""`make bench`: Vetted against Isso and the stack's ceiling, one table of medians.

Starts the three servers on 127.0.0.1 (gunicorn, same workers), preloads the same fixture into
Isso and Vetted, copies Vetted's responses into the ceiling, then runs every cell (workload x
connections) REPS times, rotating which server goes first, and prints one table. Then the growth
of read latency with N and, unless skipped, the submission-to-verdict latency. Everything is
bounded: each run by its duration, the whole by --budget.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import fixture
import loadgen
import report
from servers import get
from targets import WORK, WRITE_ARTICLES, CeilingTarget, IssoTarget, Target, VettedTarget
from targets import submissions as make_submissions

BENCH = Path(__file__).resolve().parent
READ_SIZES = (10, 100, 1_000)
PAGE_SIZE = 10_000
GROWTH_SIZES = fixture.SIZED_THREADS
GROWTH_READS = 10
GROWTH_SECONDS = 4.0
GROWTH_BUDGET_S = 75.0
#: Writes per cell, at most: far more than a few seconds allow, a bound in count beside time.
MAX_WRITES = 20_000
T = TypeVar("T")


@dataclass(frozen=True)
class Workload:
    """A row group of the table: how its requests are made and sent."""

    name: str
    kind: str  # "write" (writer.py), "chain" (wrk, full reads) or "plan" (wrk, weighted)
    size: int = 0


WORKLOADS = (
    Workload("submit", "write"),
    *(Workload(f"read {n:,} in full", "chain", n) for n in READ_SIZES),
    Workload(f"first page of {PAGE_SIZE:,}", "plan", PAGE_SIZE),
    Workload("mix 95 % read / 5 % write", "plan"),
)


def plan_lines(target: Target, workload: Workload) -> list[str]:
    """The plan file of a workload for a target (see wrk/plan.lua and wrk/chain.lua)."""
    made = make_submissions()
    if workload.kind == "chain":
        return target.full_read(workload.size)
    if workload.kind == "write":
        return [
            "1\tPOST\t{}\t{}".format(*target.submit(f"w-{i % WRITE_ARTICLES:03d}", sub))
            for i, sub in enumerate(made)
        ]
    if workload.size:
        return [f"1\tGET\t{target.first_page(workload.size)}"]
    reads = [f"19\tGET\t{target.mix_read(n)}" for n in range(fixture.MIX_THREADS)]
    writes = [
        "1\tPOST\t{}\t{}".format(*target.submit(fixture.mix_key(n), made[n % len(made)]))
        for n in range(fixture.MIX_THREADS)
    ]
    return reads + writes


def run_cell(
    target: Target, workload: Workload, plan: Path, connections: int, seconds: float
) -> report.Run:
    """One run of one cell: the client's sample plus the server's RSS and CPU."""
    server = target.server
    assert server is not None
    cpu_before, started = server.worker_cpu_s(), time.monotonic()
    if workload.kind == "write":
        sample = loadgen.writer(target.port, plan, connections, seconds, MAX_WRITES)
    elif workload.kind == "chain":
        sample = loadgen.wrk_chain(target.port, plan, connections, seconds)
    else:
        sample = loadgen.wrk_plan(target.port, plan, connections, seconds)
    wall = time.monotonic() - started
    server_cpu_pct = 100.0 * (server.worker_cpu_s() - cpu_before) / wall
    rss_mb = max(server.worker_rss_mb(), default=0.0)
    server.wait_idle()
    return report.Run(**asdict(sample), rss_mb=rss_mb, server_cpu_pct=server_cpu_pct)


def check_reads(targets: list[Target]) -> None:
    """Every full read returns the whole thread (the ceiling's bodies are copies)."""
    for target in targets:
        if isinstance(target, CeilingTarget):
            continue
        for size in READ_SIZES:
            count = 0
            for path in target.full_read(size):
                status, body = get(target.port, path)
                if status != 200:
                    raise RuntimeError(f"{target.name}: {path} answered {status}")
                count += target.comment_count(body)
            if count != size:
                raise RuntimeError(f"{target.name}: thread n{size} read {count} comments")


def growth(targets: list[Target]) -> dict[str, dict[int, float | None]]:
    """Median latency (ms) of one full read at one connection, by thread size.

    Sizes go smallest first for every server, so that when GROWTH_BUDGET_S is spent only the
    largest threads go unmeasured (None).
    """
    readers = [t for t in targets if not isinstance(t, CeilingTarget)]
    medians: dict[str, dict[int, float | None]] = {t.name: {} for t in readers}
    deadline = time.monotonic() + GROWTH_BUDGET_S
    for size in GROWTH_SIZES:
        for target in readers:
            paths = target.full_read(size)
            times: list[float] = []
            until = min(deadline, time.monotonic() + GROWTH_SECONDS)
            while len(times) < GROWTH_READS and time.monotonic() < until:
                started = time.perf_counter()
                for path in paths:
                    get(target.port, path)
                times.append((time.perf_counter() - started) * 1000)
            medians[target.name][size] = statistics.median(times) if times else None
    return medians


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables and write results/latest.{md,json}."""
    args = parse_args(argv)
    started, load_before = time.monotonic(), os.getloadavg()
    WORK.mkdir(parents=True, exist_ok=True)
    fixture_path = WORK / "fixture.jsonl"
    print(f"fixture: {fixture.write(fixture_path):,} comments", flush=True)
    isso = IssoTarget("Isso", args.port_base)
    vetted = VettedTarget("Vetted", args.port_base + 1)
    ceiling = CeilingTarget("ceiling", args.port_base + 2)
    cold = VettedTarget("Vetted, no page cache", args.port_base + 3, page_cache=False)
    targets: list[Target] = [t for t in (isso, vetted, ceiling) if t.name.lower() in args.servers]
    extra: list[Target] = [cold] if vetted in targets and not args.skip_growth else []
    source = vetted if vetted in targets else isso
    results = report.Results(targets=targets, workloads=WORKLOADS, connections=args.connections)
    try:
        start_servers(targets + extra, fixture_path, source)
        check_reads(targets)
        results.runs = run_cells(targets, write_plans(targets), args, started)
        publish(results, args, source, started, load_before)
        if not args.skip_growth:
            results.growth = attempt(lambda: growth(targets + extra), results, "growth")
        if vetted in targets and not args.skip_verdict:
            import verdict

            measure = lambda: verdict.measure(vetted, args.verdict_seconds)  # noqa: E731
            results.verdict = attempt(measure, results, "submission to verdict")
    finally:
        for target in targets + extra:
            if target.server:
                target.server.stop()
    print(publish(results, args, source, started, load_before), flush=True)
    if args.bigdb:
        import bigdb

        return bigdb.main([])
    return 0


def attempt(measure: Callable[[], T], results: report.Results, what: str) -> T | None:
    """Run one of the extra measurements; a failure becomes a note, not a lost table."""
    try:
        return measure()
    except Exception as exc:  # the table of cells is worth keeping whatever failed here
        results.notes.append(f"{what} failed: {exc}")
        print(f"{what} failed: {exc}", flush=True)
        return None


def publish(
    results: report.Results,
    args: argparse.Namespace,
    source: Target,
    started: float,
    load_before: tuple[float, float, float],
) -> str:
    """Write results/latest.md and latest.json as they stand; return the Markdown."""
    results.context = environment(args, source, time.monotonic() - started, load_before)
    text = report.render(results)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text)
    (out / "latest.json").write_text(json.dumps(report.raw(results), indent=1))
    return text


def start_servers(targets: list[Target], fixture_path: Path, source: Target) -> None:
    """Set up and start every target; the ceiling last, once it has copied `source`'s bodies."""
    for target in targets:
        server = target.setup(fixture_path)
        if not isinstance(target, CeilingTarget):
            server.start()
            print(f"{target.name}: up on port {target.port}", flush=True)
    for target in targets:
        if isinstance(target, CeilingTarget):
            target.capture(source, READ_SIZES, PAGE_SIZE)
            target.require_server().start()
            print(f"ceiling: up on port {target.port}, mirroring {source.name}", flush=True)


def write_plans(targets: list[Target]) -> dict[tuple[str, str], Path]:
    """Every (target, workload) plan file."""
    directory = WORK / "plans"
    directory.mkdir(exist_ok=True)
    plans = {}
    for target in targets:
        for number, workload in enumerate(WORKLOADS):
            path = directory / f"{target.name.lower()}-{number}.txt"
            path.write_text("\n".join(plan_lines(target, workload)) + "\n")
            plans[target.name, workload.name] = path
    return plans


def run_cells(
    targets: list[Target],
    plans: dict[tuple[str, str], Path],
    args: argparse.Namespace,
    started: float,
) -> report.RunsByCell:
    """Every cell once per round, REPS rounds, servers in a rotating order; bounded by --budget.

    Rounds are outermost, so a noisy minute hits one run of many cells rather than every run of
    one, and a spent budget leaves every cell measured at least once before dropping repeats.
    """
    deadline = started + args.budget
    cells = [
        (workload, connections)
        for workload in WORKLOADS
        if workload.name in args.workloads_selected
        for connections in args.connections
    ]
    runs: report.RunsByCell = {}
    for rep in range(args.reps):
        for number, (workload, connections) in enumerate(cells):
            shift = (rep + number) % len(targets)
            for target in targets[shift:] + targets[:shift]:
                if time.monotonic() + args.duration > deadline:
                    print(f"budget spent in round {rep + 1}: remaining runs skipped", flush=True)
                    return runs
                plan = plans[target.name, workload.name]
                run = run_cell(target, workload, plan, connections, args.duration)
                runs.setdefault((workload.name, connections, target.name), []).append(run)
            elapsed = time.monotonic() - started
            line = report.progress(workload.name, connections, runs, targets, elapsed)
            print(f"round {rep + 1}/{args.reps} {line}", flush=True)
    return runs


def environment(
    args: argparse.Namespace,
    source: Target,
    elapsed: float,
    load_before: tuple[float, float, float],
) -> dict[str, Any]:
    """What the figures were measured on and with."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu, "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(), "duration_s": args.duration, "reps": args.reps,
        "ceiling_mirrors": source.name, "elapsed_s": round(elapsed),
        "load_before": round(load_before[0], 1), "load_after": round(os.getloadavg()[0], 1),
    }  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Options; the defaults are what `make bench` runs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per run")
    parser.add_argument("--reps", type=int, default=3, help="runs per cell and server")
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--servers", default="isso,vetted,ceiling")
    parser.add_argument("--workloads", default="all", help="comma-separated name prefixes")
    parser.add_argument("--budget", type=float, default=720.0, help="seconds for the cells")
    parser.add_argument("--port-base", type=int, default=8701)
    parser.add_argument("--skip-growth", action="store_true")
    parser.add_argument("--skip-verdict", action="store_true")
    parser.add_argument("--verdict-seconds", type=float, default=15.0)
    parser.add_argument("--bigdb", action="store_true", help="then run bigdb.py (PostgreSQL)")
    args = parser.parse_args(argv)
    args.connections = [int(c) for c in args.connections.split(",")]
    args.servers = args.servers.lower().split(",")
    prefixes = args.workloads.split(",")
    args.workloads_selected = {
        w.name for w in WORKLOADS if args.workloads == "all" or w.name.startswith(tuple(prefixes))
    }
    return args


if __name__ == "__main__":
    sys.exit(main())
