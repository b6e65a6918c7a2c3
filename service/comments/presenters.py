"""How a comment looks to the public: never an email, an address or a digest of either."""

from __future__ import annotations

from typing import Any

from service.comments.models import Comment
from service.sites.models import Article


def public_comment(comment: Comment) -> dict[str, Any]:
    """The public fields of a comment (replies are added by the thread)."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": {
            "name": comment.author_name,
            "website": comment.author_website,
            "avatar": comment.avatar,
        },
        "body_html": comment.body_html,
        "created_at": comment.created_at.isoformat().replace("+00:00", "Z"),
        "edited": comment.edited_at is not None,
        "featured": comment.featured,
    }


def authors_view(comment: Comment) -> dict[str, Any]:
    """A comment as its author sees it: public fields plus where it stands."""
    return {**public_comment(comment), "status": comment.status.value, "replies": []}


def public_article(article: Article, closed: bool) -> dict[str, Any]:
    """The public fields of an article."""
    return {
        "key": article.key,
        "title": article.title,
        "url": article.url,
        "comment_count": article.approved_count,
        "closed": closed,
    }
