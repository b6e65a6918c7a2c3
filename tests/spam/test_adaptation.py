"""Per-site adaptation of the shipped model: one report moves near copies, not all spam."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.spam.classifier import SiteModel, SpamModel, adapt, load_base_model
from service.spam.features import LabelledText, load_rows
from service.spam.services import classifier_signal
from tests.spam.conftest import SIMILAR_SPAMMY, SPAMMY

# The first six distinct spam comments of each YouTube Spam Collection file (README.md here).
OTHER_SPAM = Path(__file__).parent / "data" / "youtube_spam_sample.csv"
NEAR_COPIES = [
    SPAMMY,
    SIMILAR_SPAMMY,
    "Check out my channel https://music.example/v/123 subscribe!",
    "CHECK OUT MY CHANNEL www.beats-now.example ... SUBSCRIBE",
]


@pytest.fixture(scope="module")
def base() -> SpamModel:
    """The shipped base model."""
    return load_base_model()


@pytest.fixture(scope="module")
def reported(base: SpamModel) -> SiteModel:
    """A site model after one moderator's "not spam" on the channel plug."""
    return adapt(base, [LabelledText(SPAMMY, is_spam=False)])


@pytest.fixture(scope="module")
def other_spam() -> list[str]:
    """Two dozen real spam comments unlike the reported one."""
    texts = [row.text for row in load_rows([OTHER_SPAM])]
    assert len(texts) == 24 and SPAMMY not in texts
    return texts


def flagged(model: SpamModel | SiteModel, texts: list[str]) -> int:
    """How many of the texts the model scores as spam."""
    return int((model.score(texts) >= model.spam_threshold).sum())


def test_the_base_model_flags_the_plug_and_its_near_copies(base: SpamModel) -> None:
    assert flagged(base, NEAR_COPIES) == len(NEAR_COPIES)


def test_one_ham_report_clears_the_reported_text_and_its_near_copies(
    reported: SiteModel,
) -> None:
    assert flagged(reported, NEAR_COPIES) == 0


def test_one_ham_report_leaves_other_spam_flagged_as_before(
    base: SpamModel, reported: SiteModel, other_spam: list[str]
) -> None:
    # The old adaptation let 13 of 14 such comments through after this one report.
    before = flagged(base, other_spam)
    assert before >= 12
    assert flagged(reported, other_spam) >= before - 1


def test_one_ham_report_moves_other_spam_scores_little(
    base: SpamModel, reported: SiteModel, other_spam: list[str]
) -> None:
    shift = reported.score(other_spam) - base.score(other_spam)
    assert np.abs(shift).max() < 0.1


def test_one_ham_report_does_not_clear_a_different_channel_plug(reported: SiteModel) -> None:
    assert flagged(reported, ["Subscribe to my channel", "Please check out my new video"]) == 2


def test_one_spam_report_flags_near_copies_the_base_model_lets_through(base: SpamModel) -> None:
    text = "Hello everyone, I am from Palestine, greetings to all"
    copy = "hello everyone!! I am from Palestine... greetings to all"
    assert flagged(base, [text, copy]) == 0
    site = adapt(base, [LabelledText(text, is_spam=True)])
    assert flagged(site, [text, copy]) == 2
    assert flagged(site, ["The mayor promised the same thing in 2019."]) == 0


def test_conflicting_reports_on_one_text_leave_it_unsure(base: SpamModel) -> None:
    site = adapt(base, [LabelledText(SPAMMY, False), LabelledText(SPAMMY + " ", True)])
    score = float(site.score([SPAMMY])[0])
    assert site.unsure_threshold <= score < site.spam_threshold


def test_the_near_copy_memory_round_trips_through_bytes(
    base: SpamModel, reported: SiteModel, other_spam: list[str]
) -> None:
    restored = SiteModel.from_bytes(reported.to_bytes(), base)
    texts = NEAR_COPIES + other_spam
    assert np.array_equal(restored.score(texts), reported.score(texts))
    assert restored.config == reported.config


def test_a_site_model_without_the_memory_format_is_refused(base: SpamModel) -> None:
    with pytest.raises(ValueError, match="older version"):
        SiteModel.from_bytes(base.to_bytes(), base)


def test_a_ham_report_on_a_bare_link_leaves_bare_links_to_other_sites_alone(
    base: SpamModel,
) -> None:
    site = adapt(base, [LabelledText("https://www.city-council.example/budget-2025", False)])
    others = ["http://cheap-followers.example/buy", "https://www.free-gifts.example/claim?id=7"]
    assert np.allclose(site.score(others), base.score(others), atol=0.05)


def test_the_classifier_reason_says_when_a_near_copy_decided(
    base: SpamModel, reported: SiteModel, other_spam: list[str]
) -> None:
    copy = classifier_signal(reported, SIMILAR_SPAMMY, adapted=True)
    assert "near copy" in copy.detail and "marked not spam" in copy.detail
    unrelated = classifier_signal(reported, other_spam[0], adapted=True)
    assert "near copy" not in unrelated.detail
    assert "near copy" not in classifier_signal(base, SPAMMY, adapted=False).detail
