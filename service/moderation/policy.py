"""The site's policy: what happens to a comment once the spam check has a verdict."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.comments.models import Comment, Status, Verdict
from service.comments.services import has_approved_comment, set_status
from service.sites.models import ModerationMode, Site


def publish_if_allowed(session: Session, site: Site, comment: Comment) -> Status:
    """Applies the site's policy to a checked, still pending comment and returns its status.

    Spam never publishes; an unsure verdict always waits for a moderator, whatever the mode.
    """
    if comment.status != Status.PENDING or comment.verdict is None:
        return comment.status
    if comment.verdict == Verdict.SPAM:
        set_status(session, comment, Status.SPAM)
    elif comment.verdict == Verdict.HAM and _may_publish_ham(session, site, comment):
        set_status(session, comment, Status.APPROVED)
    return comment.status


def _may_publish_ham(session: Session, site: Site, comment: Comment) -> bool:
    if site.moderation == ModerationMode.POST:
        return True
    if site.moderation == ModerationMode.TRUSTED and comment.email_digest:
        return has_approved_comment(session, site, comment.email_digest, before=comment.id)
    return False
