"""The webhook admin API: a site's endpoints, their secrets, pings and delivery logs.

Every route needs an admin API token for the site (``Authorization: Bearer vt_...``); another
site's endpoints answer 404, as if they did not exist. Responses are never cached.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, request

from service.db import MAX_ID, utcnow
from service.errors import FieldErrors, Invalid
from service.extensions import db, vault
from service.moderation.auth import principal_site, require_token
from service.moderation.models import Role
from service.sites.models import Site
from service.web import json_response, request_fields, token_api_cors
from service.webhooks.delivery import redeliver, send_ping
from service.webhooks.forms import parse_endpoint_changes, parse_grace_seconds, parse_new_endpoint
from service.webhooks.log import delivery_log, logged_delivery
from service.webhooks.models import DeliveryState, Endpoint
from service.webhooks.options import WebhookOptions
from service.webhooks.presenters import delivery_view, endpoint_view
from service.webhooks.services import (
    create_endpoint,
    delete_endpoint,
    endpoint_on_site,
    list_endpoints,
    rotate_secret,
    update_endpoint,
)

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1/sites/<site>/webhooks")
bp.after_request(token_api_cors)

LOG_PAGE_SIZE = 50
LOG_PAGE_SIZE_MAX = 200


def _options() -> WebhookOptions:
    return WebhookOptions.from_config(current_app.config)


def _admin_site(slug: str) -> Site:
    """The site, which the caller's admin token (checked by @require_token) must cover."""
    return principal_site(db(), slug)


def _endpoint(site: str, endpoint_id: int) -> tuple[Site, Endpoint]:
    target = _admin_site(site)
    return target, endpoint_on_site(db(), target, endpoint_id)


def _location(site: Site, endpoint: Endpoint) -> str:
    return f"/api/v1/sites/{site.slug}/webhooks/{endpoint.id}"


@bp.post("")
@require_token(Role.ADMIN)
def create(site: str) -> Response:
    """Registers an endpoint; the response shows its signing secret, this once."""
    target = _admin_site(site)
    session = db()
    issued = create_endpoint(
        session, vault(), target, parse_new_endpoint(request_fields()), _options()
    )
    session.commit()
    body = {**endpoint_view(issued.endpoint, target.slug), "secret": issued.secret}
    return json_response(body, 201, {"Location": _location(target, issued.endpoint)})


@bp.get("")
@require_token(Role.ADMIN)
def index(site: str) -> Response:
    """The site's endpoints, secrets masked."""
    target = _admin_site(site)
    views = [endpoint_view(e, target.slug) for e in list_endpoints(db(), target)]
    return json_response({"webhooks": views})


@bp.get("/<int:endpoint_id>")
@require_token(Role.ADMIN)
def show(site: str, endpoint_id: int) -> Response:
    """One endpoint, with why it is disabled if it is."""
    target, endpoint = _endpoint(site, endpoint_id)
    return json_response(endpoint_view(endpoint, target.slug))


@bp.patch("/<int:endpoint_id>")
@require_token(Role.ADMIN)
def change(site: str, endpoint_id: int) -> Response:
    """Changes the URL, events or description, or enables or disables the endpoint."""
    target, endpoint = _endpoint(site, endpoint_id)
    session = db()
    update_endpoint(session, endpoint, parse_endpoint_changes(request_fields()), _options())
    session.commit()
    return json_response(endpoint_view(endpoint, target.slug))


@bp.delete("/<int:endpoint_id>")
@require_token(Role.ADMIN)
def remove(site: str, endpoint_id: int) -> Response:
    """Deletes the endpoint and its delivery log."""
    _, endpoint = _endpoint(site, endpoint_id)
    session = db()
    delete_endpoint(session, endpoint)
    session.commit()
    return Response(status=204)


