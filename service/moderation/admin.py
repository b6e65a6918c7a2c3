"""What only admins do: issue and revoke tokens for their sites, and change site settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from service.errors import Invalid, NotFound
from service.moderation.audit import Actor, record
from service.moderation.models import Action, ApiToken, Role
from service.moderation.tokens import IssuedToken, create_token, list_tokens, revoke_token
from service.sites.models import ModerationMode, Site


def issue_token(
    session: Session,
    own_sites: Mapping[str, Site],
    sites: list[str],
    role: Role,
    actor: Actor,
    label: str | None = None,
    expires_at: dt.datetime | None = None,
) -> IssuedToken:
    """A new token for some of the admin's own sites; any other site is unknown to them."""
    for slug in sites:
        if slug not in own_sites:
            raise NotFound(f"There is no site {slug!r}.")
    issued = create_token(session, sites, role, label, expires_at)
    for slug in issued.token.sites:
        record(
            session,
            actor,
            Action.TOKEN_CREATE,
            site_id=own_sites[slug].id,
            subject=f"token:{issued.token.id}",
            detail={"role": role.value},
        )
    return issued


def tokens_for(session: Session, own_sites: Mapping[str, Site]) -> list[ApiToken]:
    """The tokens an admin may see: those for none but their own sites."""
    return [t for t in list_tokens(session) if set(t.sites) <= set(own_sites)]


def withdraw_token(
    session: Session, own_sites: Mapping[str, Site], token_id: int, actor: Actor
) -> ApiToken:
    """Revokes one of the admin's tokens; a token that also reaches another site is unknown."""
    token = session.get(ApiToken, token_id)
    if token is None or not set(token.sites) <= set(own_sites):
        raise NotFound("There is no such token.")
    already = token.revoked_at is not None
    revoke_token(session, token_id)
    if not already:
        for slug in token.sites:
            record(
                session,
                actor,
                Action.TOKEN_REVOKE,
                site_id=own_sites[slug].id,
                subject=f"token:{token.id}",
            )
    return token


def update_settings(
    session: Session,
    site: Site,
    moderation: ModerationMode | None,
    values: Mapping[str, Any],
    actor: Actor,
) -> list[str]:
    """Changes a site's moderation mode and settings; returns the names that changed."""
    merged = {**(site.settings or {}), **values}
    unsure = merged.get("unsure_threshold", site.setting("unsure_threshold"))
    spam = merged.get("spam_threshold", site.setting("spam_threshold"))
    if unsure is not None and spam is not None and unsure > spam:
        raise Invalid.field("unsure_threshold", "Must not be above spam_threshold.")
    changed = [name for name, value in values.items() if site.setting(name) != value]
    if moderation is not None and moderation != site.moderation:
        site.moderation = moderation
        changed.insert(0, "moderation")
    if any(name != "moderation" for name in changed):
        # A new dict, so that SQLAlchemy sees the JSON column change.
        site.settings = merged
    if changed:
        session.flush()
        record(session, actor, Action.SETTINGS, site_id=site.id, detail={"changed": changed})
    return changed
