"""Bearer-token authentication for the moderation and admin APIs.

``@require_token()`` (moderators and admins) and ``@require_token(Role.ADMIN)`` guard a view:
401 for a missing, unknown, expired or revoked token, 403 for a moderator on an admin route,
and ``Cache-Control: no-store`` on every response of the view, errors included. Inside the
view, ``principal()`` is the caller and ``principal_site()`` finds one of its sites: another
site is a 404, exactly like a site that does not exist, so a token cannot probe.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Response, after_this_request, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import Forbidden, NotFound, Unauthorized
from service.moderation.audit import Actor
from service.moderation.models import ApiToken, Role
from service.moderation.tokens import authenticate
from service.sites.models import Site

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """The caller: a live token, its role and the slugs of its sites."""

    token_id: int
    label: str | None
    role: Role
    sites: frozenset[str]

    @property
    def actor(self) -> Actor:
        """The caller as the audit log names it."""
        return Actor(self.token_id, self.label or f"token {self.token_id}")

    @property
    def is_admin(self) -> bool:
        """Whether the caller may change settings, tokens and webhooks."""
        return self.role == Role.ADMIN

    @classmethod
    def of(cls, token: ApiToken) -> Principal:
        """The principal a token stands for."""
        return cls(token.id, token.label, token.role, frozenset(token.sites))


def require_token(role: Role = Role.MODERATOR) -> Callable[[View], View]:
    """Guards a view: a live bearer token of ``role`` (admins pass moderator checks too)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            after_this_request(_no_store)
            g.principal = _authenticate(role)
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def _authenticate(role: Role) -> Principal:
    from service.extensions import db  # the request session; imported late to keep this light

    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send an API token: Authorization: Bearer <token>.")
    session = db()
    token = authenticate(session, secret.strip())
    # The last-use time is committed at once, so the view's own transaction starts clean.
    session.commit()
    caller = Principal.of(token)
    if role == Role.ADMIN and not caller.is_admin:
        raise Forbidden("This needs an admin token.")
    return caller


def _no_store(response: Response) -> Response:
    # Responses to a token are private and change with every decision: never cache them.
    response.headers["Cache-Control"] = "no-store"
    return response


def principal() -> Principal:
    """The caller of the current request (inside a guarded view)."""
    caller: Principal = g.principal
    return caller


def principal_site(session: Session, slug: str) -> Site:
    """One of the caller's sites, or NotFound, the same for a foreign site as a missing one."""
    site = session.scalar(select(Site).where(Site.slug == slug))
    if site is None or slug not in principal().sites:
        raise NotFound(f"There is no site {slug!r}.")
    return site


def principal_sites(session: Session) -> list[Site]:
    """Every site the caller may act on, by slug."""
    slugs = sorted(principal().sites)
    return list(session.scalars(select(Site).where(Site.slug.in_(slugs)).order_by(Site.slug)))
