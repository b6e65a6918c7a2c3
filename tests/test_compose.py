"""docker-compose.yml: valid, with the production processes, and no local state shared."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from service.db import make_engine
from service.migrations import upgrade
from service.spam.hooks import RETRAIN_SITE_MODEL, RETRAIN_SITE_MODELS
from service.tasks import CHECK_COMMENT
from service.webhooks.dispatch import DELIVER, DISPATCH_DUE
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
    for name in ("web", "worker", "webhooks", "learner", "beat"):
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
    app_mounts = {
        name: volumes_of(services[name])
        for name in ("web", "worker", "webhooks", "learner", "beat")
    }
    db_and_redis = volumes_of(services["db"]) | volumes_of(services["redis"])
    for name, mounts in app_mounts.items():
        others = set().union(*(m for n, m in app_mounts.items() if n != name))
        assert not mounts & others, f"{name} shares {mounts & others}"
        assert not mounts & db_and_redis, f"{name} mounts the data of db or redis"


def test_retraining_and_webhook_deliveries_have_their_own_workers(
    config: dict[str, Any], make_app: Any
) -> None:
    services = config["services"]
    routes = json.loads(services["worker"]["environment"]["VETTED_CELERY__task_routes"])
    router = make_app(CELERY={"task_routes": routes}).extensions["celery"].amqp.router

    def queue_of(task: str) -> str:
        return str(router.route({}, task)["queue"].name)

    learning = {queue_of(RETRAIN_SITE_MODEL), queue_of(RETRAIN_SITE_MODELS)}
    assert learning == {"vetted-learning"}
    # A hanging CMS endpoint holds a webhook worker, never a spam check.
    assert queue_of(DELIVER) == "vetted-webhooks"
    assert queue_of(CHECK_COMMENT) == queue_of(DISPATCH_DUE) == "vetted"
    assert services["learner"]["command"][-2:] == ["--queues", "vetted-learning"]
    assert services["webhooks"]["command"][-2:] == ["--queues", "vetted-webhooks"]
    assert services["worker"]["command"][-2:] == ["--queues", "vetted"]


@contextmanager
def compose_web(config: dict[str, Any], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The compose file's own gunicorn command, run here on SQLite: (its address, its log)."""
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
    with log.open("wb") as out:
        web = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        address = f"127.0.0.1:{port}"
        wait_until(lambda: fetch(f"http://{address}/healthz")[0] == 200, 30, "gunicorn")
        yield address, log
    finally:
        web.terminate()
        web.wait(timeout=20)


def raw_request(address: str, request: bytes) -> tuple[int, str, str]:
    """Sends request bytes as they are: (status, content type, body)."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body.decode()


def test_the_web_command_logs_requests_without_query_string_or_client_address(
    config: dict[str, Any], tmp_path: Path
) -> None:
    """An email searched for in the review API's query string, and the reader's address, stay
    out of the log; a path cannot write a line of its own."""
    searched = "/api/v1/moderation/comments?author=carol%40example.org&ip=198.51.100.23"
    forged = "/x%0A" + quote('[29/Nov/2026:16:31:05 +0000] "GET /forged HTTP/1.1" 200')
    with compose_web(config, tmp_path) as (address, log):
        assert fetch(f"http://{address}{searched}")[0] == 401
        assert fetch(f"http://{address}{forged}")[0] == 404
        wait_until(lambda: "/forged" in log.read_text(), 10, "its log lines")
    lines = log.read_text().splitlines()
    [review] = [line for line in lines if "/api/v1/moderation/" in line]
    assert '"GET /api/v1/moderation/comments HTTP/1.1" 401' in review
    assert review.startswith("[") and not review.startswith("[[")
    for private in ("carol", "198.51.100.23", "127.0.0.1"):
        assert private not in review
    [escaped] = [line for line in lines if "/forged" in line]
    assert "/x\\x0a[29/Nov" in escaped
    assert "python:service.gunicorn_conf" in (ROOT / "Dockerfile").read_text()


def test_requests_gunicorn_refuses_get_problem_details_and_no_address_in_its_log(
    config: dict[str, Any], tmp_path: Path
) -> None:
    # Before the app sees them: gunicorn's own HTML pages, and a warning naming the client.
    too_long = b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    big_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"
    with compose_web(config, tmp_path) as (address, log):
        answers = [raw_request(address, too_long), raw_request(address, big_header)]
        wait_until(lambda: log.read_text().count("Invalid request") >= 2, 10, "its warnings")
    for (status, content_type, body), expected in zip(answers, (414, 431), strict=True):
        assert (status, content_type) == (expected, "application/problem+json")
        doc = json.loads(body)
        assert doc["status"] == expected and doc["errors"] == [] and doc["detail"]
    warnings = [line for line in log.read_text().splitlines() if "Invalid request" in line]
    assert len(warnings) == 2
    assert not any("127.0.0.1" in line for line in warnings)
