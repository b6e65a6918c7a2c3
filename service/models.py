"""Imports every model so that Base.metadata knows all tables (for Alembic and tests)."""

from service.comments.models import Comment
from service.moderation.models import ApiToken, AuditEntry, Block, CommentChange
from service.sites.models import Article, Site
from service.spam.feedback import SpamFeedback

__all__ = [
    "ApiToken",
    "Article",
    "AuditEntry",
    "Block",
    "Comment",
    "CommentChange",
    "Site",
    "SpamFeedback",
]
