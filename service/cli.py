"""The ``vetted`` command: database, sites, tokens, and the embedded development server."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext
from werkzeug.serving import run_simple

from service.commands import ROW_ID, domain_errors_as_messages
from service.db import session_scope, utcnow
from service.extensions import sessions
from service.moderation.admin import issue_token, withdraw_token
from service.moderation.audit import Actor
from service.moderation.models import Role
from service.moderation.settings import parse_settings
from service.moderation.tokens import list_tokens
from service.privacy.cli import keys_group
from service.request_log import PrivateRequestHandler
from service.sites.models import ModerationMode
from service.sites.services import create_site, list_sites, site_by_slug


def main() -> None:
    """Entry point of the ``vetted`` command."""
    from service import create_app

    # Not Flask's "run": a bare development server with no worker, whose request log names
    # every client's address and query string. "vetted dev" is the one to use.
    cli = FlaskGroup(
        create_app=lambda: create_app(),
        add_default_commands=False,
        help="Vetted: comments for news sites.",
    )
    cli.add_command(shell_command)
    cli.add_command(routes_command)
    cli(prog_name="vetted")


def register_commands(app: Flask) -> None:
    """Adds Vetted's commands to ``flask``/``vetted``."""
    app.cli.add_command(db_group)
    app.cli.add_command(site_group)
    app.cli.add_command(token_group)
    app.cli.add_command(dev_command)
    app.cli.add_command(keys_group)

    from service.moderation.cli import privacy_group

    app.cli.add_command(privacy_group)

    from service.webhooks.cli import webhook_group

    app.cli.add_command(webhook_group)

    from service.spam.cli import spam_group

    app.cli.add_command(spam_group)


@click.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Creates or migrates the schema; on PostgreSQL, concurrent runs wait for each other."""
    from service.migrations import current_revision, upgrade

    engine = current_app.extensions["vetted.engine"]
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    if before == after:
        click.echo(f"database is up to date (revision {after})")
    else:
        click.echo(f"database migrated from {before or 'empty'} to revision {after}")


@click.group("site")
def site_group() -> None:
    """Sites that take comments."""


@site_group.command("create")
@click.argument("slug")
@click.option("--name", help="Display name (defaults to the slug).")
@click.option(
    "--moderation",
    type=click.Choice([m.value for m in ModerationMode]),
    default=ModerationMode.POST.value,
    show_default=True,
)
@click.option("--origin", "origins", multiple=True, help="An origin allowed to post (repeat).")
@click.option("--if-missing", is_flag=True, help="Succeed quietly when the site exists.")
@with_appcontext
@domain_errors_as_messages
def site_create(
    slug: str, name: str | None, moderation: str, origins: tuple[str, ...], if_missing: bool
) -> None:
    """Creates a site."""
    with session_scope(sessions()) as session:
        if if_missing and slug in {s.slug for s in list_sites(session)}:
            click.echo(f"site {slug} exists")
            return
        # Checked as the settings API checks them: "notanorigin" was stored, never to match.
        settings = parse_settings({"allowed_origins": list(origins)}).values if origins else {}
        site = create_site(session, slug, name, ModerationMode(moderation), settings)
        session.commit()
        click.echo(f"created site {site.slug} ({site.moderation} moderation)")


@site_group.command("list")
@with_appcontext
def site_list() -> None:
    """Lists sites."""
    with session_scope(sessions()) as session:
        for site in list_sites(session):
            click.echo(f"{site.slug}\t{site.moderation}\t{site.name}")


@click.group("token")
def token_group() -> None:
    """API tokens for moderators and admins."""


@token_group.command("create")
@click.option("--site", "sites", multiple=True, required=True, help="A site slug (repeat).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="moderator")
@click.option("--label", help="Who or what the token is for.")
@click.option(
    "--expires-in-days", type=click.IntRange(1, 36500), help="Expire after this many days."
)
@with_appcontext
@domain_errors_as_messages
def token_create(
    sites: tuple[str, ...], role: str, label: str | None, expires_in_days: int | None
) -> None:
    """Creates a token and prints it once; only its hash is stored."""
    expires = utcnow() + dt.timedelta(days=expires_in_days) if expires_in_days else None
    with session_scope(sessions()) as session:
        every_site = {site.slug: site for site in list_sites(session)}
        # Through the admin API's path, so the audit log has it too (actor "cli").
        issued = issue_token(
            session, every_site, list(sites), Role(role), Actor.cli(), label, expires
        )
        session.commit()
        click.echo(issued.secret)
        click.echo(f"token {issued.token.id} ({role} on {', '.join(sites)})", err=True)


@token_group.command("list")
@click.option("--site", help="Only tokens for this site.")
@with_appcontext
@domain_errors_as_messages
def token_list(site: str | None) -> None:
    """Lists tokens (never their secrets)."""
    with session_scope(sessions()) as session:
        if site is not None:
            site_by_slug(session, site)  # an unknown site is an error, not an empty list
        for t in list_tokens(session, site):
            expired = t.expires_at is not None and t.expires_at <= utcnow()
            state = "revoked" if t.revoked_at else "expired" if expired else "active"
            click.echo(
                f"{t.id}\t{t.prefix}…\t{t.role}\t{','.join(t.sites)}\t{state}\t{t.label or ''}"
            )


@token_group.command("revoke")
@click.argument("token_id", type=ROW_ID)
@with_appcontext
@domain_errors_as_messages
def token_revoke(token_id: int) -> None:
    """Revokes a token at once."""
    with session_scope(sessions()) as session:
        every_site = {site.slug: site for site in list_sites(session)}
        withdraw_token(session, every_site, token_id, Actor.cli())
        session.commit()
        click.echo(f"token {token_id} revoked")


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@with_appcontext
def dev_command(host: str, port: int) -> None:
    """Runs the web service with a Celery worker and beat beside it, for development."""
    from service.migrations import upgrade

    upgrade(current_app.extensions["vetted.engine"])
    with session_scope(sessions()) as session:
        if "demo" not in {s.slug for s in list_sites(session)}:
            create_site(session, "demo", "Demo Gazette", ModerationMode.POST)
            session.commit()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "--beat",
            "--pool=solo",
            "--loglevel=INFO",
            "--schedule",
            os.path.join(current_app.instance_path, "celerybeat-schedule"),
        ],
    )
    click.echo(f"Vetted on http://{host}:{port}/ (demo article), worker pid {worker.pid}")
    # SIGTERM (kill, a process manager) stops like Ctrl+C, so the worker is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    stopping, died = threading.Event(), threading.Event()
    threading.Thread(target=_stop_without, args=(worker, stopping, died), daemon=True).start()
    try:
        # Not app.run(): Flask ignores that inside a CLI command and would return at once.
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        run_simple(
            host,
            port,
            app,
            use_reloader=False,
            threaded=True,
            request_handler=PrivateRequestHandler,
        )
    finally:
        stopping.set()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    if died.is_set():
        raise SystemExit(f"The worker stopped (exit {worker.returncode}); so did the server.")


def _stop_without(
    worker: subprocess.Popen[bytes], stopping: threading.Event, died: threading.Event
) -> None:
    """Stops the server (as Ctrl+C does) when its worker dies: without a worker every comment
    would wait for its spam check, and nothing on the page would say why."""
    worker.wait()
    if not stopping.is_set():
        died.set()
        os.kill(os.getpid(), signal.SIGINT)
