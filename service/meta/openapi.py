"""The OpenAPI 3.1 document, assembled from each domain's own ``openapi`` fragment."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "detail"],
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}


def problem_response(description: str) -> dict[str, Any]:
    """A documented problem-details response."""
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def json_content(schema_ref: str, description: str) -> dict[str, Any]:
    """A documented JSON response with a schema from components."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


META_PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "summary": "Health check",
            "responses": {
                "200": {
                    "description": "The service and its database answer.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


@cache
def _document() -> dict[str, Any]:
    from service.comments import openapi as comments
    from service.moderation import openapi as moderation
    from service.webhooks import openapi as webhooks
    from service.widget import openapi as widget

    fragments = [comments, widget, webhooks, moderation]
    paths: dict[str, Any] = dict(META_PATHS)
    schemas: dict[str, Any] = {"Problem": PROBLEM}
    for fragment in fragments:
        paths.update(fragment.PATHS)
        schemas.update(getattr(fragment, "SCHEMAS", {}))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vetted",
            "version": "1.0.0",
            "description": "Comment submission, spam checks, moderation and public threads.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_document() -> dict[str, Any]:
    """The whole document (a copy: callers may not change the cached one)."""
    return copy.deepcopy(_document())
