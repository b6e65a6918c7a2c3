"""OpenAPI paths and schemas of the webhook admin API, and of the payload Vetted sends."""

from typing import Any

from service.meta.openapi import json_content, problem_response
from service.webhooks.forms import MAX_GRACE_SECONDS, SUBSCRIBABLE

_SITE = {"name": "site", "in": "path", "required": True, "schema": {"type": "string"}}
_ENDPOINT = {"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_DELIVERY = {"name": "delivery_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
_EVENTS = {"type": "array", "items": {"enum": [e.value for e in SUBSCRIBABLE]}, "minItems": 1}
_TIME = {"type": ["string", "null"], "format": "date-time"}

_AUTH_ERRORS = {
    "401": problem_response("No valid API token."),
    "403": problem_response("The token is not an admin token."),
    "404": problem_response("No such site (or not the token's), endpoint or delivery."),
}

ENDPOINT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "site", "url", "events", "secret", "enabled", "disabled_reason"],
    "properties": {
        "id": {"type": "integer"},
        "site": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "events": _EVENTS,
        "description": {"type": ["string", "null"]},
        "secret": {
            "type": "string",
            "description": "The whole whsec_ secret right after creation or rotation; "
            "afterwards only a masked form.",
        },
        "previous_secret_expires_at": {
            **_TIME,
            "description": "During a rotation, when the old secret stops signing.",
        },
        "enabled": {"type": "boolean"},
        "disabled_reason": {"enum": ["gone", "failing", "manual", None]},
        "disabled_detail": {"type": ["string", "null"]},
        "disabled_at": _TIME,
        "failing_since": _TIME,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

ATTEMPT: dict[str, Any] = {
    "type": "object",
    "required": ["number", "at", "status_code", "duration_ms", "response", "error"],
    "properties": {
        "number": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "webhook_timestamp": {"type": "integer"},
        "status_code": {"type": ["integer", "null"], "description": "null: no response."},
        "duration_ms": {"type": "integer"},
        "response": {"type": "string", "description": "The start of the response body."},
        "error": {"type": ["string", "null"]},
        "next_attempt_at": _TIME,
    },
}

DELIVERY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "message_id", "event", "state", "attempts", "next_attempt_at", "payload"],
    "properties": {
        "id": {"type": "integer"},
        "message_id": {"type": "string", "description": "The webhook-id header."},
        "event": {"type": "string"},
        "state": {"enum": ["pending", "delivered", "failed"]},
        "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookAttempt"}},
        "next_attempt_at": _TIME,
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": _TIME,
        "redelivery_of": {"type": ["integer", "null"]},
        "payload": {"$ref": "#/components/schemas/WebhookPayload"},
    },
}

PAYLOAD: dict[str, Any] = {
    "type": "object",
    "description": "The JSON body of every webhook. Never holds an email or an IP address.",
    "required": ["id", "type", "timestamp", "data"],
    "properties": {
        "id": {"type": "string", "description": "msg_...; equal to the webhook-id header."},
        "type": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "data": {
            "type": "object",
            "required": ["site"],
            "properties": {
                "site": {"type": "object"},
                "article": {
                    "type": "object",
                    "required": ["id", "key", "url", "title", "comment_count"],
                    "properties": {
                        "id": {"type": "integer"},
                        "key": {"type": "string"},
                        "url": {"type": ["string", "null"]},
                        "title": {"type": ["string", "null"]},
                        "comment_count": {"type": "integer", "description": "Approved."},
                    },
                },
                "comment": {"$ref": "#/components/schemas/Comment"},
                "endpoint": {"type": "object", "description": "Only in ping events."},
            },
        },
    },
}

SCHEMAS: dict[str, Any] = {
    "WebhookEndpoint": ENDPOINT,
    "WebhookAttempt": ATTEMPT,
    "WebhookDelivery": DELIVERY,
    "WebhookPayload": PAYLOAD,
    "WebhookEndpointList": {
        "type": "object",
        "required": ["webhooks"],
        "properties": {
            "webhooks": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookEndpoint"}}
        },
    },
    "WebhookDeliveryLog": {
        "type": "object",
        "required": ["deliveries", "next_before"],
        "properties": {
            "deliveries": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/WebhookDelivery"},
            },
            "next_before": {"type": ["integer", "null"]},
        },
    },
}


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": bool(required), "content": {"application/json": {"schema": schema}}}


_WRITE_FIELDS = {
    "url": {"type": "string", "format": "uri"},
    "events": _EVENTS,
    "description": {"type": ["string", "null"], "maxLength": 500},
}

