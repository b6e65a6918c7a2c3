"""Medians, spreads and the printed tables (Markdown, so results/latest.md is the same text)."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

#: A cell whose client completed fewer requests than this per connection is marked: its
#: latencies come from too few requests, and requests still in flight at the end are not counted.
FEW_PER_CONNECTION = 3


@dataclass(frozen=True)
class Run:
    """One run of one cell against one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    client_cpu_pct: float
    rss_mb: float
    server_cpu_pct: float


#: The runs of each cell: (workload, connections, server) -> runs.
RunsByCell = dict[tuple[str, int, str], list[Run]]


@dataclass
class Results:
    """Everything a run measured so far, and what it was measured on."""

    targets: list[Any]
    workloads: tuple[Any, ...]
    connections: list[int]
    runs: RunsByCell = field(default_factory=dict)
    growth: dict[str, dict[int, float | None]] | None = None
    verdict: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


def median(runs: list[Run], name: str) -> float:
    """The median of one field over the runs."""
    return float(statistics.median(getattr(run, name) for run in runs))


def spread_pct(runs: list[Run]) -> float:
    """Max minus min of req/s, as a percentage of the median."""
    values = [run.rps for run in runs]
    middle = statistics.median(values)
    return 100.0 * (max(values) - min(values)) / middle if middle else 0.0


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(top: list[Run] | None, bottom: list[Run] | None) -> str:
    if not top or not bottom:
        return ""
    above, below = median(top, "rps"), median(bottom, "rps")
    return f"{above / below:.2f}" if above and below else ""


def progress(
    workload: str, connections: int, runs: RunsByCell, targets: list[Any], elapsed: float
) -> str:
    """One line after each cell, so a long run shows that it moves."""
    parts = []
    for target in targets:
        cell = runs.get((workload, connections, target.name))
        if cell:
            parts.append(f"{target.name} {median(cell, 'rps'):,.1f}/s")
    return f"  [{elapsed:4.0f} s] {workload} @ {connections}: " + ", ".join(parts)


def render(results: Results) -> str:
    """Every table and note of a run, as Markdown."""
    context = results.context
    lines = [
        f"# Vetted benchmark, {context['date']}",
        "",
        f"{context['cpu']}, {context['cores']} cores; Python {context['python']}; "
        f"{_rounds(results)} of {context['duration_s']:g} s per cell and server, "
        f"servers alternated; the ceiling returns copies of {context['ceiling_mirrors']}'s "
        f"responses. Whole run: {context['elapsed_s']} s. Load average (1 min) at the start "
        f"{context['load_before']}, at the end {context['load_after']}: other jobs share the "
        "machine.",
        "",
        "Medians over the runs; spread = (max - min) / median of req/s. For the full reads, "
        "req/s counts whole threads read (all pages) and the latencies are those of a whole "
        f"read. `*`: fewer than {FEW_PER_CONNECTION} requests per connection completed, so the "
        "latencies rest on few requests. CPU in % of one core.",
        "",
        *cells_table(results),
        *growth_table(results.growth),
    ]
    if results.verdict:
        lines += ["", "## Submission to verdict (Vetted, Redis broker, one worker)", ""]
        lines += [f"- {key}: {value}" for key, value in results.verdict.items()]
    if results.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in results.notes)]
    return "\n".join(lines) + "\n"


def _rounds(results: Results) -> str:
    counts = {len(cell) for cell in results.runs.values()} or {0}
    low, high = min(counts), max(counts)
    runs = f"{high} runs" if low == high else f"{low} to {high} runs (budget spent)"
    return (
        f"{runs} (of {results.context['reps']} asked)" if high < results.context["reps"] else runs
    )


def cells_table(results: Results) -> list[str]:
    """The main table: one row per workload, connections and server."""
    lines = [
        "| workload | conn | server | req/s | spread | p50 ms | p99 ms | errors | RSS/worker MB "
        "| client CPU | server CPU | Vetted/Isso | Vetted/ceiling |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for workload in results.workloads:
        for conn in results.connections:
            for target in results.targets:
                cell = results.runs.get((workload.name, conn, target.name))
                if cell:
                    lines.append(_row(results.runs, workload.name, conn, target.name, cell))
    return lines


def _row(runs: RunsByCell, workload: str, conn: int, name: str, cell: list[Run]) -> str:
    few = "*" if median(cell, "requests") < FEW_PER_CONNECTION * conn else ""
    ratios = ["", ""]
    if name == "Vetted":
        ratios = [
            _ratio(cell, runs.get((workload, conn, "Isso"))),
            _ratio(cell, runs.get((workload, conn, "ceiling"))),
        ]
    return (
        f"| {workload} | {conn} | {name} | {_number(median(cell, 'rps'))}{few} "
        f"| {spread_pct(cell):.0f} % | {_number(median(cell, 'p50_ms'))} "
        f"| {_number(median(cell, 'p99_ms'))} | {sum(r.errors for r in cell)} "
        f"| {median(cell, 'rss_mb'):.0f} | {median(cell, 'client_cpu_pct'):.0f} % "
        f"| {median(cell, 'server_cpu_pct'):.0f} % | {ratios[0]} | {ratios[1]} |"
    )


def growth_table(grown: dict[str, dict[int, float | None]] | None) -> list[str]:
    """Read latency by thread size, one row per server ("-": not measured within its budget)."""
    if not grown:
        return []
    sizes = sorted({size for by_size in grown.values() for size in by_size})
    lines = [
        "",
        "## Read latency by thread size (one connection, whole thread, median ms)",
        "",
        "| server | " + " | ".join(f"N = {size:,}" for size in sizes) + " |",
        "|---|" + "--:|" * len(sizes),
    ]
    for name, by_size in grown.items():
        values = [by_size.get(size) for size in sizes]
        cells = " | ".join("-" if v is None else _number(v) for v in values)
        lines.append(f"| {name} | {cells} |")
    return lines


def raw(results: Results) -> dict[str, Any]:
    """Every run's figures, for later comparison."""
    return {
        "context": results.context,
        "runs": [
            {"workload": w, "connections": c, "server": s, "runs": [asdict(r) for r in cell]}
            for (w, c, s), cell in results.runs.items()
        ],
        "growth_ms": results.growth,
        "verdict": results.verdict,
        "notes": results.notes,
    }
