"""The spam classifier: reading labelled data, training, scoring, explaining, adapting."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from service.spam.classifier import (
    SiteModel,
    SpamModel,
    TrainingConfig,
    Verdict,
    adapt,
    load_base_model,
    load_model,
    model_from_bytes,
    train,
    verdict_for,
)
from service.spam.features import LabelledText, char_terms, load_rows, new_vectorizers, word_terms

DATA = Path(__file__).parent / "data"
REPORTED_HAM = "Please check out my channel, I post piano covers of this song"
NEAR_DUPLICATE = "please check out my channel!! I post piano covers of this song"


@pytest.fixture(scope="module")
def rows() -> list[LabelledText]:
    """Invented comments from two sites."""
    return load_rows([DATA / "site_a.csv", DATA / "site_b.csv"])


@pytest.fixture(scope="module")
def model(rows: list[LabelledText]) -> SpamModel:
    """A model trained on the invented comments."""
    return train(rows, TrainingConfig(min_df=1))


def write_csv(path: Path, text: str) -> Path:
    """Writes text as UTF-8 bytes, BOMs and all, and returns the path."""
    path.write_bytes(text.encode("utf-8"))
    return path


def test_load_rows_cleans_bom_entities_markup_and_ignores_date(tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path / "video.csv",
        "\ufeffCOMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
        'c1,A,2014-01-01T00:00:00,"I&#39;m here &amp; there<br />next line\ufeff",0\n'
        'c2,B,,"see <a href=""http://x.example/p"">my page</a> &quot;now&quot;",1\n',
    )
    first, second = load_rows([csv])
    assert first == LabelledText("I'm here & there\nnext line", False, "video", "c1")
    assert second.text == 'see http://x.example/p my page "now"'
    assert second.is_spam
    assert not hasattr(first, "date")


def test_load_rows_skips_a_repeated_comment_id(tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path / "dup.csv",
        "COMMENT_ID,CONTENT,CLASS\nx,spam spam,1\nx,spam spam,1\ny,hello,0\n",
    )
    assert [row.comment_id for row in load_rows([csv])] == ["x", "y"]


def test_load_rows_reads_any_csv_with_content_and_class(tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path / "other.csv",
        'score,class,content\n3,1,"two\nlines, quoted"\n4,0,plain\n',
    )
    assert [(row.text, row.is_spam) for row in load_rows([csv])] == [
        ("two\nlines, quoted", True),
        ("plain", False),
    ]


def test_load_rows_refuses_a_csv_without_labels(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "bad.csv", "CONTENT\nhello\n")
    with pytest.raises(ValueError, match="CLASS"):
        load_rows([csv])


def test_training_twice_gives_identical_models(rows: list[LabelledText]) -> None:
    first = train(rows, TrainingConfig(min_df=1))
    second = train(list(reversed(rows)), TrainingConfig(min_df=1))
    texts = [row.text for row in rows]
    assert np.array_equal(first.score(texts), second.score(texts))
    assert first.to_bytes() == second.to_bytes()


def test_model_separates_the_invented_spam_from_ham(model: SpamModel) -> None:
    spam, ham = model.score(["check out my channel for free followers", "love the chorus"])
    assert spam > 0.5 > ham


def test_scoring_ignores_byte_order_marks(model: SpamModel) -> None:
    plain, marked = model.score(["check out my channel", "check out my\ufeff channel\ufeff"])
    assert plain == marked


def test_fast_scoring_equals_scikit_learn_features(model: SpamModel) -> None:
    texts = ["Check out my channel!!", "", "ünïcode wörds and www.example.com", "a a a a"]
    expected = model.space.matrix(texts) @ model.coef + model.intercept
    assert np.allclose(model.logits(texts), expected, rtol=0, atol=1e-12)


def test_own_analyzers_draw_the_same_terms_as_scikit_learn() -> None:
    texts = [
        "Check out   my channel!!\n\nwww.example.com/x?y=1",
        "",
        "a",
        "ünïcode wörds\tand\u00a0tabs 12 345",
        "I\ufeff LOVE THIS SONG \U0001f600 \u2764 so much...",
    ]
    words, chars = new_vectorizers()
    for text in texts:
        assert word_terms(text) == words.build_analyzer()(text)
        assert char_terms(text) == chars.build_analyzer()(text)


def test_scoring_a_loaded_model_imports_neither_scikit_learn_nor_scipy() -> None:
    probe = (
        "import sys; from service.spam.classifier import load_base_model; "
        "model = load_base_model(); model.verdicts(['check out my channel']); "
        "model.explain('check out my channel'); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_explain_names_words_of_the_text_that_raise_the_score(model: SpamModel) -> None:
    text = "Hey everyone, check out my channel for free beats"
    explanation = model.explain(text, k=3)
    assert len(explanation) in range(1, 4)
    assert all(word in text.split() and weight > 0 for word, weight in explanation)
    assert [weight for _, weight in explanation] == sorted(
        (weight for _, weight in explanation), reverse=True
    )


def test_word_contributions_add_up_to_the_logit(model: SpamModel) -> None:
    text = "Subscribe to my channel, I sub back: www.example.com"
    total = sum(model.contributions(text).values()) + model.intercept
    assert total == pytest.approx(model.logits([text])[0], abs=1e-9)


def test_saved_model_loads_with_the_same_scores(model: SpamModel, tmp_path: Path) -> None:
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    texts = ["check out my channel", "what a song"]
    assert np.array_equal(loaded.score(texts), model.score(texts))
    assert loaded.fingerprint == model.fingerprint


def test_verdicts_use_spam_and_unsure_thresholds() -> None:
    assert verdict_for(0.95, 0.9, 0.5) is Verdict.SPAM
    assert verdict_for(0.9, 0.9, 0.5) is Verdict.SPAM
    assert verdict_for(0.6, 0.9, 0.5) is Verdict.UNSURE
    assert verdict_for(0.49, 0.9, 0.5) is Verdict.HAM


def test_adapting_to_a_ham_report_clears_its_near_duplicate(model: SpamModel) -> None:
    base_bytes = model.to_bytes()
    assert model.verdicts([NEAR_DUPLICATE]) == [Verdict.SPAM]
    site = adapt(model, [LabelledText(REPORTED_HAM, is_spam=False)])
    assert site.verdicts([NEAR_DUPLICATE]) == [Verdict.HAM]
    assert model.verdicts([NEAR_DUPLICATE]) == [Verdict.SPAM]
    assert model.to_bytes() == base_bytes


def test_adapting_to_a_spam_report_flags_its_near_duplicate(model: SpamModel) -> None:
    report = "Loved the concert last night, tickets at the door were cheap"
    site = adapt(model, [LabelledText(report, is_spam=True)])
    assert model.verdicts([report + "!"]) == [Verdict.HAM]
    assert site.verdicts([report + "!"]) == [Verdict.SPAM]


def test_adapting_to_feedback_without_words_is_refused(model: SpamModel) -> None:
    with pytest.raises(ValueError, match="no words"):
        adapt(model, [LabelledText("!!! ???", is_spam=True)])


def test_site_model_round_trips_through_bytes(model: SpamModel) -> None:
    site = adapt(model, [LabelledText(REPORTED_HAM, False), LabelledText("buy pills", True)])
    restored = SiteModel.from_bytes(site.to_bytes(), model)
    texts = [NEAR_DUPLICATE, "buy pills now", "nice song"]
    assert np.array_equal(restored.score(texts), site.score(texts))
    assert restored.explain(NEAR_DUPLICATE) == site.explain(NEAR_DUPLICATE)


def test_site_model_refuses_a_different_base(model: SpamModel, rows: list[LabelledText]) -> None:
    site = adapt(model, [LabelledText(REPORTED_HAM, False)])
    other = train(rows[:-1], TrainingConfig(min_df=1))
    with pytest.raises(ValueError, match="another base model"):
        SiteModel.from_bytes(site.to_bytes(), other)


def test_shipped_model_loads_quickly_and_scores() -> None:
    load_base_model.cache_clear()
    started = time.perf_counter()
    base = load_base_model()
    assert time.perf_counter() - started < 1.0
    spam, ham = base.score(
        ["Check out my channel and subscribe, I sub back!", "This song brings back memories"]
    )
    assert spam >= base.spam_threshold
    assert ham < base.unsure_threshold
    assert 0 < base.unsure_threshold <= base.spam_threshold < 1
    assert model_from_bytes(base.to_bytes()).fingerprint == base.fingerprint
