"""`vetted spam train | evaluate | learn`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.comments.models import Comment
from service.spam.classifier import load_base_model, load_model
from service.spam.feedback import Label, Source, SpamFeedback
from service.spam.models import SiteSpamModel
from tests.spam.conftest import SIMILAR_SPAMMY, SPAMMY

DATA = Path(__file__).parent / "data"
HAM = [
    "The mayor promised the same thing in 2019.",
    "Who is going to pay for all of this?",
    "This is why we need better schools funding.",
]
METRICS = {
    "n",
    "spam",
    "precision",
    "recall",
    "f1",
    "ham_fpr",
    "unsure_rate",
    "missed_spam_rate",
    "roc_auc",
    "seconds_per_comment",
    "spam_threshold",
    "unsure_threshold",
    "model",
}


def write_csv(path: Path, rows: list[tuple[str, int]], header: str = "CONTENT,CLASS") -> Path:
    """Writes labelled rows as a CSV with the given header (CONTENT/CLASS in any order)."""
    names = header.split(",")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for text, label in rows:
            values = {"CONTENT": text, "CLASS": str(label)}
            writer.writerow([values.get(name.upper(), "x") for name in names])
    return path


def run(app: Flask, *args: str) -> Any:
    """Runs a `vetted` command in-process."""
    return app.test_cli_runner().invoke(args=list(args))


def printed_json(result: Any) -> dict[str, Any]:
    """The one JSON object a command printed."""
    assert result.exit_code == 0, result.output
    [line] = result.output.strip().splitlines()
    return dict(json.loads(line))


# train


def split_into_three_sources(tmp_path: Path) -> Path:
    """Three small labelled files (the test data split by source), as `train` needs >= 3."""
    folder = tmp_path / "data"
    folder.mkdir()
    with (DATA / "site_a.csv").open(encoding="utf-8") as handle:
        rows = [(r["CONTENT"], int(r["CLASS"])) for r in csv.DictReader(handle)]
    spam = [r for r in rows if r[1]]
    ham = [r for r in rows if not r[1]]
    write_csv(folder / "a1.csv", spam[:4] + ham[:4])
    write_csv(folder / "a2.csv", spam[4:] + ham[4:])
    (folder / "b.csv").write_bytes((DATA / "site_b.csv").read_bytes())
    return folder


def test_training_twice_on_the_same_data_gives_the_same_model(app: Flask, tmp_path: Path) -> None:
    data = split_into_three_sources(tmp_path)
    first = printed_json(
        run(app, "spam", "train", "--data", str(data), "--out", str(tmp_path / "1"))
    )
    second = printed_json(
        run(app, "spam", "train", "--data", str(data), "--out", str(tmp_path / "2"))
    )
    assert first["sha256"] == second["sha256"]
    for name in ("base.npz", "metadata.json"):  # timings left out: they differ run to run
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()
    metadata = json.loads((tmp_path / "1/metadata.json").read_text())
    assert [f["file"] for f in metadata["trained_on"]] == ["a1.csv", "a2.csv", "b.csv"]
    model = load_model(tmp_path / "1/base.npz")
    assert model.spam_threshold == first["spam_threshold"]


def test_training_on_fewer_than_three_sources_says_so(app: Flask, tmp_path: Path) -> None:
    # It said "held-out validation needs rows from at least two sources" for two files.
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("site_a.csv", "site_b.csv"):
        (folder / name).write_bytes((DATA / name).read_bytes())
    result = run(app, "spam", "train", "--data", str(folder), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "needs at least 3 CSV files" in result.output and "found 2" in result.output


def test_a_trained_model_can_be_the_base_the_app_scores_with(make_app: Any, tmp_path: Path) -> None:
    data = split_into_three_sources(tmp_path)
    out = tmp_path / "model"
    trained = make_app()
    printed_json(run(trained, "spam", "train", "--data", str(data), "--out", str(out)))
    app = make_app(SPAM_MODEL_PATH=str(out / "base.npz"))
    file = write_csv(tmp_path / "x.csv", [(SPAMMY, 1), (HAM[0], 0)])
    result = printed_json(run(app, "spam", "evaluate", str(file)))
    assert result["spam_threshold"] == load_model(out / "base.npz").spam_threshold
    assert result["spam_threshold"] != load_base_model().spam_threshold


# evaluate


@pytest.fixture
def hand_scored(tmp_path: Path) -> Path:
    """Three copies of one spam text labelled spam, three plain comments and that same spam
    text labelled ham (a debatable label): every score is far from any threshold, and equal
    texts score equal, so the metrics can be worked out by hand."""
    base = load_base_model()
    spam_score, *ham_scores = base.score([SPAMMY, *HAM])
    assert spam_score >= base.spam_threshold
    assert all(0.001 < s < base.unsure_threshold for s in ham_scores)
    rows = [(SPAMMY, 1)] * 3 + [(text, 0) for text in HAM] + [(SPAMMY, 0)]
    return write_csv(tmp_path / "hand.csv", rows)


def test_evaluate_prints_metrics_computed_by_hand(app: Flask, hand_scored: Path) -> None:
    result = printed_json(run(app, "spam", "evaluate", str(hand_scored)))
    assert set(result) == METRICS
    assert (result["n"], result["spam"], result["model"]) == (7, 3, "base")
    # Flagged: the 3 spam rows and the spam text labelled ham, so 3 TP, 1 FP, 0 FN.
    assert result["precision"] == pytest.approx(3 / 4)
    assert result["recall"] == pytest.approx(1.0)
    assert result["f1"] == pytest.approx(2 * (3 / 4) * 1 / (3 / 4 + 1))
    assert result["ham_fpr"] == pytest.approx(1 / 4)
    assert result["unsure_rate"] == 0.0
    assert result["missed_spam_rate"] == 0.0
    # 12 (spam, ham) pairs: 9 ranked right, 3 ties (the same text) counting a half each.
    assert result["roc_auc"] == pytest.approx(10.5 / 12)
    assert 0 < result["seconds_per_comment"] < 0.05


def test_evaluate_with_a_site_uses_its_thresholds(
    app: Flask, make_site: Any, hand_scored: Path
) -> None:
    make_site("careful", spam_threshold=0.5, unsure_threshold=0.001)
    result = printed_json(run(app, "spam", "evaluate", str(hand_scored), "--site", "careful"))
    assert (result["spam_threshold"], result["unsure_threshold"]) == (0.5, 0.001)
    # The three plain comments now score above the unsure threshold: held, not flagged.
    assert result["unsure_rate"] == pytest.approx(3 / 7)
    assert result["precision"] == pytest.approx(3 / 4)


def test_evaluate_reads_any_csv_with_content_and_class(app: Flask, tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "other.csv",
        [(SPAMMY, 1), (HAM[0], 0), ("Line one,\nline two", 0)],
        header="class,author,content",
    )
    second = write_csv(tmp_path / "second.csv", [(HAM[1], 0)])
    result = printed_json(run(app, "spam", "evaluate", str(file), str(second)))
    assert (result["n"], result["spam"]) == (4, 1)


def test_evaluate_refuses_a_file_without_labels(app: Flask, tmp_path: Path) -> None:
    file = tmp_path / "unlabelled.csv"
    file.write_text("CONTENT\nhello\n")
    result = run(app, "spam", "evaluate", str(file))
    assert result.exit_code == 1
    assert "CLASS" in result.output


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "the file is empty"),
        (b"CONTENT,CLASS\n", "no labelled rows"),
        ("CONTENT,CLASS\ncaf\u00e9,0\n".encode("latin-1"), "not UTF-8 text"),
        # The bad row starts on line 4: the quoted text before it spans two lines.
        (b'CONTENT,CLASS\n"two\nlines",0\nok,maybe\n', "bad.csv:4: CLASS must be 0 or 1"),
    ],
)
def test_evaluate_names_the_file_and_line_of_what_it_cannot_read(
    app: Flask, tmp_path: Path, content: bytes, error: str
) -> None:
    file = tmp_path / "bad.csv"
    file.write_bytes(content)
    result = run(app, "spam", "evaluate", str(file))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert error in result.output
    assert str(file) in result.output


def test_evaluate_reads_a_comment_longer_than_pythons_csv_field_limit(
    app: Flask, tmp_path: Path
) -> None:
    file = write_csv(tmp_path / "long.csv", [("word " * 40_000, 0), (SPAMMY, 1)])
    assert printed_json(run(app, "spam", "evaluate", str(file)))["n"] == 2


def test_evaluate_refuses_a_folder_clearly(app: Flask, tmp_path: Path) -> None:
    result = run(app, "spam", "evaluate", str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.output


def test_evaluate_stores_nothing(
    app: Flask, make_site: Any, session: Session, hand_scored: Path
) -> None:
    make_site("news")
    printed_json(run(app, "spam", "evaluate", str(hand_scored), "--site", "news"))
    for table in (Comment, SpamFeedback, SiteSpamModel):
        assert session.scalar(select(func.count()).select_from(table)) == 0


def test_evaluate_on_an_unknown_site_fails_clearly(app: Flask, hand_scored: Path) -> None:
    result = run(app, "spam", "evaluate", str(hand_scored), "--site", "nowhere")
    assert result.exit_code == 1
    assert "no site 'nowhere'" in result.output


# learn


def test_learn_feeds_examples_as_feedback_and_retrains_the_site_at_once(
    app: Flask, make_site: Any, session: Session, tmp_path: Path
) -> None:
    news, _other = make_site("news"), make_site("other")
    examples = write_csv(tmp_path / "learn.csv", [(SPAMMY, 0), ("Buy cheap followers now", 1)])
    result = printed_json(run(app, "spam", "learn", str(examples), "--site", "news"))
    assert (result["site"], result["learned"], result["feedback"]) == ("news", 2, 2)
    rows = session.execute(
        select(SpamFeedback.site_id, SpamFeedback.label, SpamFeedback.source, SpamFeedback.body)
    ).all()
    assert sorted(rows) == [
        (news.id, Label.HAM, Source.IMPORT, SPAMMY),
        (news.id, Label.SPAM, Source.IMPORT, "Buy cheap followers now"),
    ]
    assert session.get(SiteSpamModel, news.id) is not None


def test_learning_a_file_again_stores_only_what_is_new(
    app: Flask, make_site: Any, tmp_path: Path
) -> None:
    # Importing a file twice doubled its weight in the site's model.
    make_site("news")
    first = write_csv(tmp_path / "first.csv", [(SPAMMY, 0), ("Buy cheap followers now", 1)])
    again = write_csv(tmp_path / "again.csv", [(SPAMMY, 0), (SPAMMY, 1), (HAM[0], 0)])
    assert printed_json(run(app, "spam", "learn", str(first), "--site", "news"))["feedback"] == 2
    assert printed_json(run(app, "spam", "learn", str(first), "--site", "news"))["feedback"] == 2
    # A new label for a known text, and a new text, are new examples.
    assert printed_json(run(app, "spam", "learn", str(again), "--site", "news"))["feedback"] == 4


def test_what_a_site_learned_shows_in_its_evaluation_only(
    app: Flask, make_site: Any, tmp_path: Path
) -> None:
    make_site("news")
    make_site("other")
    similar = write_csv(tmp_path / "similar.csv", [(SIMILAR_SPAMMY, 0), (HAM[0], 0)])
    assert printed_json(run(app, "spam", "evaluate", str(similar), "--site", "news"))[
        "ham_fpr"
    ] == pytest.approx(0.5)
    printed_json(
        run(
            app,
            "spam",
            "learn",
            str(write_csv(tmp_path / "l.csv", [(SPAMMY, 0)])),
            "--site",
            "news",
        )
    )
    learned = printed_json(run(app, "spam", "evaluate", str(similar), "--site", "news"))
    assert (learned["model"], learned["ham_fpr"]) == ("site", 0.0)
    elsewhere = printed_json(run(app, "spam", "evaluate", str(similar), "--site", "other"))
    assert (elsewhere["model"], elsewhere["ham_fpr"]) == ("base", pytest.approx(0.5))


def test_learn_needs_a_known_site(app: Flask, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "l.csv", [(SPAMMY, 0)])
    result = run(app, "spam", "learn", str(file), "--site", "nowhere")
    assert result.exit_code == 1
    assert "no site 'nowhere'" in result.output
