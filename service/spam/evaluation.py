"""Measuring spam models on labelled comments, and training the shipped base model.

Comments are grouped by source file (one YouTube video each in the shipped data). Spam
campaigns repeat word for word within a video, so every estimate here holds out whole
sources, and hyperparameters and thresholds are chosen on the training sources only.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from service.spam.classifier import (
    MODEL_DIR,
    AdaptConfig,
    Scorer,
    SpamModel,
    TrainingConfig,
    adapt,
    train,
)
from service.spam.features import FloatArray, LabelledText, load_rows

# Small on purpose: 3 sources give little signal to choose among many candidates.
CONFIG_GRID = tuple(
    TrainingConfig(c=c, nb_weight=0.2, dense_weight=dense_weight)
    for c in (3.0, 10.0, 30.0)
    for dense_weight in (0.0, 2.0)
)
# The verdict thresholds aim at these rates on held-out sources.
MAX_HAM_FPR = 0.01
MAX_MISSED_SPAM = 0.02

Metrics = dict[str, Any]


def _ratio(numerator: float, denominator: float) -> float:
    """Returns numerator / denominator, or 0.0 when the denominator is 0."""
    return numerator / denominator if denominator else 0.0


def metrics_from_scores(
    labels: Sequence[bool], scores: FloatArray, spam_threshold: float, unsure_threshold: float
) -> Metrics:
    """Computes evaluate()'s metrics from known scores; see evaluate() for the definitions."""
    truth = np.asarray(labels, dtype=bool)
    flagged = scores >= spam_threshold
    unsure = (scores >= unsure_threshold) & ~flagged
    true_pos = int((flagged & truth).sum())
    precision = _ratio(true_pos, int(flagged.sum()))
    recall = _ratio(true_pos, int(truth.sum()))
    both_classes = 0 < truth.sum() < truth.size
    return {
        "n": int(truth.size),
        "spam": int(truth.sum()),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "ham_fpr": _ratio(int((flagged & ~truth).sum()), int((~truth).sum())),
        "unsure_rate": _ratio(int(unsure.sum()), truth.size),
        "missed_spam_rate": _ratio(int((truth & ~flagged & ~unsure).sum()), int(truth.sum())),
        "roc_auc": float(roc_auc_score(truth, scores)) if both_classes else None,
        "spam_threshold": spam_threshold,
        "unsure_threshold": unsure_threshold,
    }


def evaluate(
    model: Scorer,
    rows: Sequence[LabelledText],
    spam_threshold: float | None = None,
    unsure_threshold: float | None = None,
) -> Metrics:
    """Scores labelled comments and measures the three-way verdicts against the labels.

    A comment is spam when its score >= spam_threshold, unsure when unsure_threshold <= score
    < spam_threshold, ham otherwise; thresholds default to the model's own. Unsure comments
    are held for a moderator, so they count as not flagged: precision, recall, f1 and ham_fpr
    (the share of legitimate comments marked spam) count spam verdicts only. unsure_rate is
    the share of all comments held as unsure, missed_spam_rate the share of spam given a ham
    verdict, roc_auc the threshold-free ranking quality (None with one class only), and
    seconds_per_comment the scoring time, one comment per call as the worker scores them.
    Empty ratios (0/0) are 0.0.
    """
    texts = [row.text for row in rows]
    started = time.perf_counter()
    scores = np.concatenate([model.score([text]) for text in texts]) if texts else np.zeros(0)
    elapsed = time.perf_counter() - started
    metrics = metrics_from_scores(
        [row.is_spam for row in rows],
        scores,
        model.spam_threshold if spam_threshold is None else spam_threshold,
        model.unsure_threshold if unsure_threshold is None else unsure_threshold,
    )
    return metrics | {"seconds_per_comment": _ratio(elapsed, len(texts))}


