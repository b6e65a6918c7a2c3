"""Prints how AdaptConfig candidates do on a protocol that never sees bench/spam_learning.py's.

Usage: python bench/spam_adapt_tuning.py [DATA_DIR]

The learning bench reports base models trained on three videos adapting to the fourth. The
adaptation settings are chosen here instead: a base model trained on two videos (as
`vetted spam train` would, train_validated) adapts to one half of a third video and scores
the other half, both ways, for all twelve (pair, third video) combinations. Each candidate
also gets the one-report check of issue 4: after a single "not spam" on a channel plug, how
many of the other spam comments of the third video the site model still flags, against
the base model. Slow (several minutes): run it with nice.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np

from service.spam.classifier import AdaptConfig, SpamModel, adapt
from service.spam.evaluation import data_files, metrics_from_scores, split_halves, train_validated
from service.spam.features import LabelledText, load_rows

ROOT = Path(__file__).resolve().parents[1]
PLUG = "Check out my channel http://beats.example subscribe!!!"
# Every candidate tried, in the order tried; AdaptConfig's defaults are the one with the most
# runs meeting the target, ties going to the fewest flips after one report.
CANDIDATES = [
    AdaptConfig(prior_strength=strength, prior_decay=decay, base_prior=base_prior)
    for strength in (4.0, 16.0, 64.0)
    for decay in (1.5, 2.0, 2.5)
    for base_prior in (100.0, 300.0, 1000.0)
]


def runs(
    base: SpamModel, rows: list[LabelledText], config: AdaptConfig
) -> list[tuple[float, float]]:
    """(F1, ham_fpr) of learn-one-half, score-the-other, both ways."""
    results = []
    for learned, held in itertools.permutations(split_halves(rows)):
        site = adapt(base, learned, config)
        scores = site.score([row.text for row in held])
        metrics = metrics_from_scores(
            [row.is_spam for row in held], scores, base.spam_threshold, base.unsure_threshold
        )
        results.append((float(metrics["f1"]), float(metrics["ham_fpr"])))
    return results


def one_report_flips(base: SpamModel, rows: list[LabelledText], config: AdaptConfig) -> int:
    """How many spam comments the base flags and a site model with one ham report does not."""
    spam = [row.text for row in rows if row.is_spam]
    site = adapt(base, [LabelledText(PLUG, False)], config)
    before = base.score(spam) >= base.spam_threshold
    after = site.score(spam) >= base.spam_threshold
    return int((before & ~after).sum())


def main() -> None:
    """Trains the six two-video bases, then scores every candidate on the twelve runs."""
    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/data/youtube-spam"
    rows = load_rows(data_files(data_dir))
    videos = sorted({row.source for row in rows})
    started = time.perf_counter()
    cases = []
    for pair in itertools.combinations(videos, 2):
        base = train_validated([row for row in rows if row.source in pair])
        for third in sorted(set(videos) - set(pair)):
            cases.append((base, [row for row in rows if row.source == third]))
    print(f"bases trained ({time.perf_counter() - started:.0f} s)")
    print(
        f"{'prior':>6} {'decay':>5} {'base':>6} {'near':>4} | {'met':>5} {'mean F1':>7} "
        f"{'worst fpr':>9} {'fpr ok':>6} {'flips':>5}"
    )
    for config in CANDIDATES:
        results = [r for base, held in cases for r in runs(base, held, config)]
        flips = sum(one_report_flips(base, held, config) for base, held in cases)
        f1 = np.array([r[0] for r in results])
        fpr = np.array([r[1] for r in results])
        met = int(((f1 >= 0.95) & (fpr <= 0.005)).sum())
        print(
            f"{config.prior_strength:6.2f} {config.prior_decay:5.2f} {config.base_prior:6.0f} "
            f"{config.near_low:4.2f} | "
            f"{met:2}/{len(results):2} {f1.mean():7.4f} {fpr.max():9.2%} "
            f"{int((fpr <= 0.005).sum()):6} {flips:5}",
            flush=True,
        )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
