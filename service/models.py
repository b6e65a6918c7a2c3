"""Imports every model so that Base.metadata knows all tables (for Alembic and tests)."""

from service.comments.models import Comment
from service.moderation.models import ApiToken
from service.sites.models import Article, Site

__all__ = ["ApiToken", "Article", "Comment", "Site"]
