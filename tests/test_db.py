"""The database engine's settings that the service relies on."""

from __future__ import annotations

from service.db import make_engine
from tests.conftest import POSTGRES_URL, require_server


def test_postgresql_connections_never_use_server_side_prepared_statements() -> None:
    # A prepared statement may fall back to a generic plan, one made without knowing the
    # article: the first page of a 10,000-comment thread then read every root (bench/bigdb.py).
    require_server("PostgreSQL", "127.0.0.1", 5432)
    engine = make_engine(f"{POSTGRES_URL}/postgres")
    try:
        with engine.connect() as connection:
            assert connection.connection.driver_connection.prepare_threshold is None
    finally:
        engine.dispose()
