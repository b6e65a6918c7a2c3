"""Health check and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import text

from service.extensions import db
from service.meta.openapi import openapi_document
from service.web import json_response

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def health() -> Response:
    """200 when the database answers."""
    db().execute(text("SELECT 1"))
    return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of every public route."""
    return json_response(openapi_document(), headers={"Cache-Control": "public, max-age=300"})
