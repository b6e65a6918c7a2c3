"""How comments, blocks, tokens and audit lines look to moderators and admins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.comments.models import Comment, Status
from service.moderation.models import ApiToken, AuditEntry, Block, CommentChange
from service.moderation.queue import QueueContext
from service.privacy.crypto import Vault
from service.sites.models import Article, Site
from service.sites.services import SETTINGS, article_is_closed

PRIVATE_FIELDS = ["email", "ip", "user_agent", "referrer"]


def iso(value: dt.datetime | None) -> str | None:
    """A timestamp as ISO 8601 UTC with a Z."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def moderator_comment(
    comment: Comment, ctx: QueueContext, private: dict[str, str | None] | None = None
) -> dict[str, Any]:
    """A comment as a moderator sees it; ``private`` only when the caller asked to reveal."""
    site = ctx.sites[comment.site_id]
    history = ctx.authors.get((comment.site_id, comment.email_digest or ""))
    parent = ctx.parents.get(comment.parent_id) if comment.parent_id else None
    return {
        "id": comment.id,
        "site": site.slug,
        "article": moderator_article(site, ctx.articles[comment.article_id]),
        "parent_id": comment.parent_id,
        "parent": _parent(parent) if parent is not None else None,
        "depth": comment.depth,
        "author": {
            "name": comment.author_name,
            "website": comment.author_website,
            "avatar": comment.avatar,
            "history": history or {s.value: 0 for s in Status},
        },
        "body": comment.body,
        "body_html": comment.body_html,
        "status": comment.status.value,
        "featured": comment.featured,
        "version": comment.version,
        "verdict": {
            "verdict": comment.verdict.value if comment.verdict else None,
            "score": comment.spam_score,
            "reasons": list(comment.spam_reasons or []),
            "checked_at": iso(comment.checked_at),
        },
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "edited_at": iso(comment.edited_at),
        "private": private,
    }


def _parent(parent: Comment) -> dict[str, Any]:
    return {
        "id": parent.id,
        "author_name": parent.author_name,
        "body": parent.body,
        "status": parent.status.value,
        "created_at": iso(parent.created_at),
    }


def moderator_article(site: Site, article: Article) -> dict[str, Any]:
    """An article with its moderation state."""
    return {
        "id": article.id,
        "site": site.slug,
        "key": article.key,
        "title": article.title,
        "url": article.url,
        "approved_count": article.approved_count,
        "locked": article.locked,
        "closed": article_is_closed(site, article),
        "created_at": iso(article.created_at),
    }


def private_fields(vault: Vault, comment: Comment) -> dict[str, str | None]:
    """The author's email and address, decrypted, with the client's user agent and referrer."""
    return {
        "email": vault.decrypt(comment.email_encrypted) if comment.email_encrypted else None,
        "ip": vault.decrypt(comment.ip_encrypted) if comment.ip_encrypted else None,
        "user_agent": comment.user_agent,
        "referrer": comment.referrer,
    }


def change_view(change: CommentChange) -> dict[str, Any]:
    """One entry of a comment's history."""
    return {
        "id": change.id,
        "action": change.action.value,
        "from_status": change.from_status,
        "to_status": change.to_status,
        "reason": change.reason,
        "previous_body": change.previous_body,
        "actor": change.actor,
        "token_id": change.token_id,
        "created_at": iso(change.created_at),
    }


def block_view(block: Block, site: Site) -> dict[str, Any]:
    """A block; an email block shows no value, only its note."""
    return {
        "id": block.id,
        "site": site.slug,
        "kind": block.kind.value,
        "value": block.value,
        "hashed": block.digest is not None,
        "regex": block.regex,
        "note": block.note,
        "created_at": iso(block.created_at),
        "expires_at": iso(block.expires_at),
    }


def token_view(token: ApiToken) -> dict[str, Any]:
    """A token without its secret (only the prefix that tells tokens apart)."""
    return {
        "id": token.id,
        "prefix": token.prefix,
        "role": token.role.value,
        "sites": list(token.sites),
        "label": token.label,
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "revoked_at": iso(token.revoked_at),
        "last_used_at": iso(token.last_used_at),
    }


def audit_view(entry: AuditEntry, slugs: dict[int, str]) -> dict[str, Any]:
    """One audit line."""
    return {
        "id": entry.id,
        "site": slugs.get(entry.site_id) if entry.site_id is not None else None,
        "actor": entry.actor,
        "token_id": entry.token_id,
        "action": entry.action.value,
        "comment_id": entry.comment_id,
        "subject": entry.subject,
        "detail": entry.detail,
        "created_at": iso(entry.created_at),
    }


def site_settings_view(site: Site) -> dict[str, Any]:
    """A site's moderation mode and every setting, defaults filled in."""
    return {
        "site": site.slug,
        "name": site.name,
        "moderation": site.moderation.value,
        "settings": {name: site.setting(name) for name in SETTINGS},
    }
