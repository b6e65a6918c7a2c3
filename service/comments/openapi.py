"""OpenAPI paths and schemas of the public comments API."""

from typing import Any

from service.meta.openapi import json_content, problem_response

_SITE = {"name": "site", "in": "path", "required": True, "schema": {"type": "string"}}
_ARTICLE = {
    "name": "article",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The host's key for the article; created on the first comment.",
}

SUBMISSION = {
    "type": "object",
    "required": ["name", "email", "body"],
    "properties": {
        "name": {"type": "string", "maxLength": 100},
        "email": {"type": "string", "format": "email", "description": "Never published."},
        "website": {"type": "string", "format": "uri"},
        "body": {
            "type": "string",
            "maxLength": 10000,
            "description": "Plain text with a small Markdown subset.",
        },
        "parent_id": {"type": "integer", "description": "The approved comment replied to."},
        "article_url": {"type": "string", "format": "uri"},
        "article_title": {"type": "string", "maxLength": 500},
        "honeypot": {"type": "string", "description": "Must stay empty (hidden field)."},
        "elapsed_ms": {"type": "integer", "description": "Time from showing the form to sending."},
    },
}

COMMENT = {
    "type": "object",
    "required": [
        "id",
        "parent_id",
        "author",
        "body_html",
        "created_at",
        "edited",
        "featured",
        "replies",
    ],
    "properties": {
        "id": {"type": "integer"},
        "parent_id": {"type": ["integer", "null"]},
        "author": {
            "type": ["object", "null"],
            "description": "null on a removed comment's placeholder.",
            "required": ["name", "website", "avatar"],
            "properties": {
                "name": {"type": "string"},
                "website": {"type": ["string", "null"]},
                "avatar": {
                    "type": "string",
                    "pattern": "^[0-9a-f]{32}$",
                    "description": "Identicon seed: a keyed HMAC, not a hash of the email.",
                },
            },
        },
        "body_html": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "edited": {"type": "boolean"},
        "featured": {"type": "boolean"},
        "removed": {
            "type": "boolean",
            "const": True,
            "description": (
                "Only on a placeholder: the comment is no longer public, but replies to it are,"
                " so it keeps its place with no author and no text."
            ),
        },
        "status": {
            "type": "string",
            "enum": ["pending", "approved", "rejected", "deleted"],
            "description": "Only in the author's view; a comment marked spam shows as pending.",
        },
        "replies": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
    },
}

SCHEMAS: dict[str, Any] = {
    "Submission": SUBMISSION,
    "Comment": COMMENT,
    "Accepted": {
        "type": "object",
        "required": ["id", "status", "author_token", "comment"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending"]},
            "author_token": {
                "type": "string",
                "description": "Send as Vetted-Author-Token to see the comment "
                "while it awaits moderation.",
            },
            "comment": {"$ref": "#/components/schemas/Comment"},
        },
    },
    "Thread": {
        "type": "object",
        "required": ["article", "comments", "next_cursor"],
        "properties": {
            "article": {
                "type": "object",
                "required": ["key", "title", "url", "comment_count", "closed"],
                "properties": {
                    "key": {"type": "string"},
                    "title": {"type": ["string", "null"]},
                    "url": {"type": ["string", "null"]},
                    "comment_count": {"type": "integer"},
                    "closed": {"type": "boolean"},
                },
            },
            "comments": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/sites/{site}/articles/{article}/comments": {
        "post": {
            "summary": "Submit a comment",
            "parameters": [_SITE, _ARTICLE],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Submission"}},
                    "application/x-www-form-urlencoded": {
                        "schema": {"$ref": "#/components/schemas/Submission"}
                    },
                },
            },
            "responses": {
                "202": json_content("Accepted", "Stored; the spam check is queued."),
                "403": problem_response("Comments are closed, or the origin is not allowed."),
                "404": problem_response("Unknown site."),
                "413": problem_response("Request over 64 KiB."),
                "415": problem_response("Not JSON or a form."),
                "422": problem_response("Invalid fields, one error each."),
                "429": problem_response("Too many submissions; see Retry-After."),
            },
        },
        "get": {
            "summary": "Read an article's approved thread",
            "parameters": [
                _SITE,
                _ARTICLE,
                {"name": "sort", "in": "query", "schema": {"enum": ["oldest", "newest"]}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": json_content("Thread", "A page of top-level comments with replies."),
                "304": {"description": "Not modified since the ETag given."},
                "404": problem_response("Unknown site."),
                "422": problem_response("Bad sort, limit or cursor."),
            },
        },
    },
    "/api/v1/sites/{site}/comments/{comment_id}": {
        "get": {
            "summary": "One comment; its author sees it while pending",
            "parameters": [
                _SITE,
                {
                    "name": "comment_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
                {"name": "Vetted-Author-Token", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": json_content("Comment", "The comment, with its status."),
                "404": problem_response("No such comment, or not visible to you."),
            },
        }
    },
}