PATHS: dict[str, Any] = {
    "/api/v1/sites/{site}/webhooks": {
        "post": {
            "summary": "Register a webhook endpoint (the secret is shown once)",
            "security": _SECURITY,
            "parameters": [_SITE],
            "requestBody": _json_body(_WRITE_FIELDS, ["url", "events"]),
            "responses": {
                "201": json_content("WebhookEndpoint", "Registered; secret in full."),
                "422": problem_response("Bad fields, or a URL Vetted will not call."),
                **_AUTH_ERRORS,
            },
        },
        "get": {
            "summary": "List a site's webhook endpoints",
            "security": _SECURITY,
            "parameters": [_SITE],
            "responses": {"200": json_content("WebhookEndpointList", "Endpoints."), **_AUTH_ERRORS},
        },
    },
    "/api/v1/sites/{site}/webhooks/{endpoint_id}": {
        "get": {
            "summary": "One webhook endpoint",
            "security": _SECURITY,
            "parameters": [_SITE, _ENDPOINT],
            "responses": {"200": json_content("WebhookEndpoint", "The endpoint."), **_AUTH_ERRORS},
        },
        "patch": {
            "summary": "Change, enable or disable an endpoint",
            "security": _SECURITY,
            "parameters": [_SITE, _ENDPOINT],
            "requestBody": _json_body({**_WRITE_FIELDS, "enabled": {"type": "boolean"}}, []),
            "responses": {
                "200": json_content("WebhookEndpoint", "The changed endpoint."),
                "422": problem_response("Bad fields, or a URL Vetted will not call."),
                **_AUTH_ERRORS,
            },
        },
        "delete": {
            "summary": "Delete an endpoint and its delivery log",
            "security": _SECURITY,
            "parameters": [_SITE, _ENDPOINT],
            "responses": {"204": {"description": "Deleted."}, **_AUTH_ERRORS},
        },
    },
    "/api/v1/sites/{site}/webhooks/{endpoint_id}/rotate-secret": {
        "post": {
            "summary": "Replace the signing secret; the old one signs too for grace_seconds",
            "security": _SECURITY,
            "parameters": [_SITE, _ENDPOINT],
            "requestBody": _json_body(
                {"grace_seconds": {"type": "number", "minimum": 0, "maximum": MAX_GRACE_SECONDS}},
                [],
            ),
            "responses": {
                "200": json_content("WebhookEndpoint", "The endpoint; new secret in full."),
                "422": problem_response("Bad grace_seconds."),
                **_AUTH_ERRORS,
            },
        },
    },
    "/api/v1/sites/{site}/webhooks/{endpoint_id}/ping": {
        "post": {
            "summary": "Send a ping event to the endpoint",
            "security": _SECURITY,
            "parameters": [_SITE, _ENDPOINT],
            "responses": {
                "202": json_content("WebhookDelivery", "Queued."),
                "409": problem_response("The endpoint is disabled."),
                **_AUTH_ERRORS,
            },
        },
    },
    "/api/v1/sites/{site}/webhooks/{endpoint_id}/deliveries": {
        "get": {
            "summary": "The delivery log, newest first, with every attempt",
            "security": _SECURITY,
            "parameters": [
                _SITE,
                _ENDPOINT,
                {
                    "name": "state",
                    "in": "query",
                    "schema": {"enum": ["pending", "delivered", "failed"]},
                },
                {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                {"name": "before", "in": "query", "schema": {"type": "integer"}},
            ],
            "responses": {
                "200": json_content("WebhookDeliveryLog", "A page of the log."),
                "422": problem_response("Bad state, limit or before."),
                **_AUTH_ERRORS,
            },
        },
    },
    "/api/v1/sites/{site}/webhooks/{endpoint_id}/deliveries/{delivery_id}": {
        "get": {
            "summary": "One delivery with its attempts",
            "security": _SECURITY,
            "parameters": [_SITE, _ENDPOINT, _DELIVERY],
            "responses": {"200": json_content("WebhookDelivery", "The delivery."), **_AUTH_ERRORS},
        },
    },
    "/api/v1/sites/{site}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver": {
        "post": {
            "summary": "Send the delivery's event again (same webhook-id)",
            "security": _SECURITY,
            "parameters": [_SITE, _ENDPOINT, _DELIVERY],
            "responses": {
                "202": json_content("WebhookDelivery", "The new delivery, queued."),
                "409": problem_response("The endpoint is disabled."),
                **_AUTH_ERRORS,
            },
        },
    },
}
