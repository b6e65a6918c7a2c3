"""The review API for moderators: the queue, decisions, edits, features, locks and blocks.

Every route needs a bearer token (see auth.py); admin-only routes live in admin_views.py,
nested in this blueprint. Views parse, call the services, commit, and answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.comments.models import Comment
from service.comments.services import check_submissions_with
from service.errors import Conflict, Invalid, NotFound, PreconditionFailed
from service.extensions import db, vault
from service.moderation import services
from service.moderation.admin_views import bp as admin_bp
from service.moderation.audit import record, record_reveals
from service.moderation.auth import principal, principal_site, principal_sites, require_token
from service.moderation.blocks import create_block, list_blocks, refuse_blocked, remove_block
from service.moderation.forms import (
    parse_block,
    parse_bulk,
    parse_decision,
    parse_patch,
    parse_queue_args,
    query_flag,
)
from service.moderation.models import Action
from service.moderation.presenters import (
    PRIVATE_FIELDS,
    block_view,
    change_view,
    moderator_article,
    moderator_comment,
    private_fields,
)
from service.moderation.queue import QueueFilter, comment_changes, load_context, read_queue
from service.sites.models import Site
from service.sites.services import find_article
from service.web import json_response, request_fields, token_api_cors

bp = Blueprint("moderation", __name__, url_prefix="/api/v1/moderation")
bp.register_blueprint(admin_bp)
bp.after_request(token_api_cors)
# Blocks act on submissions from the moment the app has the moderation API.
bp.record_once(lambda _state: check_submissions_with(refuse_blocked))


@bp.get("/sites")
@require_token()
def sites() -> Response:
    """The caller's sites, with their moderation mode."""
    own = principal_sites(db())
    body = [{"slug": s.slug, "name": s.name, "moderation": s.moderation.value} for s in own]
    return json_response({"sites": body, "role": principal().role.value})


@bp.get("/comments")
@require_token()
def queue() -> Response:
    """The queue: comments by filter, oldest first, with counts per status."""
    session = db()
    config = current_app.config
    args = parse_queue_args(
        request.args, config["MODERATION_PAGE_SIZE"], config["MODERATION_PAGE_SIZE_MAX"]
    )
    own = _own_sites(session)
    site_ids = tuple(own) if args.site is None else (principal_site(session, args.site).id,)
    keys = vault()
    query = QueueFilter(
        site_ids=site_ids,
        status=args.status,
        article_key=args.article,
        verdict=args.verdict,
        email_digest=keys.email_digest(args.author) if args.author else None,
        ip_digest=keys.address_digest(args.ip) if args.ip else None,
        text=args.text,
        created_after=args.created_after,
        created_before=args.created_before,
    )
    cap = int(config["MODERATION_COUNT_CAP"])
    page = read_queue(session, query, args.sort, args.limit, args.cursor, cap)
    if args.author or args.ip:
        searched = [name for name, v in (("author", args.author), ("ip", args.ip)) if v]
        for site_id in site_ids:
            record(
                session,
                principal().actor,
                Action.SEARCH_PRIVATE,
                site_id=site_id,
                detail={"by": searched},
            )
    items = _present(session, page.comments, args.reveal)
    session.commit()
    body = {
        "comments": items,
        "next_cursor": page.next_cursor,
        "counts": page.counts,
        "counts_capped_at": cap,
    }
    return json_response(body)


@bp.get("/comments/<int:comment_id>")
@require_token()
def comment_detail(comment_id: int) -> Response:
    """One comment with its context and its decision history; ETag is its version."""
    session = db()
    comment = _own_comment(session, comment_id)
    view = _present(session, [comment], query_flag(request.args, "reveal"))[0]
    view["history"] = [change_view(c) for c in comment_changes(session, comment)]
    session.commit()
    return json_response(view, headers={"ETag": _etag(comment)})


@bp.post("/comments/<int:comment_id>/decision")
@require_token()
def decide(comment_id: int) -> Response:
    """Approves, rejects, marks spam or ham, or deletes one comment (If-Match: its ETag)."""
    session = db()
    action, reason = parse_decision(request_fields())
    comment = _own_comment(session, comment_id)
    _check_if_match(session, comment)
    site = session.get_one(Site, comment.site_id)
    with _first_writer_wins(session, comment):
        services.decide(session, site, comment, action, principal().actor, reason)
        session.commit()
    return _comment_response(session, comment)


@bp.patch("/comments/<int:comment_id>")
@require_token()
def patch_comment(comment_id: int) -> Response:
    """Edits a comment's body (the original kept) and/or features it (If-Match: its ETag)."""
    session = db()
    patch = parse_patch(request_fields())
    comment = _own_comment(session, comment_id)
    _check_if_match(session, comment)
    site = session.get_one(Site, comment.site_id)
    actor = principal().actor
    with _first_writer_wins(session, comment):
        if patch.body is not None:
            services.edit_body(session, site, comment, patch.body, actor, patch.reason)
        if patch.featured is not None:
            services.set_featured(session, site, comment, patch.featured, actor, patch.reason)
        session.commit()
    return _comment_response(session, comment)


