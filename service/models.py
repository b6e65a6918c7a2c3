"""Imports every model so that Base.metadata knows all tables (for Alembic and tests)."""

from service.comments.models import Comment
from service.moderation.models import ApiToken, AuditEntry, Block, CommentChange
from service.sites.models import Article, Site
from service.spam.feedback import SpamFeedback
from service.spam.models import SiteSpamModel
from service.webhooks.models import Attempt, Delivery, Endpoint, Message

__all__ = [
    "ApiToken",
    "Article",
    "Attempt",
    "AuditEntry",
    "Block",
    "Comment",
    "CommentChange",
    "Delivery",
    "Endpoint",
    "Message",
    "Site",
    "SiteSpamModel",
    "SpamFeedback",
]
