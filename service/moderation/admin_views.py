"""Admin-only routes of the review API: tokens, site settings, the audit log, and GDPR requests.

Nested in the moderation blueprint (same /api/v1/moderation prefix); every route needs an
admin token, and a moderator's gets 403.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session

from service.db import MAX_ID
from service.errors import FieldErrors, Invalid
from service.extensions import db, vault
from service.moderation.admin import issue_token, tokens_for, update_settings, withdraw_token
from service.moderation.audit import AuditFilter, read_audit
from service.moderation.auth import principal, principal_site, principal_sites, require_token
from service.moderation.dsr import erase_subject, export_subject
from service.moderation.forms import parse_subject, parse_token_request, timestamp
from service.moderation.models import Action, Role
from service.moderation.presenters import audit_view, site_settings_view, token_view
from service.moderation.settings import parse_settings
from service.sites.models import Site
from service.spam.hooks import RETRAIN_SITE_MODEL
from service.tasks import enqueue
from service.web import json_response, request_fields

bp = Blueprint("admin", __name__)


def _own_by_slug(session: Session) -> dict[str, Site]:
    return {s.slug: s for s in principal_sites(session)}


@bp.get("/tokens")
@require_token(Role.ADMIN)
def tokens() -> Response:
    """Tokens for the admin's sites (never their secrets), newest first."""
    found = tokens_for(db(), _own_by_slug(db()))
    return json_response({"tokens": [token_view(t) for t in found]})


@bp.post("/tokens")
@require_token(Role.ADMIN)
def create_token() -> Response:
    """Issues a token for some of the admin's sites; its secret is in this response only."""
    session = db()
    wanted = parse_token_request(request_fields())
    issued = issue_token(
        session,
        _own_by_slug(session),
        wanted.sites,
        wanted.role,
        principal().actor,
        wanted.label,
        wanted.expires_at,
    )
    session.commit()
    body = {**token_view(issued.token), "secret": issued.secret}
    return json_response(body, 201)


@bp.delete("/tokens/<int:token_id>")
@require_token(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    """Revokes a token at once; its next request gets 401."""
    session = db()
    token = withdraw_token(session, _own_by_slug(session), token_id, principal().actor)
    session.commit()
    return json_response(token_view(token))


@bp.get("/sites/<site>/settings")
@require_token(Role.ADMIN)
def settings(site: str) -> Response:
    """A site's moderation mode and settings, defaults filled in."""
    return json_response(site_settings_view(principal_site(db(), site)))


@bp.patch("/sites/<site>/settings")
@require_token(Role.ADMIN)
def change_settings(site: str) -> Response:
    """Changes some of a site's settings; 422 lists every field that is wrong."""
    session = db()
    target = principal_site(session, site)
    change = parse_settings(request_fields())
    update_settings(session, target, change.moderation, change.values, principal().actor)
    session.commit()
    return json_response(site_settings_view(target))


@bp.get("/audit")
@require_token(Role.ADMIN)
def audit() -> Response:
    """The audit log of the admin's sites, newest first, filterable, one page at a time."""
    session = db()
    own = _own_by_slug(session)
    args = request.args
    site_ids = (
        tuple(s.id for s in own.values())
        if not args.get("site")
        else (principal_site(session, args["site"]).id,)
    )
    most = int(current_app.config["MODERATION_PAGE_SIZE_MAX"])
    errors = FieldErrors()
    filters = _audit_filters(errors)
    limit = errors.check(
        lambda: _int_arg("limit", 1, most, default=int(current_app.config["MODERATION_PAGE_SIZE"]))
    )
    errors.raise_if_any("Some parameters need your attention.")
    assert limit is not None  # raise_if_any would have refused
    query = AuditFilter(site_ids=site_ids, **filters)
    entries = read_audit(session, query, limit + 1)
    next_cursor = str(entries[limit - 1].id) if len(entries) > limit else None
    slugs = {s.id: s.slug for s in own.values()}
    body = {"entries": [audit_view(e, slugs) for e in entries[:limit]], "next_cursor": next_cursor}
    return json_response(body)


def _audit_filters(errors: FieldErrors) -> dict[str, Any]:
    args = request.args
    found: dict[str, Any] = {}
    if args.get("action"):
        try:
            found["action"] = Action(args["action"])
        except ValueError:
            errors.add("action", "There is no such action.")
    for name, key in (
        ("token_id", "token_id"),
        ("comment_id", "comment_id"),
        ("cursor", "below_id"),
    ):
        if args.get(name):
            if not args[name].isdigit() or int(args[name]) > MAX_ID:
                errors.add(name, f"Use a whole number up to {MAX_ID}.")
            else:
                found[key] = int(args[name])
    for name in ("after", "before"):
        if args.get(name):
            try:
                found[name] = timestamp(args[name])
            except ValueError as exc:
                errors.add(name, str(exc))
    return found


def _int_arg(name: str, low: int, high: int, default: int) -> int:
    raw = request.args.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Invalid.field(name, f"Use a whole number from {low} to {high}.")
    return int(raw)


@bp.post("/sites/<site>/privacy/export")
@require_token(Role.ADMIN)
def export(site: str) -> Response:
    """Every comment of an email address on the site, with its private data (GDPR art. 15)."""
    session = db()
    target = principal_site(session, site)
    email, _ = parse_subject(request_fields())
    document = export_subject(session, vault(), target, email, principal().actor)
    session.commit()
    disposition = f'attachment; filename="vetted-export-{target.slug}.json"'
    return Response(
        orjson.dumps(document),
        mimetype="application/json",
        headers={"Content-Disposition": disposition},
    )


@bp.post("/sites/<site>/privacy/erase")
@require_token(Role.ADMIN)
def erase(site: str) -> Response:
    """Erases an email address's data from the site (GDPR art. 17)."""
    session = db()
    target = principal_site(session, site)
    email, mode = parse_subject(request_fields())
    done = erase_subject(session, vault(), target, email, principal().actor, mode)
    session.commit()
    if done.feedback_touched:
        enqueue(RETRAIN_SITE_MODEL, target.id)
    return json_response(
        {
            "comments": done.comments,
            "mode": done.mode.value,
            "blocks_removed": done.blocks_removed,
            "feedback_removed": done.feedback_removed,
        }
    )
