"""Site models: learning from feedback, per site only, kept current, cached per process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.comments.models import Comment, Verdict
from service.sites.models import Site
from service.spam.classifier import SiteModel, TrainingConfig, load_base_model, train
from service.spam.features import LabelledText, load_rows
from service.spam.feedback import Label, Source, SpamFeedback, record_feedback
from service.spam.learning import (
    is_stale,
    retrain_site_model,
    scorer_for,
    stale_site_ids,
)
from service.spam.models import SiteSpamModel
from tests.spam.conftest import SIMILAR_SPAMMY, SPAMMY, reason

DATA = Path(__file__).parent / "data"


def feedback(session: Session, site: Site, text: str, label: Label) -> SpamFeedback:
    """Stores one labelled text for a site, as an import would, and commits."""
    row = record_feedback(session, site, None, label, Source.IMPORT, body=text)
    session.commit()
    return row


def test_a_ham_report_changes_the_next_verdict_on_a_similar_comment_for_that_site_only(
    make_site: Any, post: Any, check: Any, session: Session
) -> None:
    news, other = make_site("news"), make_site("other")
    held = check(post(SPAMMY))
    assert held.verdict == Verdict.SPAM
    record_feedback(session, news, held, Label.HAM, Source.MODERATOR)
    retrain_site_model(session, news, load_base_model())
    session.commit()

    here = check(post(SIMILAR_SPAMMY, email="bob@example.com"))
    assert here.verdict != Verdict.SPAM
    assert "this site's model" in reason(here, "CLASSIFIER")["detail"]
    elsewhere = check(post(SIMILAR_SPAMMY, site="other", email="bob@example.com"))
    assert elsewhere.verdict == Verdict.SPAM
    assert "base model" in reason(elsewhere, "CLASSIFIER")["detail"]
    assert session.get(SiteSpamModel, other.id) is None


def test_one_sites_feedback_leaves_another_sites_scores_exactly_as_they_were(
    make_site: Any, session: Session
) -> None:
    base = load_base_model()
    news, other = make_site("news"), make_site("other")
    texts = [SPAMMY, SIMILAR_SPAMMY, "Lovely photos of the harbour", "Buy cheap followers now"]
    before = scorer_for(session, other.id, base).score(texts)
    for row in load_rows([DATA / "site_a.csv"]):
        label = Label.SPAM if row.is_spam else Label.HAM
        record_feedback(session, news, None, label, Source.IMPORT, body=row.text)
    retrain_site_model(session, news, base)
    session.commit()
    assert isinstance(scorer_for(session, news.id, base), SiteModel)
    assert scorer_for(session, other.id, base) is base
    assert np.array_equal(scorer_for(session, other.id, base).score(texts), before)


def test_learning_never_changes_the_base_model(make_site: Any, session: Session) -> None:
    base = load_base_model()
    shipped = base.to_bytes()
    site = make_site("news")
    feedback(session, site, SPAMMY, Label.HAM)
    retrain_site_model(session, site, base)
    session.commit()
    assert base.to_bytes() == shipped
    assert load_base_model().score([SPAMMY])[0] >= base.spam_threshold


def test_a_retrained_model_records_what_it_learned(make_site: Any, session: Session) -> None:
    base = load_base_model()
    site = make_site("news")
    feedback(session, site, "Buy cheap followers now", Label.SPAM)
    last = feedback(session, site, SPAMMY, Label.HAM)
    stored = retrain_site_model(session, site, base)
    session.commit()
    assert stored is not None
    assert (stored.feedback_count, stored.last_feedback_id) == (2, last.id)
    assert stored.base_model_sha == base.fingerprint
    restored = SiteModel.from_bytes(stored.blob, base)
    assert restored.feedback_count == 2


def test_a_site_is_stale_when_its_feedback_changes(make_site: Any, session: Session) -> None:
    base = load_base_model()
    site = make_site("news")
    assert not is_stale(session, site.id, base)
    first = feedback(session, site, SPAMMY, Label.HAM)
    assert is_stale(session, site.id, base)
    retrain_site_model(session, site, base)
    session.commit()
    assert not is_stale(session, site.id, base)
    feedback(session, site, "Buy cheap followers now", Label.SPAM)
    assert is_stale(session, site.id, base)
    retrain_site_model(session, site, base)
    session.commit()
    # Erasure (GDPR) removes feedback: the model must forget it too.
    session.execute(delete(SpamFeedback).where(SpamFeedback.id == first.id))
    session.commit()
    assert is_stale(session, site.id, base)


def test_stale_sites_are_those_with_new_or_erased_feedback_or_another_base(
    make_site: Any, session: Session
) -> None:
    base = load_base_model()
    fresh, added, erased, quiet = (make_site(s) for s in ("fresh", "added", "erased", "quiet"))
    for site in (fresh, added, erased):
        feedback(session, site, SPAMMY, Label.HAM)
        retrain_site_model(session, site, base)
    session.commit()
    assert stale_site_ids(session, base) == []
    feedback(session, added, "Buy cheap followers now", Label.SPAM)
    session.execute(delete(SpamFeedback).where(SpamFeedback.site_id == erased.id))
    session.commit()
    assert stale_site_ids(session, base) == sorted([added.id, erased.id])
    other_base = train(load_rows([DATA / "site_a.csv", DATA / "site_b.csv"]), TrainingConfig())
    assert stale_site_ids(session, other_base) == sorted([fresh.id, added.id, erased.id])
    assert quiet.id not in stale_site_ids(session, other_base)


def test_with_all_feedback_erased_the_site_scores_with_the_base_model_again(
    make_site: Any, session: Session
) -> None:
    base = load_base_model()
    site = make_site("news")
    feedback(session, site, SPAMMY, Label.HAM)
    retrain_site_model(session, site, base)
    session.commit()
    session.execute(delete(SpamFeedback))
    assert retrain_site_model(session, site, base) is None
    session.commit()
    assert session.get(SiteSpamModel, site.id) is None
    assert scorer_for(session, site.id, base) is base


def test_feedback_without_words_leaves_no_model(make_site: Any, session: Session) -> None:
    site = make_site("news")
    feedback(session, site, "!!! ???", Label.SPAM)
    assert retrain_site_model(session, site, load_base_model()) is None


def test_a_model_adapted_from_another_base_is_not_used(make_site: Any, session: Session) -> None:
    base = load_base_model()
    other_base = train(load_rows([DATA / "site_a.csv", DATA / "site_b.csv"]), TrainingConfig())
    site = make_site("news")
    feedback(session, site, SPAMMY, Label.HAM)
    retrain_site_model(session, site, other_base)
    session.commit()
    assert scorer_for(session, site.id, base) is base


def test_a_process_reuses_a_loaded_model_until_the_site_is_retrained(
    make_site: Any, session: Session
) -> None:
    base = load_base_model()
    site = make_site("news")
    feedback(session, site, SPAMMY, Label.HAM)
    first = retrain_site_model(session, site, base)
    session.commit()
    assert first is not None
    trained_at = first.trained_at
    loaded = scorer_for(session, site.id, base)
    assert scorer_for(session, site.id, base) is loaded
    feedback(session, site, "Buy cheap followers now", Label.SPAM)
    second = retrain_site_model(session, site, base)
    session.commit()
    assert second is not None and second.trained_at > trained_at
    reloaded = scorer_for(session, site.id, base)
    assert reloaded is not loaded
    assert isinstance(reloaded, SiteModel) and reloaded.feedback_count == 2


# The wiring: decisions queue the retraining; the tasks retrain


def test_a_moderators_ham_decision_queues_its_sites_retraining_after_commit(
    site: Site,
    post: Any,
    check: Any,
    client: FlaskClient,
    moderator_of: Any,
    queued: Any,
) -> None:
    comment = check(post(SPAMMY))
    queued()
    response = client.post(
        f"/api/v1/moderation/comments/{comment.id}/decision",
        json={"action": "ham"},
        headers=moderator_of("news"),
    )
    assert response.status_code == 200, response.json
    # No Akismet key: only the retraining, and nothing for Akismet.
    assert queued() == [("workers.spam.retrain_site_model", (site.id,))]


def test_feedback_rolled_back_queues_nothing(site: Site, session: Session, queued: Any) -> None:
    record_feedback(session, site, None, Label.SPAM, Source.IMPORT, body="Buy followers")
    session.flush()
    session.rollback()
    session.commit()
    assert queued() == []


def test_the_retraining_task_adapts_a_stale_site_once(
    app: Flask, site: Site, session: Session
) -> None:
    from workers.spam import retrain_site_model as task

    feedback(session, site, SPAMMY, Label.HAM)
    assert task(site.id) is True
    assert task(site.id) is False
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(SiteSpamModel))
    assert count == 1


def test_the_beat_task_queues_every_stale_site(
    app: Flask, make_site: Any, session: Session, queued: Any
) -> None:
    from workers.spam import retrain_site_models

    news, other, _quiet = make_site("news"), make_site("other"), make_site("quiet")
    for site in (news, other):
        feedback(session, site, SPAMMY, Label.HAM)
    queued()
    assert retrain_site_models() == 2
    assert sorted(queued()) == [
        ("workers.spam.retrain_site_model", (news.id,)),
        ("workers.spam.retrain_site_model", (other.id,)),
    ]


def test_learn_adds_imported_feedback_and_retrains_at_once(
    make_site: Any, session: Session
) -> None:
    from service.spam.learning import learn

    site = make_site("news")
    examples = [LabelledText(SPAMMY, False), LabelledText("Buy cheap followers now", True)]
    stored = learn(session, site, examples, load_base_model())
    session.commit()
    rows = session.execute(select(SpamFeedback.body, SpamFeedback.label, SpamFeedback.source))
    assert sorted(rows) == [
        ("Buy cheap followers now", Label.SPAM, Source.IMPORT),
        (SPAMMY, Label.HAM, Source.IMPORT),
    ]
    assert stored is not None and stored.feedback_count == 2
    assert not is_stale(session, site.id, load_base_model())


def test_comments_of_the_feedback_stay_untouched(
    site: Site, post: Any, check: Any, session: Session
) -> None:
    comment = check(post(SPAMMY))
    record_feedback(session, site, comment, Label.HAM, Source.MODERATOR)
    retrain_site_model(session, site, load_base_model())
    session.commit()
    session.expire_all()
    assert session.get_one(Comment, comment.id).verdict == Verdict.SPAM
