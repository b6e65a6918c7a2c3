"""Creating, checking and revoking API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import Invalid, NotFound, Unauthorized
from service.moderation.models import ApiToken, Role
from service.sites.services import site_by_slug

TOKEN_PREFIX = "vt_"
# The last-use time is written at most this often, so a busy console's reads stay reads.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    sites: list[str],
    role: Role,
    label: str | None = None,
    expires_at: dt.datetime | None = None,
) -> IssuedToken:
    """Issues a token scoped to ``sites`` (which must exist)."""
    if not sites:
        raise Invalid.field("sites", "A token needs at least one site.")
    for slug in sites:
        site_by_slug(session, slug)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        prefix=secret[:10],
        token_hash=_hash(secret),
        role=role,
        sites=sorted(set(sites)),
        label=label,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def authenticate(session: Session, secret: str) -> ApiToken:
    """The live token for ``secret``, or Unauthorized."""
    # The prefix narrows the lookup; the hash comparison is constant-time.
    candidates = session.scalars(select(ApiToken).where(ApiToken.prefix == secret[:10]))
    digest = _hash(secret)
    token = next((t for t in candidates if hmac.compare_digest(t.token_hash, digest)), None)
    if token is None:
        raise Unauthorized("The token is not valid.")
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthorized("The token was revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("The token has expired.")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        token.last_used_at = now
    return token


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revokes a token at once."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("There is no such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def list_tokens(session: Session, site: str | None = None) -> list[ApiToken]:
    """Tokens, newest first, optionally only those for one site."""
    tokens = session.scalars(select(ApiToken).order_by(ApiToken.id.desc()))
    return [t for t in tokens if site is None or site in t.sites]
