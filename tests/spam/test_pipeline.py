"""The spam pipeline: the new rules one by one, the classifier as a signal, the combined verdict."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status, Verdict
from service.comments.services import set_status
from service.sites.models import ModerationMode
from service.spam.classifier import load_base_model, verdict_for
from service.spam.options import CheckOptions
from service.spam.signals import Effect, Reason, Signal, combined_score, decide
from tests.spam.conftest import NORMAL, SPAMMY, codes, reason

CAMPAIGN = "Visit my shop for the best prices on watches and bags today"


def backdate(session: Session, seconds: int) -> None:
    """Moves every stored comment ``seconds`` into the past."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
    session.execute(update(Comment).values(created_at=past))
    session.commit()


# REPEAT_POST across articles


def test_the_same_text_by_another_author_on_another_article_is_a_repeat(
    make_site: Any, post: Any, check: Any
) -> None:
    make_site("news", spam_classifier=False)
    earlier = post(CAMPAIGN, article="a1", email="bob@example.com", ip="198.51.100.1")
    comment = check(post(CAMPAIGN, article="a2"))
    repeat = reason(comment, "REPEAT_POST")
    assert repeat["weight"] == 0.6
    assert f"comment {earlier}" in repeat["detail"]
    # 0.6 lies between the model's unsure (0.119) and spam (0.821) thresholds: held.
    assert comment.verdict == Verdict.UNSURE
    assert comment.status == Status.PENDING


def test_a_short_text_repeated_across_articles_is_no_campaign(
    make_site: Any, post: Any, check: Any
) -> None:
    make_site("news", spam_classifier=False)
    post("Great piece!", article="a1", email="bob@example.com")
    assert "REPEAT_POST" not in codes(check(post("Great piece!", article="a2")))


def test_the_same_text_on_the_same_article_is_no_cross_article_repeat(
    make_site: Any, post: Any, check: Any
) -> None:
    make_site("news", spam_classifier=False)
    post(CAMPAIGN, article="a1", email="bob@example.com")
    assert "REPEAT_POST" not in codes(check(post(CAMPAIGN, article="a1")))


def test_a_repeat_older_than_the_window_does_not_count(
    make_site: Any, post: Any, check: Any, session: Session
) -> None:
    make_site("news", spam_classifier=False)
    post(CAMPAIGN, article="a1", email="bob@example.com")
    backdate(session, 7200)
    options = CheckOptions(repeat_window=3600)
    assert "REPEAT_POST" not in codes(check(post(CAMPAIGN, article="a2"), options))


# FLOOD


def test_a_burst_from_one_address_is_held_then_marked_spam(
    make_site: Any, post: Any, check: Any
) -> None:
    make_site("news", spam_classifier=False)
    options = CheckOptions(flood_max=2, flood_window=60)
    ids = [post(f"Comment number {n}", email=f"reader{n}@example.com") for n in range(5)]
    assert "FLOOD" not in codes(check(ids[1], options))
    third = check(ids[2], options)
    assert reason(third, "FLOOD") == {
        "code": "FLOOD",
        "detail": "2 earlier comments from this address in 60 s.",
        "effect": "score",
        "weight": 0.6,
    }
    assert third.verdict == Verdict.UNSURE
    fifth = check(ids[4], options)
    assert reason(fifth, "FLOOD")["weight"] == 0.95
    assert fifth.verdict == Verdict.SPAM
    assert fifth.status == Status.SPAM


def test_a_burst_from_one_author_on_many_addresses_is_a_flood(
    make_site: Any, post: Any, check: Any
) -> None:
    make_site("news", spam_classifier=False)
    options = CheckOptions(flood_max=2)
    ids = [post(f"Comment number {n}", ip=f"198.51.100.{n}") for n in range(3)]
    assert "from this author" in reason(check(ids[2], options), "FLOOD")["detail"]


def test_comments_before_the_flood_window_do_not_count(
    make_site: Any, post: Any, check: Any, session: Session
) -> None:
    make_site("news", spam_classifier=False)
    for n in range(3):
        post(f"Comment number {n}")
    backdate(session, 120)
    options = CheckOptions(flood_max=2, flood_window=60)
    assert "FLOOD" not in codes(check(post("A fresh one"), options))


def test_a_flood_on_another_site_does_not_count(make_site: Any, post: Any, check: Any) -> None:
    make_site("news", spam_classifier=False)
    make_site("other", spam_classifier=False)
    for n in range(3):
        post(f"Comment number {n}", site="other")
    assert "FLOOD" not in codes(check(post("Hello"), CheckOptions(flood_max=2)))


# NEW_COMMENTER


def test_a_first_time_author_is_shown_as_new_without_weight(
    make_site: Any, post: Any, check: Any, session: Session
) -> None:
    make_site("news", spam_classifier=False)
    first = check(post(NORMAL))
    assert reason(first, "NEW_COMMENTER")["effect"] == "info"
    assert first.spam_score == 0
    assert first.verdict == Verdict.HAM


def test_an_author_with_an_approved_comment_is_not_new(
    make_site: Any, post: Any, check: Any, session: Session
) -> None:
    make_site("news", ModerationMode.PRE, spam_classifier=False)
    first = check(post(NORMAL))
    set_status(session, first, Status.APPROVED)
    session.commit()
    assert "NEW_COMMENTER" not in codes(check(post("And another thought.")))
    assert "NEW_COMMENTER" in codes(check(post("Me too.", email="bob@example.com")))


# The classifier as a signal


