"""``vetted webhook ...``: the webhook endpoints of a site, from the command line."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext

from service.commands import ROW_ID, domain_errors_as_messages
from service.db import session_scope, utcnow
from service.events import EventType
from service.extensions import sessions, vault
from service.moderation.presenters import iso
from service.sites.models import Site
from service.sites.services import site_by_slug
from service.webhooks.delivery import send_ping
from service.webhooks.forms import MAX_GRACE_SECONDS, SUBSCRIBABLE, EndpointChanges, NewEndpoint
from service.webhooks.options import WebhookOptions
from service.webhooks.services import (
    create_endpoint,
    delete_endpoint,
    get_endpoint,
    list_endpoints,
    rotate_secret,
    update_endpoint,
)


def _options() -> WebhookOptions:
    return WebhookOptions.from_config(current_app.config)


@click.group("webhook")
def webhook_group() -> None:
    """Webhook endpoints of a site's CMS."""


@webhook_group.command("create")
@click.option("--site", required=True, help="The site's slug.")
@click.option("--url", required=True, help="The endpoint's https URL.")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    type=click.Choice([e.value for e in SUBSCRIBABLE]),
    help="An event to send (repeat).",
)
@click.option("--description", help="What the endpoint is for.")
@with_appcontext
@domain_errors_as_messages
def webhook_create(site: str, url: str, events: tuple[str, ...], description: str | None) -> None:
    """Registers an endpoint and prints its signing secret once."""
    new = NewEndpoint(url, tuple(EventType(e) for e in dict.fromkeys(events)), description)
    with session_scope(sessions()) as session:
        issued = create_endpoint(session, vault(), site_by_slug(session, site), new, _options())
        session.commit()
        click.echo(issued.secret)
        click.echo(f"webhook {issued.endpoint.id} on {site}: {url}", err=True)


@webhook_group.command("list")
@click.option("--site", required=True, help="The site's slug.")
@with_appcontext
@domain_errors_as_messages
def webhook_list(site: str) -> None:
    """Lists a site's endpoints (secrets masked)."""
    with session_scope(sessions()) as session:
        for e in list_endpoints(session, site_by_slug(session, site)):
            state = "enabled" if e.enabled else f"disabled ({e.disabled_reason})"
            click.echo(f"{e.id}\t{e.url}\t{','.join(e.events)}\t{state}\t{e.secret_hint}")


@webhook_group.command("rotate")
@click.argument("endpoint_id", type=ROW_ID)
@click.option(
    "--grace-hours",
    type=click.FloatRange(0, MAX_GRACE_SECONDS / 3600),
    help="Hours the old secret keeps signing, at most a day, as the API (default: setting).",
)
@with_appcontext
@domain_errors_as_messages
def webhook_rotate(endpoint_id: int, grace_hours: float | None) -> None:
    """Gives an endpoint a new secret, printed once; the old one signs too for a while."""
    grace = dt.timedelta(hours=grace_hours) if grace_hours is not None else _options().secret_grace
    with session_scope(sessions()) as session:
        endpoint = get_endpoint(session, endpoint_id)
        secret = rotate_secret(session, vault(), endpoint, grace, utcnow())
        session.commit()
        click.echo(secret)
        until = endpoint.previous_secret_expires_at
        click.echo(
            f"the old secret signs too until {iso(until)}"
            if until
            else "the old secret no longer signs",
            err=True,
        )


@webhook_group.command("disable")
@click.argument("endpoint_id", type=ROW_ID)
@with_appcontext
@domain_errors_as_messages
def webhook_disable(endpoint_id: int) -> None:
    """Stops deliveries to an endpoint; they wait until it is enabled."""
    _set_enabled(endpoint_id, False)
    click.echo(f"webhook {endpoint_id} disabled")


@webhook_group.command("enable")
@click.argument("endpoint_id", type=ROW_ID)
@with_appcontext
@domain_errors_as_messages
def webhook_enable(endpoint_id: int) -> None:
    """Resumes deliveries to an endpoint, with those that waited."""
    _set_enabled(endpoint_id, True)
    click.echo(f"webhook {endpoint_id} enabled")


def _set_enabled(endpoint_id: int, enabled: bool) -> None:
    with session_scope(sessions()) as session:
        endpoint = get_endpoint(session, endpoint_id)
        update_endpoint(session, endpoint, EndpointChanges(enabled=enabled), _options())
        session.commit()


@webhook_group.command("delete")
@click.argument("endpoint_id", type=ROW_ID)
@with_appcontext
@domain_errors_as_messages
def webhook_delete(endpoint_id: int) -> None:
    """Deletes an endpoint and its delivery log."""
    with session_scope(sessions()) as session:
        delete_endpoint(session, get_endpoint(session, endpoint_id))
        session.commit()
    click.echo(f"webhook {endpoint_id} deleted")


@webhook_group.command("ping")
@click.argument("endpoint_id", type=ROW_ID)
@with_appcontext
@domain_errors_as_messages
def webhook_ping(endpoint_id: int) -> None:
    """Sends a ping event to an endpoint (the worker delivers it)."""
    with session_scope(sessions()) as session:
        endpoint = get_endpoint(session, endpoint_id)
        site = session.get_one(Site, endpoint.site_id)
        delivery = send_ping(session, site, endpoint, utcnow())
        session.commit()
        click.echo(f"ping queued: delivery {delivery.id} of {delivery.message_id}")
