"""The ``vetted keys`` commands: make a new encryption key, rotate stored data onto it."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from service.db import session_scope
from service.extensions import sessions, vault
from service.privacy.crypto import generate_encryption_key
from service.privacy.keys import encrypted_columns, rotate_batch


@click.group("keys")
def keys_group() -> None:
    """Encryption keys of private data (emails, addresses, secrets)."""


@keys_group.command("generate")
def keys_generate() -> None:
    """Prints a new Fernet key, to put first in VETTED_ENCRYPTION_KEYS."""
    click.echo(generate_encryption_key())


@keys_group.command("rotate")
@click.option("--batch-size", default=500, show_default=True, help="Rows per transaction.")
@with_appcontext
def keys_rotate(batch_size: int) -> None:
    """Re-encrypts every encrypted column with the newest key (the first of ENCRYPTION_KEYS)."""
    with session_scope(sessions()) as session:
        for table, columns in encrypted_columns(session).items():
            total, after = 0, None
            while True:
                try:
                    changed, after = rotate_batch(
                        session, vault(), table, columns, after, batch_size
                    )
                except ValueError as exc:
                    raise click.ClickException(str(exc)) from exc
                # One transaction per batch: a long rotation never holds a table for long,
                # and a stop halfway leaves every row readable with the same keys.
                session.commit()
                total += changed
                if after is None:
                    break
            click.echo(f"{table}: {total} rows re-encrypted ({', '.join(columns)})")
    click.echo("Every value now uses the newest key; older keys can be removed.")
