"""``vetted privacy``: data subject requests (GDPR art. 15 and 17) from the command line."""

from __future__ import annotations

import click
import orjson
from flask.cli import with_appcontext

from service.commands import domain_errors_as_messages
from service.db import session_scope
from service.extensions import sessions, vault
from service.moderation.audit import Actor
from service.moderation.dsr import EraseMode, erase_subject, export_subject
from service.moderation.forms import parse_subject
from service.sites.services import site_by_slug
from service.spam.hooks import RETRAIN_SITE_MODEL
from service.tasks import enqueue


@click.group("privacy")
def privacy_group() -> None:
    """Export or erase an author's data (GDPR articles 15 and 17)."""


@privacy_group.command("export")
@click.option("--site", required=True, help="The site's slug.")
@click.option("--email", required=True, help="The author's email address.")
@with_appcontext
@domain_errors_as_messages
def privacy_export(site: str, email: str) -> None:
    """Prints every comment of EMAIL on SITE, with its private data, as JSON."""
    address, _ = parse_subject({"email": email})
    with session_scope(sessions()) as session:
        target = site_by_slug(session, site)
        document = export_subject(session, vault(), target, address, Actor.cli())
        session.commit()
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


@privacy_group.command("erase")
@click.option("--site", required=True, help="The site's slug.")
@click.option("--email", required=True, help="The author's email address.")
@click.option(
    "--mode",
    type=click.Choice([m.value for m in EraseMode]),
    help="Delete or anonymise the comments (default: the site's erase_mode).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
@domain_errors_as_messages
def privacy_erase(site: str, email: str, mode: str | None, yes: bool) -> None:
    """Erases EMAIL's data from SITE: email, address and digests removed from every row."""
    if not yes:
        click.confirm(f"Erase the data of this author on {site}? This cannot be undone", abort=True)
    address, _ = parse_subject({"email": email})
    with session_scope(sessions()) as session:
        target = site_by_slug(session, site)
        done = erase_subject(
            session, vault(), target, address, Actor.cli(), EraseMode(mode) if mode else None
        )
        session.commit()
    if done.feedback_touched:
        enqueue(RETRAIN_SITE_MODEL, target.id)
    click.echo(
        f"erased: {done.comments} comments ({done.mode.value}), "
        f"{done.blocks_removed} blocks, {done.feedback_removed} feedback rows"
    )
