"""Settings: where values come from, the embedded keys, and which client address counts."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import config as settings
from service import create_app
from service.comments.models import Comment
from service.extensions import _instance_keys, vault
from service.sites.models import Site

SUBMIT = "/api/v1/sites/news/articles/story/comments"
KEY_NAMES = ("SECRET_KEY", "ENCRYPTION_KEYS", "HASH_KEY")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No VETTED_ variables from the environment running the tests."""
    import os

    for name in list(os.environ):
        if name.startswith("VETTED_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def instance(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Apps made in this test keep their instance folder (keys, SQLite files) here."""
    folder = tmp_path / "instance"
    clean_env.setattr(Flask, "auto_find_instance_path", lambda self: str(folder))
    return folder


def test_defaults_apply_when_nothing_is_set(instance: Path) -> None:
    app = create_app()
    assert app.config["THREAD_PAGE_SIZE"] == settings.DEFAULTS["THREAD_PAGE_SIZE"]
    assert app.config["TRUSTED_PROXY_HOPS"] == 0
    app.extensions["vetted.engine"].dispose()


def test_environment_overrides_defaults_and_the_mapping_overrides_both(
    instance: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("VETTED_THREAD_PAGE_SIZE", "7")
    clean_env.setenv("VETTED_THREAD_CACHE_MAX_AGE", "99")
    clean_env.setenv("VETTED_RATELIMIT_ENABLED", "false")
    clean_env.setenv("VETTED_CELERY__task_default_queue", "from-env")
    app = create_app({"THREAD_CACHE_MAX_AGE": 5})
    assert app.config["THREAD_PAGE_SIZE"] == 7
    assert app.config["THREAD_CACHE_MAX_AGE"] == 5
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["CELERY"]["task_default_queue"] == "from-env"
    # Setting one Celery value leaves the other Celery defaults in place.
    assert app.config["CELERY"]["task_acks_late"] is True
    app.extensions["vetted.engine"].dispose()


def test_the_mapping_changes_one_celery_setting_and_keeps_the_rest(instance: Path) -> None:
    app = create_app({"CELERY": {"task_default_queue": "mine"}})
    assert app.config["CELERY"]["task_default_queue"] == "mine"
    assert app.config["CELERY"]["task_acks_late"] is True
    assert settings.DEFAULTS["CELERY"]["task_default_queue"] == "vetted"
    app.extensions["vetted.engine"].dispose()


def test_every_setting_has_a_comment_in_config_py() -> None:
    source = Path(settings.__file__).read_text().splitlines()
    for name in settings.DEFAULTS:
        line = next(i for i, text in enumerate(source) if text.strip().startswith(f'"{name}"'))
        above = source[line - 1].strip()
        assert above.startswith("#") or source[line - 2].strip().startswith("#"), name


def test_embedded_keys_are_generated_once_into_the_instance_folder(instance: Path) -> None:
    first = create_app()
    stored = json.loads((instance / "keys.json").read_text())
    assert set(stored) == set(KEY_NAMES)
    assert all(first.config[name] == stored[name] for name in KEY_NAMES)
    assert stat.S_IMODE((instance / "keys.json").stat().st_mode) == 0o600
    assert first.config["DATABASE_URL"] == f"sqlite:///{instance / 'vetted.sqlite3'}"
    assert first.config["CELERY"]["broker_url"] == f"sqla+sqlite:///{instance / 'broker.sqlite3'}"
    second = create_app()
    assert all(second.config[name] == first.config[name] for name in KEY_NAMES)
    token = vault(first).encrypt("ann@example.com")
    assert vault(second).decrypt(token) == "ann@example.com"
    assert vault(second).email_digest("ann@example.com") == vault(first).email_digest(
        "ann@example.com"
    )
    for app in (first, second):
        app.extensions["vetted.engine"].dispose()


def test_keys_set_in_the_environment_win_over_the_instance_file(
    instance: Path, clean_env: pytest.MonkeyPatch
) -> None:
    create_app().extensions["vetted.engine"].dispose()
    clean_env.setenv("VETTED_HASH_KEY", "from-the-environment")
    app = create_app()
    assert app.config["HASH_KEY"] == "from-the-environment"
    assert (
        app.config["SECRET_KEY"] == json.loads((instance / "keys.json").read_text())["SECRET_KEY"]
    )
    app.extensions["vetted.engine"].dispose()


def test_processes_starting_together_share_one_set_of_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    start = threading.Barrier(8)
    results: list[dict[str, Any]] = []

    def load() -> None:
        start.wait()
        results.append(_instance_keys(path))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(result == results[0] for result in results)
    assert json.loads(path.read_text()) == results[0]


def test_keys_that_look_like_numbers_in_the_environment_stay_text(
    instance: Path, clean_env: pytest.MonkeyPatch
) -> None:
    # VETTED_ values are parsed as JSON when they can be: 20240101 would become an int.
    clean_env.setenv("VETTED_HASH_KEY", "20240101")
    clean_env.setenv("VETTED_SECRET_KEY", "123456")
    app = create_app()
    assert (app.config["HASH_KEY"], app.config["SECRET_KEY"]) == ("20240101", "123456")
    assert len(vault(app).email_digest("ann@example.com")) == 64
    app.extensions["vetted.engine"].dispose()


@pytest.mark.parametrize("url", ["postgresql+psycopg://vetted@db/vetted", "mysql://x@db/x"])
def test_a_server_database_without_keys_refuses_to_start(instance: Path, url: str) -> None:
    with pytest.raises(RuntimeError) as refused:
        create_app({"DATABASE_URL": url})
    message = str(refused.value)
    assert all(f"VETTED_{name}" in message for name in KEY_NAMES)
    assert not (instance / "keys.json").exists()


def test_a_server_database_names_only_the_missing_keys(instance: Path) -> None:
    url = "postgresql+psycopg://vetted@db/vetted"
    with pytest.raises(RuntimeError, match="VETTED_HASH_KEY") as refused:
        create_app({"DATABASE_URL": url, "SECRET_KEY": "s", "ENCRYPTION_KEYS": "k"})
    assert "SECRET_KEY" not in str(refused.value)


def submit_from(app: Flask, address: str, forwarded: str | None, body: str) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = app.test_client().post(
        SUBMIT,
        json={"name": "Ann", "email": "ann@example.com", "body": body},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def stored_address(app: Flask, session: Session) -> str:
    session.expire_all()
    comment = session.scalars(select(Comment).order_by(Comment.id.desc())).first()
    assert comment is not None and comment.ip_encrypted is not None
    return vault(app).decrypt(comment.ip_encrypted)


def limited_app(make_app: Any, hops: int) -> Flask:
    return make_app(  # type: ignore[no-any-return]
        TRUSTED_PROXY_HOPS=hops, RATELIMIT_ENABLED=True, RATELIMIT_SUBMIT="1 per minute"
    )


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    make_app: Any, session: Session, site: Site
) -> None:
    app = limited_app(make_app, 0)
    assert submit_from(app, "198.51.100.10", "203.0.113.1", "One.") == 202
    assert stored_address(app, session) == "198.51.100.10"
    # A forged header does not buy a new allowance: the key is the socket's address.
    assert submit_from(app, "198.51.100.10", "203.0.113.2", "Two.") == 429
    assert submit_from(app, "198.51.100.11", None, "Three.") == 202


def test_one_trusted_proxy_means_the_last_forwarded_hop_is_the_client(
    make_app: Any, session: Session, site: Site
) -> None:
    app = limited_app(make_app, 1)
    proxy = "10.0.0.5"
    assert submit_from(app, proxy, "203.0.113.1", "One.") == 202
    assert stored_address(app, session) == "203.0.113.1"
    assert submit_from(app, proxy, "203.0.113.2", "Two.") == 202
    # Earlier entries are the client's to forge; only the hop our proxy added counts.
    assert submit_from(app, proxy, "192.0.2.99, 203.0.113.2", "Three.") == 429
    assert submit_from(app, proxy, "192.0.2.98, 203.0.113.3", "Four.") == 202
    assert stored_address(app, session) == "203.0.113.3"
