"""Prints the spam classifier's figures: held-out quality, adaptation, speed, load time, memory.

Usage: python bench/spam_classifier.py [DATA_DIR]
DATA_DIR holds the labelled CSVs (default: $VETTED_SPAM_DATA, else ../shared/data/youtube-spam
next to the repository). Takes about a minute: it trains 100-odd models.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.spam.classifier import BASE_MODEL_PATH, adapt, load_base_model
from service.spam.evaluation import data_files, leave_one_video_out, split_halves
from service.spam.features import load_rows

ROOT = Path(__file__).resolve().parents[1]
# One core, as a worker process gets.
ONE_CORE = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

# Run in a fresh interpreter, so import, load and memory are what a new worker pays; the
# scoring speed is the best of three passes, as other processes share the machine. Peak memory
# is VmHWM, which exec resets: getrusage's ru_maxrss would keep this (forking) process's peak.
WORKER_PROBE = """
import json, pathlib, sys, time
started = time.perf_counter()
import service.spam.classifier as classifier
imported = time.perf_counter()
model = classifier.load_base_model()
loaded = time.perf_counter()
texts = json.loads(sys.stdin.read())
passes = []
for _ in range(3):
    begun = time.perf_counter()
    for text in texts:
        model.score([text])
    passes.append(time.perf_counter() - begun)
print(json.dumps({
    "import_s": imported - started,
    "load_s": loaded - imported,
    "single_per_s": len(texts) / min(passes),
    "max_rss_mb": next(
        int(line.split()[1]) / 1024
        for line in pathlib.Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    ),
}))
"""


def best_of_three(run: Callable[[], object]) -> float:
    """Returns the shortest of three timings of run(), the one least disturbed by other load."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def default_data_dir() -> Path:
    """Returns the data directory from the command line, the environment or the default."""
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    return Path(os.environ.get("VETTED_SPAM_DATA", ROOT.parent / "shared/data/youtube-spam"))


def print_table(title: str, results: list[dict[str, Any]], key: str) -> None:
    """Prints one metrics row per held-out video."""
    print(f"\n{title}")
    print(
        f"{'held out':22} {'n':>4} {'prec':>6} {'recall':>6} {'F1':>6} {'ham_fpr':>7} "
        f"{'unsure':>6} {'missed':>6} {'AUC':>6}  thresholds"
    )
    for result in results:
        m = result[key]
        print(
            f"{result['held_out']:22} {m['n']:>4} {m['precision']:6.3f} {m['recall']:6.3f} "
            f"{m['f1']:6.3f} {m['ham_fpr']:7.2%} {m['unsure_rate']:6.1%} "
            f"{m['missed_spam_rate']:6.1%} {m['roc_auc']:6.4f}  "
            f"{m['spam_threshold']:.3f}/{m['unsure_threshold']:.3f}"
        )


def print_quality(data_dir: Path) -> None:
    """Prints leave-one-video-out quality of the base model and of adaptation."""
    started = time.perf_counter()
    results = leave_one_video_out(data_dir)
    print_table(
        "Base model, trained on the other videos (target F1 >= 0.95, ham_fpr <= 1%)",
        results,
        "base",
    )
    print_table(
        "Adapted to half of the held-out video, scored on the other half, both ways "
        "(target F1 >= 0.95, ham_fpr <= 0.5%)",
        results,
        "adapted",
    )
    for result in results:
        print(f"  {result['held_out']}: config {json.dumps(result['config'])}")
    print(f"  ({time.perf_counter() - started:.0f} s)")


def print_speed(data_dir: Path) -> None:
    """Prints scoring speed, load time and memory of the shipped model, and adaptation cost."""
    rows = load_rows(data_files(data_dir))
    texts = [row.text for row in rows]
    probe = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=os.environ | ONE_CORE,
    )
    worker = json.loads(probe.stdout)
    model = load_base_model()
    batch_per_s = len(texts) / best_of_three(lambda: model.score(texts))
    started = time.perf_counter()
    for text in texts[:300]:
        model.explain(text)
    explain_ms = (time.perf_counter() - started) / 300 * 1000
    feedback, _ = split_halves([row for row in rows if row.source == rows[-1].source])
    started = time.perf_counter()
    site = adapt(model, feedback)
    adapt_s = time.perf_counter() - started
    print("\nShipped model")
    print(
        f"  file {BASE_MODEL_PATH.name}: {BASE_MODEL_PATH.stat().st_size / 1e6:.2f} MB, "
        f"{model.space.size} features, thresholds spam {model.spam_threshold} / unsure "
        f"{model.unsure_threshold}"
    )
    print(
        f"  scorings/s, one comment per call: {worker['single_per_s']:,.0f}; "
        f"in one batch: {batch_per_s:,.0f} (target >= 2,000)"
    )
    print(f"  explain(): {explain_ms:.2f} ms per comment")
    print(
        f"  new worker: import {worker['import_s']:.2f} s, model load {worker['load_s']:.3f} s "
        f"(target < 1 s), peak RSS {worker['max_rss_mb']:.0f} MB (target < 200 MB)"
    )
    print(
        f"  adapt() on {len(feedback)} feedback comments: {adapt_s:.2f} s, "
        f"{len(site.to_bytes()) / 1e3:.0f} kB to store"
    )


def main() -> None:
    """Runs every figure."""
    data_dir = default_data_dir()
    print(f"data: {data_dir}")
    print_speed(data_dir)
    print_quality(data_dir)


if __name__ == "__main__":
    main()
