"""How a comment looks to the public: never an email, an address or a digest of either."""

from __future__ import annotations

from typing import Any

from service.comments.models import Comment, Status
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


def removed_comment(comment: Comment) -> dict[str, Any]:
    """The placeholder of a comment no longer public that replies hang under: nothing of its
    author or text, only its place in the thread."""
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": None,
        "body_html": "",
        "created_at": comment.created_at.isoformat().replace("+00:00", "Z"),
        "edited": False,
        "featured": False,
        "removed": True,
    }


def authors_view(comment: Comment) -> dict[str, Any]:
    """A comment as its author sees it: public fields plus where it stands.

    A comment marked spam (by the check or by a block the site holds instead of refusing)
    stays "pending" to its author, as WordPress and Akismet users expect: a spammer who could
    see the verdict could probe the filter until a text passes.
    """
    shown = Status.PENDING if comment.status == Status.SPAM else comment.status
    return {**public_comment(comment), "status": shown.value, "replies": []}


def public_article(article: Article, closed: bool) -> dict[str, Any]:
    """The public fields of an article."""
    return {
        "key": article.key,
        "title": article.title,
        "url": article.url,
        "comment_count": article.approved_count,
        "closed": closed,
    }
