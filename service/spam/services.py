"""Running the spam check on a comment and recording its verdict, once."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status
from service.db import utcnow
from service.moderation.policy import publish_if_allowed
from service.privacy.crypto import Vault
from service.sites.models import Site
from service.spam.rules import RULES, CheckContext
from service.spam.signals import Decision, Signal, decide

log = logging.getLogger(__name__)


def check_comment(session: Session, vault: Vault, comment_id: int) -> Decision | None:
    """Checks a comment, records the verdict and applies the site's policy.

    Idempotent: a comment already checked (a task delivered twice) is left as it is and
    None is returned.
    """
    comment = session.get(Comment, comment_id)
    if comment is None or comment.checked_at is not None:
        return None
    site = session.get_one(Site, comment.site_id)
    email = vault.decrypt(comment.email_encrypted) if comment.email_encrypted else None
    address = vault.decrypt(comment.ip_encrypted) if comment.ip_encrypted else None
    ctx = CheckContext(session=session, site=site, comment=comment, email=email, address=address)
    signals: list[Signal] = [signal for rule in RULES for signal in rule(ctx)]
    decision = decide(
        signals,
        spam_threshold=float(site.setting("spam_threshold")),
        unsure_threshold=float(site.setting("unsure_threshold")),
    )
    comment.verdict = decision.verdict
    comment.spam_score = decision.score
    comment.spam_reasons = [s.as_json() for s in decision.signals]
    comment.checked_at = utcnow()
    if comment.status == Status.PENDING:
        publish_if_allowed(session, site, comment)
    session.flush()
    log.info("comment %s checked: %s (%.2f)", comment.id, decision.verdict, decision.score)
    return decision


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
