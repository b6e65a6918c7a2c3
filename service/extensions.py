"""What the app builds once at configuration: keys, the vault, the database and the limiter."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from service.comments.cache import PageCache, RecentHeads
from service.db import make_engine, make_sessionmaker
from service.privacy.crypto import Vault, generate_encryption_key
from service.sites.services import THREAD_CHANGED_KEY


def client_address() -> str:
    """The client's address: the socket's, or the trusted proxies' (see TRUSTED_PROXY_HOPS)."""
    return request.remote_addr or "unknown"


# No X-RateLimit-* headers: the 429 handler (service.web) sets Retry-After itself, so the header
# and the problem's retry_after are one number (flask-limiter's, added later, could differ by one).
limiter = Limiter(key_func=client_address, default_limits=[], headers_enabled=False)


def init_app(app: Flask) -> None:
    """Fills in embedded defaults, then builds the database, the vault and the limiter."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _embedded_defaults(app)
    _load_keys(app)
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config["DATABASE_ECHO"])
    app.extensions["vetted.engine"] = engine
    app.extensions["vetted.sessions"] = make_sessionmaker(engine)
    app.extensions["vetted.vault"] = Vault.from_keys(
        _key_list(app.config["ENCRYPTION_KEYS"]), app.config["HASH_KEY"]
    )
    app.extensions["vetted.thread_cache"] = PageCache(int(app.config["THREAD_CACHE_BYTES"]))
    heads: RecentHeads[Any] = RecentHeads(float(app.config["THREAD_VERSION_TTL"]))
    app.extensions["vetted.thread_heads"] = heads

    def forget_heads_after_a_thread_changed(session: Session) -> None:
        # A change made through this process shows at once; other processes see it within
        # THREAD_VERSION_TTL.
        if session.info.pop(THREAD_CHANGED_KEY, False):
            heads.clear()

    event.listen(
        app.extensions["vetted.sessions"], "after_commit", forget_heads_after_a_thread_changed
    )
    limiter.init_app(app)
    _check_limits_only_on_limited_routes(app)
    app.teardown_appcontext(_close_session)


# flask-limiter's settings for limits on every route; with none set, no read pays for a check.
APP_WIDE_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def _check_limits_only_on_limited_routes(app: Flask) -> None:
    """Drops flask-limiter's check before every request when no app-wide limit is set.

    A route decorated with ``limiter.limit`` checks its own limit whatever the hook does
    (flask-limiter's decorator calls the check itself), so the hook only ever applies default,
    application and meta limits. Vetted sets none, and on a cached thread read the hook was a
    fifth of the time spent in the app. An operator who sets one of them keeps the hook.
    """
    if any(app.config.get(name) for name in APP_WIDE_LIMITS):
        return
    hooks = app.before_request_funcs[None]
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)


def _embedded_defaults(app: Flask) -> None:
    """SQLite and a SQLite-backed broker in the instance folder: nothing to install."""
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'vetted.sqlite3'}"
    celery = app.config["CELERY"]
    if not celery.get("broker_url"):
        celery["broker_url"] = f"sqla+sqlite:///{instance / 'broker.sqlite3'}"


def _load_keys(app: Flask) -> None:
    """Keys from the config; for an embedded SQLite setup, generated once into the instance."""
    names = ("SECRET_KEY", "ENCRYPTION_KEYS", "HASH_KEY")
    for name in ("SECRET_KEY", "HASH_KEY"):
        # VETTED_ values are parsed as JSON when they can be, so a key of digits arrives as
        # an int; keys are text.
        if isinstance(app.config.get(name), int | float):
            app.config[name] = str(app.config[name])
    missing = [n for n in names if not app.config.get(n)]
    if not missing:
        return
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        # Several web and worker processes must share keys: generating them here would give
        # each process its own and make stored emails unreadable to the others.
        raise RuntimeError(f"Set VETTED_{', VETTED_'.join(missing)} in the environment.")
    stored = _instance_keys(Path(app.instance_path) / "keys.json")
    for name in missing:
        app.config[name] = stored[name]


def _instance_keys(path: Path) -> dict[str, Any]:
    """The keys in ``path``, written there first if no process has yet."""
    keys = {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": generate_encryption_key(),
        "HASH_KEY": secrets.token_urlsafe(32),
    }
    try:
        # O_EXCL: when the web process and the worker start together, one of them writes.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            text = path.read_text()
            if text:
                return dict(json.loads(text))
            time.sleep(0.05)
        raise RuntimeError(f"{path} is empty") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle)
    return keys


def _key_list(value: str | list[str]) -> list[str]:
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    return list(value)


def sessions(app: Flask | None = None) -> sessionmaker[Session]:
    """The app's session factory."""
    factory: sessionmaker[Session] = (app or current_app).extensions["vetted.sessions"]
    return factory


def engine(app: Flask | None = None) -> Engine:
    """The app's database engine, for Core reads that need no session."""
    bound: Engine = (app or current_app).extensions["vetted.engine"]
    return bound


def db() -> Session:
    """The session of the current request, opened on first use."""
    if "db_session" not in g:
        g.db_session = sessions()()
    session: Session = g.db_session
    return session


def vault(app: Flask | None = None) -> Vault:
    """The app's vault for private data."""
    v: Vault = (app or current_app).extensions["vetted.vault"]
    return v


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