@bp.post("/<int:endpoint_id>/rotate-secret")
@require_token(Role.ADMIN)
def rotate(site: str, endpoint_id: int) -> Response:
    """A new secret, shown once; the old one keeps signing beside it for ``grace_seconds``."""
    target, endpoint = _endpoint(site, endpoint_id)
    session = db()
    default = _options().secret_grace.total_seconds()
    grace = parse_grace_seconds(_optional_fields(), default)
    secret = rotate_secret(session, vault(), endpoint, dt.timedelta(seconds=grace), utcnow())
    session.commit()
    return json_response({**endpoint_view(endpoint, target.slug), "secret": secret})


@bp.post("/<int:endpoint_id>/ping")
@require_token(Role.ADMIN)
def ping(site: str, endpoint_id: int) -> Response:
    """Sends a ``ping`` event to the endpoint now; its delivery shows in the log."""
    target, endpoint = _endpoint(site, endpoint_id)
    session = db()
    delivery = send_ping(session, target, endpoint, utcnow())
    session.commit()
    entry = logged_delivery(session, endpoint, delivery.id)
    return json_response(delivery_view(entry), 202)


@bp.get("/<int:endpoint_id>/deliveries")
@require_token(Role.ADMIN)
def deliveries(site: str, endpoint_id: int) -> Response:
    """The delivery log, newest first: each delivery with its attempts."""
    _, endpoint = _endpoint(site, endpoint_id)
    limit, before, state = _log_params()
    page = delivery_log(db(), endpoint, limit, before, state)
    body = {
        "deliveries": [delivery_view(entry) for entry in page.entries],
        "next_before": page.next_before,
    }
    return json_response(body)


@bp.get("/<int:endpoint_id>/deliveries/<int:delivery_id>")
@require_token(Role.ADMIN)
def delivery(site: str, endpoint_id: int, delivery_id: int) -> Response:
    """One delivery with its attempts."""
    _, endpoint = _endpoint(site, endpoint_id)
    return json_response(delivery_view(logged_delivery(db(), endpoint, delivery_id)))


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver")
@require_token(Role.ADMIN)
def redeliver_one(site: str, endpoint_id: int, delivery_id: int) -> Response:
    """Sends the delivery's event again, with the same webhook-id, as a new delivery."""
    _, endpoint = _endpoint(site, endpoint_id)
    session = db()
    original = logged_delivery(session, endpoint, delivery_id).delivery
    again = redeliver(session, endpoint, original, utcnow())
    session.commit()
    return json_response(delivery_view(logged_delivery(session, endpoint, again.id)), 202)


def _optional_fields() -> dict[str, Any]:
    """The request body's fields, or none when the body is empty."""
    return request_fields() if request.content_length or request.mimetype else {}


def _log_params() -> tuple[int, int | None, DeliveryState | None]:
    args = request.args
    errors = FieldErrors()
    limit = errors.check(lambda: _log_limit(args.get("limit", str(LOG_PAGE_SIZE))))
    before = errors.check(lambda: _log_before(args["before"]) if args.get("before") else None)
    state = errors.check(lambda: _log_state(args["state"]) if args.get("state") else None)
    errors.raise_if_any("Some parameters need your attention.")
    assert limit is not None  # raise_if_any would have refused
    return limit, before, state


def _log_limit(value: str) -> int:
    limit = _whole_number("limit", value)
    if not 1 <= limit <= LOG_PAGE_SIZE_MAX:
        raise Invalid.field("limit", f"Use a whole number from 1 to {LOG_PAGE_SIZE_MAX}.")
    return limit


def _log_before(value: str) -> int:
    before = _whole_number("before", value)
    if not 0 < before <= MAX_ID:
        raise Invalid.field("before", f"Use a delivery id from 1 to {MAX_ID}.")
    return before


def _log_state(value: str) -> DeliveryState:
    try:
        return DeliveryState(value)
    except ValueError as exc:
        raise Invalid.field("state", "Use pending, delivered or failed.") from exc


def _whole_number(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise Invalid.field(name, "Use a whole number.") from exc