def test_a_spammy_comment_is_spam_with_the_classifiers_words_shown_to_moderators(
    site: Any, post: Any, check: Any, client: FlaskClient, moderator_of: Any
) -> None:
    comment = check(post(SPAMMY))
    assert (comment.verdict, comment.status) == (Verdict.SPAM, Status.SPAM)
    response = client.get(f"/api/v1/moderation/comments/{comment.id}", headers=moderator_of("news"))
    assert response.status_code == 200
    verdict = response.json["verdict"]
    assert verdict["verdict"] == "spam"
    [classifier] = [r for r in verdict["reasons"] if r["code"] == "CLASSIFIER"]
    assert classifier["weight"] >= load_base_model().spam_threshold
    assert "base model" in classifier["detail"]
    terms = classifier["terms"]
    assert len(terms) in range(1, 6)
    assert all(t["term"] in SPAMMY.split() and t["weight"] > 0 for t in terms)
    assert [t["weight"] for t in terms] == sorted((t["weight"] for t in terms), reverse=True)


def test_a_normal_comment_goes_through(site: Any, post: Any, check: Any) -> None:
    comment = check(post(NORMAL))
    assert (comment.verdict, comment.status) == (Verdict.HAM, Status.APPROVED)
    classifier = reason(comment, "CLASSIFIER")
    assert classifier["weight"] < load_base_model().unsure_threshold
    assert comment.spam_score == pytest.approx(classifier["weight"], abs=1e-4)


def test_a_site_can_turn_the_classifier_off(make_site: Any, post: Any, check: Any) -> None:
    make_site("news", spam_classifier=False)
    comment = check(post(SPAMMY))
    assert "CLASSIFIER" not in codes(comment)
    assert comment.verdict == Verdict.HAM


def test_thresholds_are_the_models_spam_one_and_a_lenient_unsure_one_unless_the_site_sets_its_own(
    make_site: Any, post: Any, check: Any
) -> None:
    base = load_base_model()
    make_site("news")
    text = "Thanks for the clear report."
    default = check(post(text))
    score = default.spam_score
    assert default.verdict == verdict_for(score, base.spam_threshold, 0.5)
    assert default.verdict == Verdict.HAM  # a thank-you is not held on a news site
    make_site("model", unsure_threshold=None)
    own = check(post(text, site="model"))
    assert own.verdict == verdict_for(score, base.spam_threshold, base.unsure_threshold)
    make_site("lenient", unsure_threshold=min(1.0, score + 0.01), spam_threshold=1.0)
    assert check(post(text, site="lenient")).verdict == Verdict.HAM
    make_site("strict", spam_threshold=max(0.0, score - 0.01), unsure_threshold=0.0)
    strict = check(post(text, site="strict"))
    assert (strict.verdict, strict.status) == (Verdict.SPAM, Status.SPAM)


def test_an_unsure_comment_waits_for_a_moderator_even_on_a_post_moderated_site(
    make_site: Any, post: Any, check: Any
) -> None:
    make_site("news", ModerationMode.POST, suspect_words=["mayor"])
    comment = check(post(NORMAL))
    assert (comment.verdict, comment.status) == (Verdict.UNSURE, Status.PENDING)


def test_a_decisive_rule_makes_spam_whatever_the_classifier_says(
    site: Any, post: Any, check: Any
) -> None:
    comment = check(post(NORMAL, honeypot="filled"))
    assert reason(comment, "CLASSIFIER")["weight"] < 0.1
    assert (comment.verdict, comment.spam_score, comment.status) == (
        Verdict.SPAM,
        1.0,
        Status.SPAM,
    )


def test_the_pipeline_records_rules_then_the_classifier(
    app: Flask, make_site: Any, post: Any, check: Any
) -> None:
    make_site("news", max_links=0)
    comment = check(post(NORMAL + " https://www.city.example/budget", elapsed_ms=500))
    assert codes(comment) == ["LINKS", "TOO_FAST", "NEW_COMMENTER", "CLASSIFIER"]


# Combining signals


def scoring(*weights: float) -> list[Signal]:
    return [Signal(Reason.LINKS, "test", Effect.SCORE, w) for w in weights]


@pytest.mark.parametrize(
    ("weights", "score"),
    [
        ((), 0.0),
        ((0.3,), 0.3),
        ((0.6, 0.3), 0.72),
        ((0.5, 0.5, 0.5), 0.875),
        ((0.95, 0.95), 0.9975),
        ((1.0, 0.2), 1.0),
    ],
)
def test_scores_combine_as_a_noisy_or(weights: tuple[float, ...], score: float) -> None:
    assert combined_score(scoring(*weights)) == pytest.approx(score)


def test_a_second_finding_adds_less_the_surer_the_first_is() -> None:
    assert combined_score(scoring(0.9, 0.5)) - 0.9 < combined_score(scoring(0.2, 0.5)) - 0.2


def test_information_never_changes_the_score_or_the_verdict() -> None:
    info = Signal(Reason.NEW_COMMENTER, "new", Effect.INFO, 0.9)
    decision = decide([*scoring(0.05), info], spam_threshold=0.8, unsure_threshold=0.1)
    assert (decision.verdict, decision.score) == (Verdict.HAM, 0.05)


def test_a_hold_is_unsure_even_with_a_clean_classifier_score() -> None:
    hold = Signal(Reason.SUSPECT_WORD, "word", Effect.HOLD)
    decision = decide([hold, *scoring(0.01)], spam_threshold=0.8, unsure_threshold=0.1)
    assert decision.verdict == Verdict.UNSURE


def test_the_classifier_signal_stores_its_terms() -> None:
    signal = Signal(Reason.CLASSIFIER, "p", weight=0.97, terms=(("subscribe", 2.34567),))
    assert signal.as_json()["terms"] == [{"term": "subscribe", "weight": 2.3457}]
    assert "terms" not in Signal(Reason.LINKS, "3 links").as_json()
