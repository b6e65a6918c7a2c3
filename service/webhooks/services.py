"""A site's webhook endpoints: register, change, rotate the secret, switch off, delete."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import Invalid, NotFound
from service.privacy.crypto import Vault
from service.sites.models import Site
from service.webhooks.forms import EndpointChanges, NewEndpoint
from service.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint
from service.webhooks.options import WebhookOptions
from service.webhooks.schedule import DisableReason
from service.webhooks.signing import generate_secret
from service.webhooks.transport import UnsafeEndpoint, validate_endpoint_url


@dataclass(frozen=True)
class IssuedSecret:
    """An endpoint and its new signing secret, which is shown this once."""

    endpoint: Endpoint
    secret: str


def create_endpoint(
    session: Session, vault: Vault, site: Site, new: NewEndpoint, options: WebhookOptions
) -> IssuedSecret:
    """Registers an endpoint after checking that its URL is one Vetted may call."""
    check_url(new.url, options)
    secret = generate_secret()
    now = utcnow()
    endpoint = Endpoint(
        site_id=site.id,
        url=new.url,
        events=[e.value for e in new.events],
        description=new.description,
        secret_encrypted=vault.encrypt(secret),
        secret_hint=secret_hint(secret),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return IssuedSecret(endpoint, secret)


def check_url(url: str, options: WebhookOptions) -> None:
    """Invalid unless ``url`` is https (or allowed http) and every address it has is public."""
    try:
        validate_endpoint_url(url, options.allow_http, options.allowlist)
    except UnsafeEndpoint as exc:
        raise Invalid.field("url", f"Vetted will not call this URL: {exc}.") from exc


def secret_hint(secret: str) -> str:
    """The masked form of a secret that lists show: its prefix and last four characters."""
    return f"whsec_…{secret[-4:]}"


def list_endpoints(session: Session, site: Site) -> list[Endpoint]:
    """A site's endpoints, oldest first."""
    query = select(Endpoint).where(Endpoint.site_id == site.id).order_by(Endpoint.id)
    return list(session.scalars(query))


def endpoint_on_site(session: Session, site: Site, endpoint_id: int) -> Endpoint:
    """The endpoint with this id on this site, or NotFound (never another site's)."""
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None or endpoint.site_id != site.id:
        raise NotFound("There is no such webhook endpoint.")
    return endpoint


def get_endpoint(session: Session, endpoint_id: int) -> Endpoint:
    """The endpoint with this id, on any site (for the command line), or NotFound."""
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"There is no webhook endpoint {endpoint_id}.")
    return endpoint


def update_endpoint(
    session: Session,
    endpoint: Endpoint,
    changes: EndpointChanges,
    options: WebhookOptions,
    now: dt.datetime | None = None,
) -> Endpoint:
    """Applies a partial update; a new URL is checked like a new registration."""
    now = now or utcnow()
    if changes.url is not None and changes.url != endpoint.url:
        check_url(changes.url, options)
        endpoint.url = changes.url
    if changes.events is not None:
        endpoint.events = [e.value for e in changes.events]
    if changes.description_given:
        endpoint.description = changes.description
    if changes.enabled is True:
        enable_endpoint(session, endpoint, now)
    elif changes.enabled is False:
        disable_endpoint(endpoint, DisableReason.MANUAL, "Switched off by an admin.", now)
    endpoint.updated_at = now
    session.flush()
    return endpoint


def disable_endpoint(
    endpoint: Endpoint, reason: DisableReason, detail: str, now: dt.datetime
) -> None:
    """Stops deliveries to an endpoint; its pending deliveries wait until it is enabled."""
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_detail = detail[:500]
    endpoint.disabled_at = now
    endpoint.updated_at = now


def enable_endpoint(session: Session, endpoint: Endpoint, now: dt.datetime) -> None:
    """Resumes deliveries; what waited while it was off is queued by the periodic job."""
    if endpoint.enabled:
        return
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.disabled_detail = None
    endpoint.disabled_at = None
    # A fresh start: the days it spent switched off do not count towards disabling it again.
    endpoint.failing_since = None
    endpoint.updated_at = now
    session.execute(
        update(Delivery)
        .where(Delivery.endpoint_id == endpoint.id, Delivery.state == DeliveryState.PENDING)
        .values(dispatched_at=None)
    )


def rotate_secret(
    session: Session, vault: Vault, endpoint: Endpoint, grace: dt.timedelta, now: dt.datetime
) -> str:
    """Replaces the secret; the old one keeps signing beside it for ``grace``, then stops."""
    secret = generate_secret()
    if grace > dt.timedelta(0):
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + grace
    else:
        endpoint.previous_secret_encrypted = None
        endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = vault.encrypt(secret)
    endpoint.secret_hint = secret_hint(secret)
    endpoint.updated_at = now
    session.flush()
    return secret


def active_secrets(vault: Vault, endpoint: Endpoint, now: dt.datetime) -> list[str]:
    """The secrets that sign a request now: the current one, and the old one during a rotation."""
    secrets = [vault.decrypt(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted is not None and expires is not None and now < expires:
        secrets.append(vault.decrypt(endpoint.previous_secret_encrypted))
    return secrets


def delete_endpoint(session: Session, endpoint: Endpoint) -> None:
    """Deletes an endpoint with its delivery log (events other endpoints need are kept)."""
    deliveries = select(Delivery.id).where(Delivery.endpoint_id == endpoint.id)
    # Explicit, rather than relying on ON DELETE CASCADE, so it holds on any SQLite connection.
    session.execute(delete(Attempt).where(Attempt.delivery_id.in_(deliveries)))
    session.execute(delete(Delivery).where(Delivery.endpoint_id == endpoint.id))
    session.delete(endpoint)
    session.flush()
