"""Measuring spam models: the metrics, the thresholds and the held-out protocol."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from service.spam.classifier import TrainingConfig, train
from service.spam.evaluation import (
    adaptation_metrics,
    choose_thresholds,
    evaluate,
    split_halves,
    train_validated,
)
from service.spam.features import FloatArray, LabelledText, load_rows

DATA = Path(__file__).parent / "data"

# The score a pretend model gives each comment of scored.csv, and the verdict it gets at
# spam_threshold 0.9 and unsure_threshold 0.5.
SCORES = {
    "Buy followers at www.followers.example": 0.99,  # spam: caught
    "Check out my channel & subscribe": 0.95,  # spam: caught
    "Free gift cards, click the link": 0.92,  # spam: caught
    "Anyone want to see my new video?": 0.70,  # spam: unsure
    "Nice song. Also I sell shoes": 0.20,  # spam: missed
    "Check out the live version, it is even better": 0.93,  # ham: wrongly flagged
    "Subscribed to her channel years ago": 0.60,  # ham: unsure
    "Love this song": 0.10,  # ham
    "Great video": 0.05,  # ham
    "The ending made me cry": 0.30,  # ham
}


class FixedScores:
    """A pretend model that gives each known text its score from SCORES."""

    spam_threshold = 0.9
    unsure_threshold = 0.5

    def score(self, texts: Sequence[str]) -> FloatArray:
        """Looks each text up in SCORES."""
        return np.array([SCORES[text] for text in texts])

    def explain(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        """Explains nothing."""
        return []


def test_evaluate_matches_hand_computed_metrics() -> None:
    metrics = evaluate(FixedScores(), load_rows([DATA / "scored.csv"]))
    # 3 true positives, 1 false positive, 2 spam not flagged (1 unsure, 1 missed).
    assert metrics["n"] == 10
    assert metrics["precision"] == pytest.approx(3 / 4)
    assert metrics["recall"] == pytest.approx(3 / 5)
    assert metrics["f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))
    assert metrics["ham_fpr"] == pytest.approx(1 / 5)
    assert metrics["unsure_rate"] == pytest.approx(2 / 10)
    assert metrics["missed_spam_rate"] == pytest.approx(1 / 5)
    # Of the 25 spam-ham pairs, 20 rank the spam higher.
    assert metrics["roc_auc"] == pytest.approx(20 / 25)
    assert metrics["seconds_per_comment"] > 0


def test_evaluate_takes_thresholds_over_the_models_own() -> None:
    metrics = evaluate(FixedScores(), load_rows([DATA / "scored.csv"]), 0.5, 0.5)
    # Now the unsure spam and the unsure ham are flagged too: 4 TP, 2 FP, nothing unsure.
    assert metrics["precision"] == pytest.approx(4 / 6)
    assert metrics["recall"] == pytest.approx(4 / 5)
    assert metrics["ham_fpr"] == pytest.approx(2 / 5)
    assert metrics["unsure_rate"] == 0


def test_spam_threshold_bounds_false_positives_in_the_worst_group() -> None:
    labels = [False] * 4 + [True] * 2 + [False] * 4 + [True] * 2
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9, 0.95, 0.1, 0.2, 0.6, 0.7, 0.65, 0.99])
    groups = ["a"] * 6 + ["b"] * 6
    spam, unsure = choose_thresholds(labels, scores, groups, max_ham_fpr=0.0, max_missed_spam=0)
    # Group a's worst ham scores 0.8, so the threshold clears it; the lowest spam is 0.65.
    assert spam == pytest.approx(0.801)
    assert unsure == pytest.approx(0.65)


def test_split_halves_keeps_the_spam_share_and_loses_nothing() -> None:
    rows = [LabelledText(f"comment {i}", is_spam=i % 3 == 0) for i in range(30)]
    first, second = split_halves(rows)
    assert sorted(first + second, key=rows.index) == rows
    assert sum(row.is_spam for row in first) == sum(row.is_spam for row in second) == 5
    assert split_halves(rows) == (first, second)


def test_train_validated_picks_config_and_thresholds_from_held_out_sites() -> None:
    rows = load_rows([DATA / "site_a.csv", DATA / "site_b.csv"])
    grid = [TrainingConfig(c=1.0, min_df=1), TrainingConfig(c=10.0, min_df=1)]
    model = train_validated(rows, grid)
    assert model.metadata["config"] in [
        {"c": 1.0, "nb_weight": 0.1, "nb_alpha": 0.03, "dense_weight": 2.0, "min_df": 1},
        {"c": 10.0, "nb_weight": 0.1, "nb_alpha": 0.03, "dense_weight": 2.0, "min_df": 1},
    ]
    assert 0 <= model.unsure_threshold <= model.spam_threshold <= 1
    assert set(model.metadata["validation"]) == {"held_out_f1", "platt_slope", "platt_offset"}


def test_adaptation_metrics_score_each_half_with_a_model_adapted_to_the_other() -> None:
    base = train(load_rows([DATA / "site_a.csv"]), TrainingConfig(min_df=1))
    other_site = load_rows([DATA / "site_b.csv"])
    metrics = adaptation_metrics(base, other_site)
    assert (metrics["n"], metrics["spam"]) == (12, 6)
    assert metrics["spam_threshold"] == base.spam_threshold