def choose_thresholds(
    labels: Sequence[bool],
    scores: FloatArray,
    groups: Sequence[str],
    max_ham_fpr: float = MAX_HAM_FPR,
    max_missed_spam: float = MAX_MISSED_SPAM,
) -> tuple[float, float]:
    """Returns (spam, unsure) thresholds, rounded to 0.001, from held-out scores.

    The spam threshold is the lowest that keeps ham_fpr <= max_ham_fpr in every group, the
    worst group deciding, since a new site is one more group. The unsure threshold is the
    highest that lets at most max_missed_spam of all spam through as ham.
    """
    truth = np.asarray(labels, dtype=bool)
    group_of = np.asarray(groups)
    spam_threshold = 0.0
    for group in sorted(set(groups)):
        ham = np.sort(scores[(group_of == group) & ~truth])[::-1]
        allowed = math.floor(max_ham_fpr * ham.size)
        if allowed < ham.size:
            spam_threshold = max(spam_threshold, math.ceil(ham[allowed] * 1000 + 1e-9) / 1000)
    spam = np.sort(scores[truth])
    allowed_missed = math.floor(max_missed_spam * spam.size)
    unsure_threshold = math.floor(spam[allowed_missed] * 1000) / 1000 if spam.size else 0.0
    return min(spam_threshold, 1.0), min(unsure_threshold, spam_threshold)


def held_out_logits(rows: Sequence[LabelledText], config: TrainingConfig) -> FloatArray:
    """Returns each row's logit from a model trained on the other sources."""
    sources = np.array([row.source for row in rows])
    if len(set(sources.tolist())) < 2:
        raise ValueError("held-out validation needs rows from at least two sources")
    logits = np.zeros(len(rows))
    for source in sorted(set(sources.tolist())):
        inside = sources == source
        held = [row.text for row, flag in zip(rows, inside, strict=True) if flag]
        model = train([row for row, flag in zip(rows, inside, strict=True) if not flag], config)
        logits[inside] = model.logits(held)
    return logits


def _held_out_f1(rows: Sequence[LabelledText], logits: FloatArray) -> float:
    """Returns the F1 of held-out logits at the thresholds choose_thresholds gives them."""
    labels = [row.is_spam for row in rows]
    scores = expit(logits)
    thresholds = choose_thresholds(labels, scores, [row.source for row in rows])
    return float(metrics_from_scores(labels, scores, *thresholds)["f1"])


def train_validated(
    rows: Sequence[LabelledText], grid: Sequence[TrainingConfig] = CONFIG_GRID
) -> SpamModel:
    """Trains on all rows with the config, calibration and thresholds that did best held out.

    Each config is scored by leave-one-source-out F1 at its own thresholds (the first wins
    ties); the winner's held-out logits then fit a Platt scaling and the verdict thresholds.
    """
    candidates = [held_out_logits(rows, config) for config in grid]
    f1s = [_held_out_f1(rows, logits) for logits in candidates]
    best = int(np.argmax(f1s))
    labels = [row.is_spam for row in rows]
    platt = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    platt.fit(candidates[best][:, None], labels)
    slope, offset = float(platt.coef_[0][0]), float(platt.intercept_[0])
    scores = expit(slope * candidates[best] + offset)
    thresholds = choose_thresholds(labels, scores, [row.source for row in rows])
    model = train(rows, grid[best]).calibrated(slope, offset)
    validation = {"held_out_f1": f1s[best], "platt_slope": slope, "platt_offset": offset}
    return model.with_thresholds(*thresholds, validation=validation)


def split_halves(rows: Sequence[LabelledText], seed: int = 0) -> tuple[list[LabelledText], ...]:
    """Splits rows at random into two halves with the same share of spam, reproducibly."""
    generator = np.random.default_rng(seed)
    halves: tuple[list[LabelledText], list[LabelledText]] = ([], [])
    for label in (True, False):
        members = [row for row in rows if row.is_spam == label]
        for rank, index in enumerate(generator.permutation(len(members)).tolist()):
            halves[rank % 2].append(members[index])
    return halves


def adaptation_metrics(
    base: SpamModel, rows: Sequence[LabelledText], config: AdaptConfig | None = None
) -> Metrics:
    """Adapts the base model to one half of rows and scores the other, then the reverse.

    Each comment is scored by a site model that never saw it; the metrics pool both halves
    and use the base model's thresholds.
    """
    first, second = split_halves(rows)
    labels: list[bool] = []
    scores: list[FloatArray] = []
    started = time.perf_counter()
    for feedback, held in ((first, second), (second, first)):
        site = adapt(base, feedback, config)
        scores.append(site.score([row.text for row in held]))
        labels.extend(row.is_spam for row in held)
    metrics = metrics_from_scores(
        labels, np.concatenate(scores), base.spam_threshold, base.unsure_threshold
    )
    return metrics | {"seconds_adapt_and_score_both_halves": time.perf_counter() - started}


