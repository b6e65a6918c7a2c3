"""OpenAPI schemas of the review API (its paths are in openapi.py)."""

from __future__ import annotations

from typing import Any

from service.moderation.models import Action
from service.sites.services import SETTINGS

TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
STATUS = {"enum": ["pending", "approved", "rejected", "spam", "deleted"]}
COUNTS = {
    "type": "object",
    "required": ["pending", "approved", "rejected", "spam", "deleted"],
    "properties": {s: {"type": "integer"} for s in STATUS["enum"]},
}


_VERDICT = {
    "type": "object",
    "required": ["verdict", "score", "reasons", "checked_at"],
    "properties": {
        "verdict": {"enum": ["ham", "spam", "unsure", None]},
        "score": {"type": ["number", "null"]},
        "reasons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "detail"],
                "properties": {
                    "code": {"type": "string"},
                    "detail": {"type": "string"},
                    "effect": {"type": "string"},
                    "weight": {"type": "number"},
                },
            },
        },
        "checked_at": MAYBE_TIME,
    },
}

_PRIVATE = {
    "type": ["object", "null"],
    "description": "Only with reveal=true; every reveal is written to the audit log.",
    "required": ["email", "ip", "user_agent", "referrer"],
    "properties": {
        "email": {"type": ["string", "null"]},
        "ip": {"type": ["string", "null"]},
        "user_agent": {"type": ["string", "null"]},
        "referrer": {"type": ["string", "null"]},
    },
}

MODERATION_COMMENT: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "site",
        "article",
        "parent_id",
        "parent",
        "author",
        "body",
        "body_html",
        "status",
        "featured",
        "version",
        "verdict",
        "created_at",
        "private",
    ],
    "properties": {
        "id": {"type": "integer"},
        "site": {"type": "string"},
        "article": {"$ref": "#/components/schemas/ModerationArticle"},
        "parent_id": {"type": ["integer", "null"]},
        "parent": {
            "type": ["object", "null"],
            "description": "The comment replied to, for context.",
            "required": ["id", "author_name", "body", "status", "created_at"],
            "properties": {
                "id": {"type": "integer"},
                "author_name": {"type": "string"},
                "body": {"type": "string"},
                "status": STATUS,
                "created_at": TIME,
            },
        },
        "depth": {"type": "integer"},
        "author": {
            "type": "object",
            "required": ["name", "website", "avatar", "history"],
            "properties": {
                "name": {"type": "string"},
                "website": {"type": ["string", "null"]},
                "avatar": {"type": "string"},
                "history": {**COUNTS, "description": "The author's comments on this site."},
            },
        },
        "body": {"type": "string"},
        "body_html": {"type": "string"},
        "status": STATUS,
        "featured": {"type": "boolean"},
        "version": {"type": "integer", "description": "Also the ETag; send it as If-Match."},
        "verdict": _VERDICT,
        "created_at": TIME,
        "updated_at": TIME,
        "edited_at": MAYBE_TIME,
        "private": _PRIVATE,
    },
}

CHANGE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "action", "from_status", "to_status", "reason", "actor", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "action": {
            "enum": ["approve", "reject", "spam", "ham", "delete", "edit", "feature", "unfeature"]
        },
        "from_status": {"type": ["string", "null"]},
        "to_status": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]},
        "previous_body": {"type": ["string", "null"], "description": "Edits keep the original."},
        "actor": {"type": "string"},
        "token_id": {"type": ["integer", "null"]},
        "created_at": TIME,
    },
}

ARTICLE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "site", "key", "title", "url", "approved_count", "locked", "closed"],
    "properties": {
        "id": {"type": "integer"},
        "site": {"type": "string"},
        "key": {"type": "string"},
        "title": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"]},
        "approved_count": {"type": "integer"},
        "locked": {"type": "boolean"},
        "closed": {"type": "boolean", "description": "Locked, or older than close_after_days."},
        "created_at": TIME,
    },
}

BLOCK: dict[str, Any] = {
    "type": "object",
    "required": ["id", "site", "kind", "value", "hashed", "regex", "note", "expires_at"],
    "properties": {
        "id": {"type": "integer"},
        "site": {"type": "string"},
        "kind": {"enum": ["email", "domain", "ip", "word"]},
        "value": {"type": ["string", "null"], "description": "null for hashed blocks."},
        "hashed": {"type": "boolean", "description": "Matched by keyed digest (emails)."},
        "regex": {"type": "boolean"},
        "note": {"type": ["string", "null"]},
        "created_at": TIME,
        "expires_at": MAYBE_TIME,
    },
}

