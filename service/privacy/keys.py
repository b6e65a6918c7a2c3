"""Key rotation: re-encrypting every encrypted column with the newest key.

A column holds encrypted data when its name ends in ``_encrypted`` (comments' email and
address, webhook secrets, ...). The columns are found by reflecting the database, so a domain
that adds one is rotated without registering it here, and this module imports no domain.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, Table, inspect, select, update
from sqlalchemy.orm import Session

from service.privacy.crypto import Vault

ENCRYPTED_SUFFIX = "_encrypted"


def encrypted_columns(session: Session) -> dict[str, list[str]]:
    """Every table with encrypted columns, and those columns, by name."""
    inspector = inspect(session.connection())
    found: dict[str, list[str]] = {}
    for table in sorted(inspector.get_table_names()):
        columns = [
            c["name"] for c in inspector.get_columns(table) if c["name"].endswith(ENCRYPTED_SUFFIX)
        ]
        if columns:
            found[table] = columns
    return found


def rotate_batch(
    session: Session, vault: Vault, table_name: str, columns: list[str], after: Any, limit: int
) -> tuple[int, Any]:
    """Re-encrypts up to ``limit`` rows whose key follows ``after`` (None: from the start).

    Returns how many rows changed and the last key seen, None once the table is done. Values
    stay readable throughout: a row is either still on an old key or already on the newest.
    """
    table = Table(table_name, MetaData(), autoload_with=session.connection())
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        raise ValueError(f"{table_name} has encrypted columns but no single-column key")
    key = keys[0]
    query = select(key, *(table.c[name] for name in columns)).order_by(key).limit(limit)
    if after is not None:
        query = query.where(key > after)
    rows = session.execute(query).all()
    changed = 0
    for row in rows:
        values = {
            name: _rotated(vault, table_name, name, row[0], value)
            for name, value in zip(columns, row[1:], strict=True)
            if value is not None
        }
        if values:
            session.execute(update(table).where(key == row[0]).values(**values))
            changed += 1
    return changed, (rows[-1][0] if rows else None)


def _rotated(vault: Vault, table: str, column: str, row_key: Any, value: Any) -> bytes:
    try:
        return vault.rotate(bytes(value))
    except ValueError as exc:
        raise ValueError(
            f"{table}.{column} of row {row_key} cannot be decrypted with any configured key; "
            "add the key that encrypted it to ENCRYPTION_KEYS (after the new one)"
        ) from exc