def data_files(data_dir: Path) -> list[Path]:
    """Returns the labelled CSV files of a directory, in name order."""
    files = sorted(Path(data_dir).glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no .csv files in {data_dir}")
    return files


def leave_one_video_out(data_dir: Path) -> list[Metrics]:
    """Holds out each source file in turn: trains on the rest, measures on it, adapts to it.

    Per held-out source: the chosen config and thresholds (from the other sources only), the
    base model's metrics on the whole source, and adaptation_metrics() on its two halves.
    """
    rows = load_rows(data_files(data_dir))
    results: list[Metrics] = []
    for source in sorted({row.source for row in rows}):
        held = [row for row in rows if row.source == source]
        model = train_validated([row for row in rows if row.source != source])
        results.append(
            {
                "held_out": source,
                "config": model.metadata["config"],
                "base": evaluate(model, held),
                "adapted": adaptation_metrics(model, held),
            }
        )
    return results


def _sha256(path: Path) -> str:
    """Returns a file's SHA-256 in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _describe_data(files: Sequence[Path], rows: Sequence[LabelledText]) -> list[Metrics]:
    """Returns each training file's name, SHA-256 and row count, for the model's metadata."""
    return [
        {
            "file": path.name,
            "sha256": _sha256(path),
            "rows": sum(r.source == path.stem for r in rows),
        }
        for path in files
    ]


def train_base_model(data_dir: Path, out_dir: Path = MODEL_DIR) -> Metrics:
    """Trains the shipped model on every CSV in data_dir; writes base.npz and metadata.json.

    Returns the metadata: data hashes, chosen config and thresholds, and the
    leave-one-video-out metrics that estimate how the model does on an unseen site.
    """
    files = data_files(data_dir)
    if len(files) < 3:
        # The nested validation holds out one file, then one more inside the other two.
        raise ValueError(
            f"{data_dir}: training needs at least 3 CSV files, one per source (video, site);"
            f" found {len(files)}"
        )
    rows = load_rows(files)
    started = time.perf_counter()
    # One BLAS thread: sums split over threads add up in another order, and the last bits of
    # the coefficients (so the model's bytes) would depend on the machine's core count.
    with threadpool_limits(limits=1):
        return _train_base_model(data_dir, files, rows, out_dir, started)


def _train_base_model(
    data_dir: Path, files: list[Path], rows: list[LabelledText], out_dir: Path, started: float
) -> Metrics:
    model = train_validated(rows)
    trained_on = _describe_data(files, rows)
    metadata: Metrics = {
        "trained_on": trained_on,
        "rows": len(rows),
        "spam": sum(row.is_spam for row in rows),
        "sklearn_version": sklearn.__version__,
        "config": model.metadata["config"],
        "validation": model.metadata["validation"],
        "spam_threshold": model.spam_threshold,
        "unsure_threshold": model.unsure_threshold,
        "adapt_config": asdict(AdaptConfig()),
        "training_seconds": round(time.perf_counter() - started, 1),
        "leave_one_video_out": leave_one_video_out(data_dir),
    }
    model = model.with_thresholds(
        model.spam_threshold, model.unsure_threshold, trained_on=trained_on
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "base.npz").write_bytes(model.to_bytes())
    metadata["model_sha256"] = _sha256(out_dir / "base.npz")
    metadata["model_bytes"] = (out_dir / "base.npz").stat().st_size
    # Timings differ from run to run: kept out of the file, so that training again on the
    # same data leaves both files as they were.
    lasting = json.dumps(_without_timings(metadata), indent=2, sort_keys=True)
    (out_dir / "metadata.json").write_text(lasting + "\n")
    return metadata


def _without_timings(value: Any) -> Any:
    """value with every ``*seconds*`` member left out, at any depth."""
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    return value
