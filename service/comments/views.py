"""The public comments API: submit a comment, read a thread, see one's own pending comment."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import select

from service.comments.authors import author_token, token_grants
from service.comments.cache import PageCache, RecentHeads
from service.comments.forms import parse_submission
from service.comments.models import Comment, Status
from service.comments.presenters import authors_view, public_article
from service.comments.services import Client, comment_on_site, submit_unless_resent
from service.comments.threads import Cursor, Sort, ThreadHead, read_thread, thread_head
from service.comments.translations import LANGUAGES, translated_problem
from service.errors import FieldErrors, ForeignOrigin, Invalid, NotFound, VettedError
from service.extensions import client_address, db, engine, limiter, vault
from service.sites.models import Article, Site
from service.sites.services import check_article_key, setting_of, site_by_slug
from service.tasks import CHECK_COMMENT, enqueue
from service.web import json_response, problem_response, request_fields, vetted_problem

bp = Blueprint("comments", __name__, url_prefix="/api/v1/sites/<site>")


def _submit_limit() -> str:
    return str(current_app.config["RATELIMIT_SUBMIT"])


def _new_comment_stored(response: Response) -> bool:
    """What uses up the allowance: a comment stored, not a refusal nor a resend of one."""
    return response.status_code == 202 and not g.get("resent", False)


def _submitter_key() -> str:
    # Per site and address: one busy site cannot use up a reader's allowance on another. The
    # address as its keyed digest: the limiter's store (Redis) keeps its keys for a day.
    address = vault().address_digest(client_address())
    return f"{(request.view_args or {}).get('site')}:{address}"


@bp.post("/articles/<path:article>/comments")
@limiter.limit(_submit_limit, key_func=_submitter_key, deduct_when=_new_comment_stored)
def submit(site: str, article: str) -> Response:
    """Takes a reader's comment; 202 with an author token, the spam check queued."""
    session = db()
    target = site_by_slug(session, site)
    g.site_settings = target.settings
    _refuse_foreign_writes(target)
    submission = parse_submission(
        request_fields(), current_app.config["EMAIL_CHECK_DELIVERABILITY"]
    )
    client = Client(
        address=client_address(),
        user_agent=request.headers.get("User-Agent"),
        referrer=request.headers.get("Referer"),
    )
    window = dt.timedelta(seconds=int(current_app.config["SUBMIT_RESEND_WINDOW"]))
    comment, stored = submit_unless_resent(
        session, vault(), target, article, submission, client, window
    )
    session.commit()
    if stored:
        enqueue(CHECK_COMMENT, comment.id)
    else:
        g.resent = True  # the first one used the allowance
    view = authors_view(comment)
    body = {
        "id": comment.id,
        "status": view["status"],  # as its author may see it: spam shows as pending
        "author_token": author_token(current_app.config["SECRET_KEY"], comment.id),
        "comment": view,
    }
    location = f"/api/v1/sites/{target.slug}/comments/{comment.id}"
    return json_response(body, 202, {"Location": location, "Cache-Control": "no-store"})


@bp.get("/articles/<path:article>/comments")
def thread(site: str, article: str) -> Response:
    """An article's approved comments, nested, one page of top-level comments at a time."""
    sort, limit, cursor = _thread_params()
    # The hot path: the thread's state (read lately or in one Core query), then a 304 or a
    # page this process already encoded.
    head = _current_head(site, article)
    g.site_settings = head.settings
    if head.article_id is None:
        check_article_key(article)  # the key a submission would be refused for, refused here
        return _empty_thread(article)
    depth = int(head.setting("thread_depth"))
    etag = _thread_etag(head, depth, request.query_string)
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=_thread_cache_headers(etag))
    cache: PageCache = current_app.extensions["vetted.thread_cache"]
    encoded = cache.get(etag)
    if encoded is None:
        encoded = _encoded_thread_page(head, sort, limit, cursor, depth)
        cache.put(etag, encoded)
    return Response(encoded, mimetype="application/json", headers=_thread_cache_headers(etag))


def _current_head(site: str, article: str) -> ThreadHead:
    """The thread's state as this process read it lately, else from the database."""
    heads: RecentHeads[ThreadHead] = current_app.extensions["vetted.thread_heads"]
    head = heads.get((site, article))
    if head is None:
        with engine().connect() as connection:
            head = thread_head(connection, site, article)
        if head is None:
            raise NotFound(f"There is no site {site!r}.")
        heads.put((site, article), head)
    return head


def _encoded_thread_page(
    head: ThreadHead, sort: Sort, limit: int, cursor: Cursor | None, depth: int
) -> bytes:
    """The page as JSON, read from the database."""
    session = db()
    found = session.get_one(Article, head.article_id)
    page = read_thread(session, found, sort, limit, cursor, depth)
    body = {
        "article": public_article(found, head.closed),
        "comments": page.comments,
        "next_cursor": page.next_cursor,
    }
    return orjson.dumps(body)


