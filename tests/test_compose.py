"""docker-compose.yml: valid, with the production processes, and no local state shared."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.db import make_engine
from service.migrations import upgrade
from service.spam.hooks import RETRAIN_SITE_MODEL, RETRAIN_SITE_MODELS
from service.tasks import CHECK_COMMENT
from service.webhooks.dispatch import DELIVER
from tests.conftest import IN_CI, TEST_KEYS
from tests.e2e.conftest import wait_until
from tests.widget.test_dev_command import fetch, free_port

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
REQUIRED_ENV = {
    "VETTED_SECRET_KEY": "compose-secret",
    "VETTED_ENCRYPTION_KEYS": "compose-fernet-key",
    "VETTED_HASH_KEY": "compose-hash-key",
}


def docker_compose() -> str:
    """Debian's docker-compose; missing is a failure in CI and a skip elsewhere."""
    found = shutil.which("docker-compose") or (
        "/usr/bin/docker-compose" if Path("/usr/bin/docker-compose").exists() else None
    )
    if found is None:
        message = "docker-compose is not installed (Debian package docker-compose)"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing tool is a failure)")
        pytest.skip(message)
    return found


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VETTED_", "COMPOSE_"))}
    return subprocess.run(
        [docker_compose(), "--file", str(COMPOSE_FILE), "--project-directory", str(ROOT), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The file as docker-compose resolves it, anchors and variables filled in."""
    result = compose("config", env=REQUIRED_ENV)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)  # type: ignore[no-any-return]


def test_the_file_is_valid_with_the_required_variables_set() -> None:
    result = compose("config", "-q", env=REQUIRED_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("missing", sorted(REQUIRED_ENV))
def test_each_key_is_required(missing: str) -> None:
    env = {k: v for k, v in REQUIRED_ENV.items() if k != missing}
    result = compose("config", "-q", env=env)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_it_defines_the_production_services(config: dict[str, Any]) -> None:
    services = config["services"]
    assert {"web", "worker", "learner", "beat", "db", "redis"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert any("create_app" in part for part in services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "workers.app", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "workers.app", "beat"]
    assert services["db"]["image"].startswith("postgres")
    assert services["redis"]["image"].startswith("redis")


def test_app_processes_use_postgresql_and_redis_and_the_keys(config: dict[str, Any]) -> None:
    for name in ("web", "worker", "learner", "beat"):
        env = config["services"][name]["environment"]
        assert env["VETTED_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@db:5432/" in env["VETTED_DATABASE_URL"]
        assert env["VETTED_CELERY__broker_url"].startswith("redis://redis:")
        assert env["VETTED_RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
        for key, value in REQUIRED_ENV.items():
            assert env[key] == value


def volumes_of(service: dict[str, Any]) -> set[str]:
    """Every volume or host path a service mounts."""
    mounts = set()
    for volume in service.get("volumes", []):
        source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
        mounts.add(str(source))
    return mounts


def test_web_worker_and_beat_share_no_volume(config: dict[str, Any]) -> None:
    services = config["services"]
    app_mounts = {name: volumes_of(services[name]) for name in ("web", "worker", "learner", "beat")}
    db_and_redis = volumes_of(services["db"]) | volumes_of(services["redis"])
    for name, mounts in app_mounts.items():
        others = set().union(*(m for n, m in app_mounts.items() if n != name))
        assert not mounts & others, f"{name} shares {mounts & others}"
        assert not mounts & db_and_redis, f"{name} mounts the data of db or redis"


def test_site_model_retraining_goes_to_the_learner_and_checks_to_the_workers(
    config: dict[str, Any], make_app: Any
) -> None:
    services = config["services"]
    routes = json.loads(services["worker"]["environment"]["VETTED_CELERY__task_routes"])
    router = make_app(CELERY={"task_routes": routes}).extensions["celery"].amqp.router

    def queue_of(task: str) -> str:
        return str(router.route({}, task)["queue"].name)

    learning = {queue_of(RETRAIN_SITE_MODEL), queue_of(RETRAIN_SITE_MODELS)}
    assert learning == {"vetted-learning"}
    assert queue_of(CHECK_COMMENT) == queue_of(DELIVER) == "vetted"
    assert services["learner"]["command"][-2:] == ["--queues", "vetted-learning"]
    assert services["worker"]["command"][-2:] == ["--queues", "vetted"]


def test_the_web_command_logs_requests_without_query_string_or_client_address(
    config: dict[str, Any], tmp_path: Path
) -> None:
    """The compose file's own gunicorn command, run here: an email searched for in the review
    API's query string, and the reader's address, stay out of its log."""
    port = free_port()
    command = config["services"]["web"]["command"]
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    database = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    upgrade(make_engine(database))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTED_")}
    env.update(
        {f"VETTED_{name}": value for name, value in TEST_KEYS.items()},
        VETTED_DATABASE_URL=database,
        VETTED_INSTANCE_PATH=str(tmp_path),
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
    )
    log = tmp_path / "web.log"
    searched = "/api/v1/moderation/comments?author=carol%40example.org&ip=198.51.100.23"
    with log.open("wb") as out:
        web = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: fetch(f"http://127.0.0.1:{port}/healthz")[0] == 200, 30, "gunicorn")
        assert fetch(f"http://127.0.0.1:{port}{searched}")[0] == 401
        wait_until(lambda: "/api/v1/moderation/comments" in log.read_text(), 10, "its log line")
    finally:
        web.terminate()
        web.wait(timeout=20)
    lines = [line for line in log.read_text().splitlines() if "/api/v1/moderation/" in line]
    assert len(lines) == 1 and '"GET /api/v1/moderation/comments HTTP/1.1" 401' in lines[0]
    for private in ("carol", "198.51.100.23", "127.0.0.1"):
        assert private not in lines[0]
    assert "python:service.gunicorn_conf" in (ROOT / "Dockerfile").read_text()
