"""Prints how AdaptConfig candidates do on a protocol that never sees bench/spam_learning.py's.

Usage: python bench/spam_adapt_tuning.py [DATA_DIR]

The learning bench reports base models trained on three videos adapting to the fourth. The
adaptation settings are chosen here instead: a base model trained on two videos (as
`vetted spam train` would, train_validated) adapts to a third video, for all twelve
(pair, third video) combinations, two ways each:
- half: it learns one stratified half of the third video and scores the other, both ways;
- 20 reports: it learns only a "not spam" on a channel plug and 20 rows of that half, the
  case of a site whose moderators have just started (the plug is the report of issue 4);
and flips: after that one "not spam" alone, how many spam comments of the third video the
base model flagged and the site model no longer does, summed over the twelve.
Rule for the defaults: among candidates whose mean F1 with 20 reports is not below the base
model's alone, the most runs meeting the target (F1 >= 0.95, ham_fpr <= 0.5 %) in both
scenarios, ties going to the fewest flips. About two minutes: run it with nice.
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
# The last grid tried (see the module docstring for the rule).
CANDIDATES = [
    AdaptConfig(prior_strength=strength, prior_decay=decay)
    for strength in (16.0, 64.0, 256.0)
    for decay in (1.0, 1.5, 2.0)
]
FEW_REPORTS = 20


def runs(
    base: SpamModel, rows: list[LabelledText], config: AdaptConfig, few: bool = False
) -> list[tuple[float, float]]:
    """(F1, ham_fpr) of learn-one-half, score-the-other, both ways.

    With few, only the "not spam" on the plug and FEW_REPORTS of the half are learned.
    """
    results = []
    for learned, held in itertools.permutations(split_halves(rows)):
        # split_halves lists a half's spam first: every k-th row keeps its share of spam.
        sample = learned[:: len(learned) // FEW_REPORTS][:FEW_REPORTS]
        reports = [LabelledText(PLUG, False), *sample] if few else learned
        site = adapt(base, reports, config)
        scores = site.score([row.text for row in held])
        metrics = metrics_from_scores(
            [row.is_spam for row in held], scores, base.spam_threshold, base.unsure_threshold
        )
        results.append((float(metrics["f1"]), float(metrics["ham_fpr"])))
    return results


def base_runs(base: SpamModel, rows: list[LabelledText]) -> list[tuple[float, float]]:
    """(F1, ham_fpr) of the base model alone on the halves runs() scores."""
    results = []
    for held in reversed(split_halves(rows)):
        scores = base.score([row.text for row in held])
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


def summary(results: list[tuple[float, float]]) -> str:
    """Runs meeting the target (F1 >= 0.95, ham_fpr <= 0.5 %), mean F1 and worst ham_fpr."""
    f1 = np.array([r[0] for r in results])
    fpr = np.array([r[1] for r in results])
    met = int(((f1 >= 0.95) & (fpr <= 0.005)).sum())
    return f"{met:2}/{len(results):2} {f1.mean():7.4f} {fpr.max():9.2%}"


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
        f"{'prior':>6} {'decay':>5} | half: {'met':>5} {'mean F1':>7} "
        f"{'worst fpr':>9} | {FEW_REPORTS} reports: {'met':>5} {'mean F1':>7} | {'flips':>5}"
    )
    print(f"{'base model alone':12} | half: {summary([r for c in cases for r in base_runs(*c)])}")
    for config in CANDIDATES:
        half = summary([r for base, held in cases for r in runs(base, held, config)])
        few = summary([r for base, held in cases for r in runs(base, held, config, few=True)])
        flips = sum(one_report_flips(base, held, config) for base, held in cases)
        print(
            f"{config.prior_strength:6.1f} {config.prior_decay:5.2f} | {half} | {few} | {flips:5}",
            flush=True,
        )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
