"""Spam-check tasks: the check, site models' retraining, and Akismet reports."""

from __future__ import annotations

import datetime as dt
import logging

import akismet
from celery import shared_task
from flask import current_app

from service.db import session_scope
from service.extensions import sessions, vault
from service.sites.models import Site
from service.spam import learning
from service.spam.akismet import report_feedback
from service.spam.hooks import REPORT_TO_AKISMET, RETRAIN_SITE_MODEL, RETRAIN_SITE_MODELS
from service.spam.options import CheckOptions, akismet_settings, model_path
from service.spam.services import check_comment as run_check
from service.spam.services import unchecked_comment_ids
from service.tasks import CHECK_COMMENT, enqueue

log = logging.getLogger(__name__)


@shared_task(  # type: ignore[untyped-decorator]
    name=CHECK_COMMENT,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def check_comment(comment_id: int) -> str | None:
    """Checks one comment and applies its site's policy; a re-run changes nothing."""
    options = CheckOptions.from_config(current_app.config)
    with session_scope(sessions()) as session:
        decision = run_check(session, vault(), comment_id, options)
        session.commit()
    return decision.verdict.value if decision else None


@shared_task(name="workers.spam.requeue_unchecked_comments", acks_late=True)  # type: ignore[untyped-decorator]
def requeue_unchecked_comments() -> int:
    """Queues again the checks of comments still unchecked a while after submission."""
    older_than = dt.timedelta(seconds=int(current_app.config["SPAM_CHECK_REQUEUE_AFTER"]))
    with session_scope(sessions()) as session:
        ids = unchecked_comment_ids(session, older_than)
    return sum(enqueue(CHECK_COMMENT, comment_id) for comment_id in ids)


@shared_task(name=RETRAIN_SITE_MODEL, acks_late=True)  # type: ignore[untyped-decorator]
def retrain_site_model(site_id: int) -> bool:
    """Adapts a site's model to its feedback, if that changed since it was last trained."""
    base = learning.base_model(model_path(current_app.config))
    with session_scope(sessions()) as session:
        site = session.get(Site, site_id)
        if site is None or not learning.is_stale(session, site_id, base):
            return False
        learning.retrain_site_model(session, site, base)
        session.commit()
    return True


@shared_task(name=RETRAIN_SITE_MODELS, acks_late=True)  # type: ignore[untyped-decorator]
def retrain_site_models() -> int:
    """Queues the retraining of every site whose feedback or base model changed (beat)."""
    base = learning.base_model(model_path(current_app.config))
    with session_scope(sessions()) as session:
        site_ids = learning.stale_site_ids(session, base)
    return sum(enqueue(RETRAIN_SITE_MODEL, site_id) for site_id in site_ids)


@shared_task(  # type: ignore[untyped-decorator]
    name=REPORT_TO_AKISMET,
    acks_late=True,
    autoretry_for=(akismet.RequestError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def report_to_akismet(feedback_id: int) -> bool:
    """Tells Akismet a moderator's spam or ham decision; retried while Akismet is unreachable."""
    settings = akismet_settings(current_app.config)
    if settings is None:
        return False
    with session_scope(sessions()) as session:
        try:
            return report_feedback(session, vault(), settings, feedback_id)
        except (akismet.ProtocolError, akismet.ConfigurationError) as exc:
            # Permanent: a wrong key or an answer outside the protocol will not heal by retrying.
            log.error("Akismet refused the report of feedback %s: %s", feedback_id, exc)
            return False