BLOCK_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": ["email", "domain", "ip", "word"]},
        "value": {
            "type": "string",
            "description": "An email, a domain, an IP or CIDR network, or a word or phrase.",
        },
        "comment_id": {
            "type": "integer",
            "description": "Instead of a value: block this comment's author (email) or address "
            "(ip) without seeing it.",
        },
        "regex": {"type": "boolean", "description": "word only: value is a regular expression."},
        "note": {"type": "string", "maxLength": 500},
        "expires_at": TIME,
        "expires_in_days": {"type": "integer", "minimum": 1},
    },
}

TOKEN: dict[str, Any] = {
    "type": "object",
    "required": ["id", "prefix", "role", "sites", "label", "expires_at", "revoked_at"],
    "properties": {
        "id": {"type": "integer"},
        "prefix": {"type": "string"},
        "role": {"enum": ["moderator", "admin"]},
        "sites": {"type": "array", "items": {"type": "string"}},
        "label": {"type": ["string", "null"]},
        "created_at": TIME,
        "expires_at": MAYBE_TIME,
        "revoked_at": MAYBE_TIME,
        "last_used_at": MAYBE_TIME,
        "secret": {"type": "string", "description": "Only when created; never shown again."},
    },
}

_SETTING_SCHEMAS: dict[str, Any] = {
    "max_links": {"type": "integer", "minimum": 0, "maximum": 100},
    "allowed_origins": {"type": "array", "items": {"type": "string"}},
    "thread_depth": {"type": "integer", "minimum": 1, "maximum": 20},
    "close_after_days": {"type": ["integer", "null"], "minimum": 1},
    "blocked_words": {"type": "array", "items": {"type": "string", "maxLength": 100}},
    "suspect_words": {"type": "array", "items": {"type": "string", "maxLength": 100}},
    "blocked_domains": {"type": "array", "items": {"type": "string"}},
    "spam_threshold": {
        "type": ["number", "null"],
        "minimum": 0,
        "maximum": 1,
        "description": "null: the spam model's own.",
    },
    "unsure_threshold": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
    "spam_classifier": {"type": "boolean", "description": "Whether the classifier scores."},
    "block_action": {"enum": ["hold", "reject"]},
    "erase_mode": {"enum": ["delete", "anonymise"]},
}

SETTINGS_CHANGE: dict[str, Any] = {
    "type": "object",
    "description": "Any of the settings; unknown names are refused.",
    "properties": {"moderation": {"enum": ["pre", "post", "trusted"]}, **_SETTING_SCHEMAS},
    "additionalProperties": False,
}

SITE_SETTINGS: dict[str, Any] = {
    "type": "object",
    "required": ["site", "name", "moderation", "settings"],
    "properties": {
        "site": {"type": "string"},
        "name": {"type": "string"},
        "moderation": {"enum": ["pre", "post", "trusted"]},
        "settings": {
            "type": "object",
            "required": sorted(SETTINGS),
            "properties": {
                **_SETTING_SCHEMAS,
                "blocked_emails": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Read only here: block emails with POST .../blocks.",
                },
            },
        },
    },
}

AUDIT_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "site", "actor", "token_id", "action", "comment_id", "subject", "detail"],
    "properties": {
        "id": {"type": "integer"},
        "site": {"type": ["string", "null"]},
        "actor": {"type": "string"},
        "token_id": {"type": ["integer", "null"]},
        "action": {"enum": [a.value for a in Action]},
        "comment_id": {"type": ["integer", "null"]},
        "subject": {"type": ["string", "null"]},
        "detail": {"type": "object"},
        "created_at": TIME,
    },
}

_BULK_RESULT = {
    "type": "object",
    "required": ["id", "outcome"],
    "properties": {
        "id": {"type": "integer"},
        "outcome": {
            "enum": ["changed", "unchanged", "ready", "not_found", "stale", "retry"],
            "description": "Applied: changed or unchanged. Refused: not_found or stale (the id "
            "that stopped the bulk), ready (would have applied), retry (a concurrent change).",
        },
        "status": STATUS,
        "version": {"type": "integer"},
    },
}

_EXPORTED_COMMENT = {
    "type": "object",
    "required": ["id", "article", "status", "author", "body", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "article": {"type": "object"},
        "parent_id": {"type": ["integer", "null"]},
        "status": STATUS,
        "author": {
            "type": "object",
            "required": ["name", "email", "ip"],
            "properties": {
                "name": {"type": "string"},
                "website": {"type": ["string", "null"]},
                "email": {"type": ["string", "null"]},
                "ip": {"type": ["string", "null"]},
                "user_agent": {"type": ["string", "null"]},
                "referrer": {"type": ["string", "null"]},
            },
        },
        "body": {"type": "string"},
        "created_at": TIME,
        "edited_at": MAYBE_TIME,
        "earlier_versions": {"type": "array", "items": {"type": "object"}},
    },
}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


