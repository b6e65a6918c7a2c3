"""OpenAPI paths of the widget and demo page."""

from typing import Any

_JS = {"text/javascript": {"schema": {"type": "string"}}}

PATHS: dict[str, Any] = {
    "/": {
        "get": {
            "summary": "Demo article page with the widget",
            "responses": {
                "200": {
                    "description": "HTML",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/widget.js": {
        "get": {
            "summary": "The widget (short cache)",
            "responses": {"200": {"description": "JavaScript", "content": _JS}},
        }
    },
    "/widget.{version}.js": {
        "get": {
            "summary": "The widget under a versioned, immutable URL",
            "parameters": [
                {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {"description": "JavaScript", "content": _JS},
                "404": {
                    "description": "Unknown version",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
            },
        }
    },
    "/demo.css": {
        "get": {
            "summary": "Styles of the demo page",
            "responses": {
                "200": {
                    "description": "CSS",
                    "content": {"text/css": {"schema": {"type": "string"}}},
                }
            },
        }
    },
}
