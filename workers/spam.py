"""Spam-check tasks."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from flask import current_app

from service.db import session_scope
from service.extensions import sessions, vault
from service.spam.services import check_comment as run_check
from service.spam.services import unchecked_comment_ids
from service.tasks import CHECK_COMMENT, enqueue


@shared_task(
    name=CHECK_COMMENT,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def check_comment(comment_id: int) -> str | None:
    """Checks one comment and applies its site's policy; a re-run changes nothing."""
    with session_scope(sessions()) as session:
        decision = run_check(session, vault(), comment_id)
        session.commit()
    return decision.verdict.value if decision else None


@shared_task(name="workers.spam.requeue_unchecked_comments", acks_late=True)
def requeue_unchecked_comments() -> int:
    """Queues again the checks of comments still unchecked a while after submission."""
    older_than = dt.timedelta(seconds=int(current_app.config["SPAM_CHECK_REQUEUE_AFTER"]))
    with session_scope(sessions()) as session:
        ids = unchecked_comment_ids(session, older_than)
    return sum(enqueue(CHECK_COMMENT, comment_id) for comment_id in ids)