def _problem_plus(**properties: Any) -> dict[str, Any]:
    return {"allOf": [_ref("Problem"), {"type": "object", "properties": properties}]}


SCHEMAS: dict[str, Any] = {
    "ModerationComment": MODERATION_COMMENT,
    "ModerationCommentDetail": {
        "allOf": [
            _ref("ModerationComment"),
            _object(["history"], history=_list_of("CommentChange")),
        ]
    },
    "CommentChange": CHANGE,
    "ModerationArticle": ARTICLE,
    "ModerationQueue": _object(
        ["comments", "next_cursor", "counts", "counts_capped_at"],
        comments=_list_of("ModerationComment"),
        next_cursor={"type": ["string", "null"]},
        counts={
            **COUNTS,
            "description": "Per status, for the filter without its status, up to counts_capped_at.",
        },
        counts_capped_at={
            "type": "integer",
            "description": "Counting stops here: a count equal to it means at least that many.",
        },
    ),
    "Decision": _object(
        ["action"],
        action={"enum": ["approve", "reject", "spam", "ham", "delete"]},
        reason={"type": "string", "maxLength": 1000},
    ),
    "BulkDecision": _object(
        ["action", "ids"],
        action={"enum": ["approve", "reject", "spam", "ham", "delete"]},
        reason={"type": "string", "maxLength": 1000},
        ids={
            "type": "array",
            "minItems": 1,
            "maxItems": 500,
            "items": {
                "oneOf": [
                    {"type": "integer"},
                    _object(["id"], id={"type": "integer"}, version={"type": "integer"}),
                ]
            },
        },
    ),
    "BulkResult": _object(
        ["action", "applied", "results"],
        action={"type": "string"},
        applied={"type": "integer", "description": "How many changed status."},
        results={"type": "array", "items": _BULK_RESULT},
    ),
    "BulkRefused": _problem_plus(
        applied={"const": 0}, results={"type": "array", "items": _BULK_RESULT}
    ),
    "CommentConflict": _problem_plus(current=_ref("ModerationComment")),
    "CommentPatch": _object(
        [],
        body={"type": "string", "maxLength": 10000},
        featured={"type": "boolean"},
        reason={"type": "string", "maxLength": 1000},
    ),
    "ArticlePatch": _object(["locked"], locked={"type": "boolean"}),
    "Block": BLOCK,
    "BlockRequest": BLOCK_REQUEST,
    "BlockList": _object(["blocks"], blocks=_list_of("Block")),
    "ApiToken": TOKEN,
    "TokenList": _object(["tokens"], tokens=_list_of("ApiToken")),
    "TokenRequest": _object(
        ["sites"],
        sites={"type": "array", "items": {"type": "string"}, "minItems": 1},
        role={"enum": ["moderator", "admin"], "default": "moderator"},
        label={"type": "string", "maxLength": 200},
        expires_at=TIME,
        expires_in_days={"type": "integer", "minimum": 1},
    ),
    "SiteSettings": SITE_SETTINGS,
    "SettingsChange": SETTINGS_CHANGE,
    "ModeratorSites": _object(
        ["sites", "role"],
        role={"enum": ["moderator", "admin"]},
        sites={
            "type": "array",
            "items": _object(
                ["slug", "name", "moderation"],
                slug={"type": "string"},
                name={"type": "string"},
                moderation={"enum": ["pre", "post", "trusted"]},
            ),
        },
    ),
    "AuditEntry": AUDIT_ENTRY,
    "AuditPage": _object(
        ["entries", "next_cursor"],
        entries=_list_of("AuditEntry"),
        next_cursor={"type": ["string", "null"]},
    ),
    "SubjectRequest": _object(
        ["email"],
        email={"type": "string", "format": "email"},
        mode={"enum": ["delete", "anonymise"], "description": "erase only; default: the site's."},
    ),
    "SubjectExport": _object(
        ["site", "generated_at", "comments"],
        site={"type": "string"},
        generated_at=TIME,
        comments={"type": "array", "items": _EXPORTED_COMMENT},
    ),
    "Erasure": _object(
        ["comments", "mode", "blocks_removed", "feedback_removed"],
        comments={"type": "integer"},
        mode={"enum": ["delete", "anonymise"]},
        blocks_removed={"type": "integer"},
        feedback_removed={"type": "integer"},
    ),
}
