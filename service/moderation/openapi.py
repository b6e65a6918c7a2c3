"""OpenAPI paths and schemas of the review API for moderators and admins."""

from __future__ import annotations

from typing import Any

from service.meta.openapi import json_content, problem_response
from service.moderation.models import Action
from service.moderation.openapi_schemas import SCHEMAS, STATUS, TIME

_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


def _path(name: str, description: str = "", kind: str = "string") -> dict[str, Any]:
    param = {"name": name, "in": "path", "required": True, "schema": {"type": kind}}
    return {**param, "description": description} if description else param


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_SITE = _path("site", "The site's slug; one the token is for.")
_COMMENT = _path("comment_id", kind="integer")
_ARTICLE = _path("article", "The host's key for the article.")
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "schema": {"type": "string"},
    "description": 'The ETag the moderator saw ("3"): a newer version gets 412.',
}


def _body(schema: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


def _problem_with(schema: str, description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"description": description, "content": {"application/problem+json": {"schema": ref}}}


def _op(summary: str, responses: dict[str, Any], admin: bool = False, **extra: Any) -> Any:
    errors = {
        "401": problem_response("No token, or a bad, expired or revoked one."),
        "404": problem_response("Not found, or not on the token's sites (never 403)."),
    }
    if admin:
        errors["403"] = problem_response("A moderator's token on an admin route.")
    if "requestBody" in extra:
        errors["415"] = problem_response("The body is not JSON.")
        errors["422"] = problem_response("Invalid fields, one error each.")
    return {
        "summary": summary,
        "security": _SECURITY,
        "responses": {**errors, **responses},
        **extra,
    }


__all__ = ["PATHS", "SCHEMAS"]

_REVEAL = _query("reveal", {"type": "boolean"}, "Include email and IP (each reveal audited).")
_QUEUE_PARAMS = [
    _query("site", {"type": "string"}, "Only this site (default: all the token's sites)."),
    _query("status", STATUS, "Only this status."),
    _query("article", {"type": "string"}, "Only this article key."),
    _query("verdict", {"enum": ["ham", "spam", "unsure"]}, "Only this spam verdict."),
    _query("author", {"type": "string"}, "The author's email (matched by keyed digest)."),
    _query("ip", {"type": "string"}, "The author's IP address (matched by keyed digest)."),
    _query("q", {"type": "string"}, "Text in the body (case-insensitive)."),
    _query("created_after", TIME, "Created at or after (ISO 8601)."),
    _query("created_before", TIME, "Created before (ISO 8601)."),
    _query("sort", {"enum": ["oldest", "newest"]}, "Oldest first (a queue) by default."),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Page size (50)."),
    _query("cursor", {"type": "string"}, "next_cursor of the previous page."),
    _REVEAL,
]
_WRITE_CONFLICTS = {
    "409": _problem_with("CommentConflict", "Lost a race with another moderator: current state."),
    "412": _problem_with("CommentConflict", "If-Match is not the current version: current state."),
}
_ETAG = {"ETag": {"schema": {"type": "string"}, "description": "The comment's version."}}


def _comment_ok(description: str) -> dict[str, Any]:
    return {**json_content("ModerationComment", description), "headers": _ETAG}


_PREFIX = "/api/v1/moderation"

PATHS: dict[str, Any] = {
    f"{_PREFIX}/sites": {
        "get": _op("The token's sites", {"200": json_content("ModeratorSites", "Sites.")})
    },
    f"{_PREFIX}/comments": {
        "get": _op(
            "The moderation queue",
            {
                "200": json_content("ModerationQueue", "A page, with counts per status."),
                "422": problem_response("A bad filter, sort, limit or cursor."),
            },
            parameters=_QUEUE_PARAMS,
        )
    },
    f"{_PREFIX}/comments/{{comment_id}}": {
        "get": _op(
            "One comment with its history",
            {
                "200": {
                    **json_content("ModerationCommentDetail", "The comment."),
                    "headers": _ETAG,
                },
                "422": problem_response("reveal is not true or false."),
            },
            parameters=[_COMMENT, _REVEAL],
        ),
        "patch": _op(
            "Edit the body (original kept in the history) and/or feature the comment",
            {"200": _comment_ok("The comment now."), **_WRITE_CONFLICTS},
            parameters=[_COMMENT, _IF_MATCH],
            requestBody=_body("CommentPatch"),
        ),
    },
    f"{_PREFIX}/comments/{{comment_id}}/decision": {
        "post": _op(
            "Approve, reject, mark spam or ham, or delete a comment",
            {"200": _comment_ok("The comment now."), **_WRITE_CONFLICTS},
            parameters=[_COMMENT, _IF_MATCH],
            requestBody=_body("Decision"),
        )
    },
    f"{_PREFIX}/comments/decisions": {
        "post": _op(
            "One decision on up to 500 comments, all or none",
            {
                "200": json_content("BulkResult", "All applied; per-id results."),
                "409": _problem_with("BulkRefused", "Nothing applied; per-id results."),
            },
            requestBody=_body("BulkDecision"),
        )
    },
    f"{_PREFIX}/sites/{{site}}/articles/{{article}}": {
        "get": _op(
            "An article's moderation state",
            {"200": json_content("ModerationArticle", "The article.")},
            parameters=[_SITE, _ARTICLE],
        ),
        "patch": _op(
            "Lock or unlock an article",
            {"200": json_content("ModerationArticle", "The article now.")},
            parameters=[_SITE, _ARTICLE],
            requestBody=_body("ArticlePatch"),
        ),
    },
    f"{_PREFIX}/sites/{{site}}/blocks": {
        "get": _op(
            "A site's blocks",
            {
                "200": json_content("BlockList", "Live blocks, newest first."),
                "422": problem_response("expired is not true or false."),
            },
            parameters=[_SITE, _query("expired", {"type": "boolean"}, "Include expired.")],
        ),
        "post": _op(
            "Block an email, domain, address or network, or a phrase",
            {"201": json_content("Block", "The block; it applies to the next submission.")},
            parameters=[_SITE],
            requestBody=_body("BlockRequest"),
        ),
    },
    f"{_PREFIX}/sites/{{site}}/blocks/{{block_id}}": {
        "delete": _op(
            "Lift a block",
            {"204": {"description": "Lifted."}},
            parameters=[_SITE, _path("block_id", kind="integer")],
        )
    },
    f"{_PREFIX}/tokens": {
        "get": _op(
            "Tokens for the admin's sites",
            {"200": json_content("TokenList", "Tokens, never their secrets.")},
            admin=True,
        ),
        "post": _op(
            "Issue a token",
            {"201": json_content("ApiToken", "The token, with its secret shown once.")},
            admin=True,
            requestBody=_body("TokenRequest"),
        ),
    },
    f"{_PREFIX}/tokens/{{token_id}}": {
        "delete": _op(
            "Revoke a token",
            {"200": json_content("ApiToken", "The revoked token.")},
            admin=True,
            parameters=[_path("token_id", kind="integer")],
        )
    },
    f"{_PREFIX}/sites/{{site}}/settings": {
        "get": _op(
            "A site's settings",
            {"200": json_content("SiteSettings", "Mode and settings.")},
            admin=True,
            parameters=[_SITE],
        ),
        "patch": _op(
            "Change a site's settings",
            {"200": json_content("SiteSettings", "Mode and settings now.")},
            admin=True,
            parameters=[_SITE],
            requestBody=_body("SettingsChange"),
        ),
    },
    f"{_PREFIX}/audit": {
        "get": _op(
            "The audit log",
            {
                "200": json_content("AuditPage", "Newest first."),
                "422": problem_response("A bad filter."),
            },
            admin=True,
            parameters=[
                _query("site", {"type": "string"}, "Only this site."),
                _query("action", {"enum": [a.value for a in Action]}, "Only this action."),
                _query("token_id", {"type": "integer"}, "Only this token's actions."),
                _query("comment_id", {"type": "integer"}, "Only about this comment."),
                _query("after", TIME, "At or after."),
                _query("before", TIME, "Before."),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Page size."),
                _query("cursor", {"type": "string"}, "next_cursor of the previous page."),
            ],
        )
    },
    f"{_PREFIX}/sites/{{site}}/privacy/export": {
        "post": _op(
            "Export an author's data (GDPR art. 15)",
            {"200": json_content("SubjectExport", "Every comment of the email, with its data.")},
            admin=True,
            parameters=[_SITE],
            requestBody=_body("SubjectRequest"),
        )
    },
    f"{_PREFIX}/sites/{{site}}/privacy/erase": {
        "post": _op(
            "Erase an author's data (GDPR art. 17)",
            {"200": json_content("Erasure", "What was erased.")},
            admin=True,
            parameters=[_SITE],
            requestBody=_body("SubjectRequest"),
        )
    },
}