@bp.post("/comments/decisions")
@require_token()
def decide_in_bulk() -> Response:
    """One decision on up to MODERATION_BULK_MAX comments, in one transaction: all or none."""
    session = db()
    action, items, reason = parse_bulk(request_fields(), current_app.config["MODERATION_BULK_MAX"])
    own = _own_sites(session)
    try:
        outcomes = services.decide_many(session, own, items, action, principal().actor, reason)
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise services.BulkRefused(
            "Another moderator changed some of these comments at the same moment; "
            "nothing was applied.",
            [{"id": item.id, "outcome": "retry"} for item in items],
        ) from exc
    results = [
        {
            "id": c.id,
            "outcome": "changed" if changed else "unchanged",
            "status": c.status.value,
            "version": c.version,
        }
        for c, changed in outcomes
    ]
    applied = sum(1 for _, changed in outcomes if changed)
    return json_response({"action": action.value, "applied": applied, "results": results})


@bp.get("/sites/<site>/articles/<path:article>")
@require_token()
def article_state(site: str, article: str) -> Response:
    """An article's moderation state: locked, closed, approved count."""
    session = db()
    target = principal_site(session, site)
    found = find_article(session, target, article)
    if found is None:
        raise NotFound("There is no such article.")
    return json_response(moderator_article(target, found))


@bp.patch("/sites/<site>/articles/<path:article>")
@require_token()
def lock_article(site: str, article: str) -> Response:
    """Locks an article (no new comments) or unlocks it."""
    session = db()
    target = principal_site(session, site)
    locked = request_fields().get("locked")
    if not isinstance(locked, bool):
        raise Invalid.field("locked", "Use true or false.")
    found = services.set_locked(session, target, article, locked, principal().actor)
    session.commit()
    return json_response(moderator_article(target, found))


@bp.get("/sites/<site>/blocks")
@require_token()
def blocks(site: str) -> Response:
    """A site's live blocks (``?expired=true`` adds the expired ones)."""
    session = db()
    target = principal_site(session, site)
    found = list_blocks(session, target, include_expired=query_flag(request.args, "expired"))
    return json_response({"blocks": [block_view(b, target) for b in found]})


@bp.post("/sites/<site>/blocks")
@require_token()
def add_block(site: str) -> Response:
    """Blocks an email (hashed), a domain, an address or network, or a phrase; 201."""
    session = db()
    target = principal_site(session, site)
    spec = parse_block(request_fields())
    block = create_block(session, vault(), target, spec, principal().actor)
    session.commit()
    return json_response(block_view(block, target), 201)


@bp.delete("/sites/<site>/blocks/<int:block_id>")
@require_token()
def delete_block(site: str, block_id: int) -> Response:
    """Lifts a block."""
    session = db()
    target = principal_site(session, site)
    remove_block(session, target, block_id, principal().actor)
    session.commit()
    return Response(status=204)


def _own_sites(session: Session) -> dict[int, Site]:
    return {s.id: s for s in principal_sites(session)}


def _own_comment(session: Session, comment_id: int) -> Comment:
    """A comment on one of the caller's sites; another site's is as unknown as a missing one."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.site_id not in _own_sites(session):
        raise NotFound("There is no such comment.")
    return comment


def _present(session: Session, comments: list[Comment], reveal: bool) -> list[dict[str, Any]]:
    """Moderator views; with ``reveal``, private fields too, each reveal written to the audit."""
    ctx = load_context(session, comments)
    if not reveal:
        return [moderator_comment(c, ctx) for c in comments]
    keys = vault()
    record_reveals(
        session, principal().actor, [(c.site_id, c.id) for c in comments], PRIVATE_FIELDS
    )
    return [moderator_comment(c, ctx, private_fields(keys, c)) for c in comments]


def _etag(comment: Comment) -> str:
    return f'"{comment.version}"'


def _current(session: Session, comment: Comment) -> dict[str, Any]:
    return moderator_comment(comment, load_context(session, [comment]))


def _check_if_match(session: Session, comment: Comment) -> None:
    """412 with the current state when the moderator saw an older version."""
    expected = request.if_match
    if expected and not expected.contains_weak(str(comment.version)):
        raise PreconditionFailed(
            "Someone changed this comment since you loaded it; here it is now.",
            current=_current(session, comment),
        )


@contextmanager
def _first_writer_wins(session: Session, comment: Comment) -> Iterator[None]:
    """A write that lost a race with another moderator's becomes a 409 with the winner's state."""
    try:
        yield
    except StaleDataError as exc:
        session.rollback()
        session.refresh(comment)
        raise Conflict(
            "Another moderator changed this comment at the same moment; yours was not applied.",
            current=_current(session, comment),
        ) from exc


def _comment_response(session: Session, comment: Comment) -> Response:
    return json_response(_current(session, comment), headers={"ETag": _etag(comment)})
