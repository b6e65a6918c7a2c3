"""Running the spam check on a comment and recording its verdict, once."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status, body_digest
from service.db import utcnow
from service.moderation.policy import publish_if_allowed
from service.privacy.crypto import Vault
from service.sites.models import Site
from service.spam import akismet
from service.spam.classifier import Scorer
from service.spam.learning import base_model, scorer_for
from service.spam.options import CheckOptions
from service.spam.rules import RULES, CheckContext
from service.spam.signals import Decision, Reason, Signal, decide

log = logging.getLogger(__name__)

# Words shown to moderators with the classifier's score.
EXPLAINED_TERMS = 5


def check_comment(
    session: Session, vault: Vault, comment_id: int, options: CheckOptions | None = None
) -> Decision | None:
    """Checks a comment, records the verdict and applies the site's policy.

    The pipeline: the rules, then the site's classifier, then Akismet when configured; the
    signals combine into one verdict under the site's thresholds. Idempotent: a comment
    already checked (a task delivered twice) is left as it is and None is returned.
    """
    options = options or CheckOptions()
    comment = session.get(Comment, comment_id)
    if comment is None or comment.checked_at is not None:
        return None
    site = session.get_one(Site, comment.site_id)
    if comment.body_digest is None:  # stored by a release before 0008, during a rolling upgrade
        comment.body_digest = body_digest(comment.body)
    email = vault.decrypt(comment.email_encrypted) if comment.email_encrypted else None
    address = vault.decrypt(comment.ip_encrypted) if comment.ip_encrypted else None
    ctx = CheckContext(session, site, comment, email, address, options)
    signals: list[Signal] = [signal for rule in RULES for signal in rule(ctx)]
    base = base_model(options.model_path)
    scorer = scorer_for(session, site.id, base)
    if site.setting("spam_classifier"):
        signals.append(classifier_signal(scorer, comment.body, scorer is not base))
    if options.akismet is not None:
        subject = akismet.comment_for_akismet(session, comment, email, address)
        if subject is not None:
            signals.append(akismet.check(options.akismet, subject))
    spam_threshold, unsure_threshold = site_thresholds(site, scorer)
    decision = decide(signals, spam_threshold, unsure_threshold)
    comment.verdict = decision.verdict
    comment.spam_score = decision.score
    comment.spam_reasons = [s.as_json() for s in decision.signals]
    comment.checked_at = utcnow()
    if comment.status == Status.PENDING:
        publish_if_allowed(session, site, comment)
    session.flush()
    log.info("comment %s checked: %s (%.2f)", comment.id, decision.verdict, decision.score)
    return decision


def classifier_signal(scorer: Scorer, text: str, adapted: bool) -> Signal:
    """The classifier's probability as a signal, with the words that raised it most."""
    probability = float(scorer.score([text])[0])
    model = "this site's model" if adapted else "the base model"
    detail = f"Spam probability {probability:.2f} ({model})."
    nearness, spam_share = scorer.remembered(text)
    if nearness > 0:
        # A near copy is judged by its moderators' label more than by its words: say so, since
        # the terms below then explain little of the score.
        label = "spam" if spam_share >= 0.5 else "not spam"
        detail += f" A near copy ({nearness:.0%}) of comments moderators marked {label}."
    return Signal(
        Reason.CLASSIFIER,
        detail,
        weight=probability,
        terms=tuple(scorer.explain(text, EXPLAINED_TERMS)),
    )


def site_thresholds(site: Site, scorer: Scorer) -> tuple[float, float]:
    """The site's spam and unsure thresholds; unset (None), the model's own."""
    spam = site.setting("spam_threshold")
    unsure = site.setting("unsure_threshold")
    return (
        scorer.spam_threshold if spam is None else float(spam),
        scorer.unsure_threshold if unsure is None else float(unsure),
    )


def unchecked_comment_ids(
    session: Session, older_than: dt.timedelta, limit: int = 500
) -> list[int]:
    """Comments whose check has not finished ``older_than`` after submission."""
    cutoff = utcnow() - older_than
    query = (
        select(Comment.id)
        .where(Comment.checked_at.is_(None), Comment.created_at < cutoff)
        .order_by(Comment.created_at)
        .limit(limit)
    )
    return list(session.scalars(query))