@bp.get("/comments/<int:comment_id>")
def own_comment(site: str, comment_id: int) -> Response:
    """One comment: anyone sees it once approved; its author (by token) sees it pending."""
    session = db()
    comment: Comment = comment_on_site(session, site_by_slug(session, site), comment_id)
    token = request.headers.get("Vetted-Author-Token")
    config = current_app.config
    is_author = token_grants(
        config["SECRET_KEY"], token, comment.id, int(config["AUTHOR_TOKEN_MAX_AGE"])
    )
    if comment.status != Status.APPROVED and not is_author:
        raise NotFound("There is no such comment.")
    return json_response(authors_view(comment), headers={"Cache-Control": "no-store"})


@bp.errorhandler(VettedError)
def _in_the_readers_language(exc: VettedError) -> Response:
    """The problem in the reader's language (Accept-Language: the widget sends its own)."""
    language = request.accept_languages.best_match(LANGUAGES) or "en"
    doc = translated_problem(vetted_problem(exc), language)
    response = problem_response(doc, {**exc.headers, "Content-Language": language})
    response.vary.add("Accept-Language")
    return response


@bp.after_request
def _cors(response: Response) -> Response:
    """CORS by site: reads from any origin unless the site lists some; writes only from listed."""
    origin = request.headers.get("Origin")
    site_slug = (request.view_args or {}).get("site")
    if not origin or not site_slug:
        return response
    response.vary.add("Origin")
    allowed = _allowed_origins(site_slug)
    asked = request.headers.get("Access-Control-Request-Method", "GET")
    is_read = request.method in ("GET", "HEAD") or (
        request.method == "OPTIONS" and asked in ("GET", "HEAD")
    )
    # A post from an origin the site does not list is let through the preflight, to meet its
    # 403, readable: the browser would otherwise report a network error, and the widget told
    # the reader to check their connection. The refusal is the server's, whatever CORS says.
    is_post = request.method == "POST" or (request.method == "OPTIONS" and asked == "POST")
    if origin in allowed or (is_read and not allowed) or is_post:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Vetted-Author-Token"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After, Location"
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def _allowed_origins(site_slug: str) -> list[str]:
    if "site_settings" not in g:
        site = db().scalar(select(Site).where(Site.slug == site_slug))
        if site is None:
            return []
        g.site_settings = site.settings
    return list(setting_of(g.site_settings, "allowed_origins"))


def _refuse_foreign_writes(site: Site) -> None:
    """A browser form on another site's page may not post here unless the site allows it."""
    origin = request.headers.get("Origin")
    if not origin or origin == request.host_url.rstrip("/"):
        return
    if origin not in site.setting("allowed_origins"):
        raise ForeignOrigin(
            f"Comments for this site cannot be sent from {origin}: it is not in the site's"
            " allowed_origins."
        )


def _thread_params() -> tuple[Sort, int, Cursor | None]:
    args = request.args
    errors = FieldErrors()
    sort = errors.check(lambda: _sort(args.get("sort", Sort.OLDEST)))
    limit = errors.check(lambda: _page_size(args.get("limit")))
    cursor = errors.check(lambda: Cursor.decode(args["cursor"]) if args.get("cursor") else None)
    errors.raise_if_any("Some parameters need your attention.")
    assert sort is not None and limit is not None  # raise_if_any would have refused
    return sort, limit, cursor


def _sort(value: str) -> Sort:
    try:
        return Sort(value)
    except ValueError as exc:
        raise Invalid.field("sort", "Use oldest or newest.") from exc


def _page_size(value: str | None) -> int:
    most = int(current_app.config["THREAD_PAGE_SIZE_MAX"])
    try:
        limit = int(value) if value is not None else int(current_app.config["THREAD_PAGE_SIZE"])
    except ValueError as exc:
        raise Invalid.field("limit", f"Use a whole number from 1 to {most}.") from exc
    if not 1 <= limit <= most:
        raise Invalid.field("limit", f"Use a whole number from 1 to {most}.")
    return limit


def _thread_etag(head: ThreadHead, depth: int, query: bytes) -> str:
    """Changes whenever anything a reader of this page could see changes."""
    state = f"{head.article_id}:{head.thread_version}:{head.closed}:{depth}:".encode() + query
    return hashlib.blake2b(state, digest_size=12).hexdigest()


def _thread_cache_headers(etag: str) -> dict[str, str]:
    max_age = int(current_app.config["THREAD_CACHE_MAX_AGE"])
    return {"ETag": f'W/"{etag}"', "Cache-Control": f"public, max-age={max_age}"}


def _empty_thread(article_key: str) -> Response:
    body: dict[str, Any] = {
        "article": {
            "key": article_key,
            "title": None,
            "url": None,
            "comment_count": 0,
            "closed": False,
        },
        "comments": [],
        "next_cursor": None,
    }
    return json_response(body, headers={"Cache-Control": "public, max-age=10"})
