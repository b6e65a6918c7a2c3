"""The ``vetted`` command line: sites and tokens, with one-line errors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import Unauthorized
from service.moderation.models import Action, ApiToken, AuditEntry, Role
from service.moderation.tokens import authenticate
from service.sites.models import ModerationMode, Site
from tests.conftest import TEST_KEYS

VETTED = Path(sys.executable).with_name("vetted")


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def assert_one_line_error(result: Result, text: str) -> None:
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert text in lines[0]
    assert "Traceback" not in result.output


def sites(session: Session) -> dict[str, Site]:
    session.expire_all()
    return {s.slug: s for s in session.scalars(select(Site))}


def test_site_create_stores_the_site_with_its_policy(app: Flask, session: Session) -> None:
    result = run(
        app, "site", "create", "gazette", "--name", "The Gazette", "--moderation", "pre",
        "--origin", "https://gazette.example", "--origin", "https://www.gazette.example",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created site gazette (pre moderation)"
    site = sites(session)["gazette"]
    assert (site.name, site.moderation) == ("The Gazette", ModerationMode.PRE)
    assert site.setting("allowed_origins") == [
        "https://gazette.example",
        "https://www.gazette.example",
    ]


def test_site_create_defaults_to_post_moderation_named_after_the_slug(
    app: Flask, session: Session
) -> None:
    assert run(app, "site", "create", "daily").exit_code == 0
    site = sites(session)["daily"]
    assert (site.name, site.moderation) == ("daily", ModerationMode.POST)


def test_site_list_shows_every_site_by_slug(app: Flask, session: Session) -> None:
    run(app, "site", "create", "zeta", "--moderation", "trusted")
    run(app, "site", "create", "alpha", "--name", "Alpha News")
    result = run(app, "site", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["alpha\tpost\tAlpha News", "zeta\ttrusted\tzeta"]


def test_duplicate_site_is_a_one_line_error(app: Flask, session: Session) -> None:
    assert run(app, "site", "create", "daily").exit_code == 0
    assert_one_line_error(run(app, "site", "create", "daily"), "'daily' exists already")
    assert list(sites(session)) == ["daily"]


def test_site_create_if_missing_succeeds_quietly_when_it_exists(app: Flask) -> None:
    run(app, "site", "create", "daily")
    result = run(app, "site", "create", "daily", "--if-missing")
    assert result.exit_code == 0
    assert result.stdout.strip() == "site daily exists"


@pytest.mark.parametrize("slug", ["Bad Slug", "UPPER", "under_score", "x" * 65])
def test_invalid_slug_is_a_one_line_error(app: Flask, slug: str) -> None:
    assert_one_line_error(run(app, "site", "create", slug), "lowercase letters")


def test_token_create_prints_the_secret_once_and_stores_only_its_hash(
    app: Flask, session: Session, site: Site
) -> None:
    result = run(app, "token", "create", "--site", "news", "--role", "admin", "--label", "ed")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("vt_")
    assert len(result.stdout.splitlines()) == 1
    assert secret not in result.stderr
    session.expire_all()
    token = session.scalars(select(ApiToken)).one()
    assert (token.role, token.sites, token.label) == (Role.ADMIN, ["news"], "ed")
    stored = " ".join(str(getattr(token, c.key)) for c in ApiToken.__table__.columns)
    assert secret not in stored
    assert secret[10:] not in stored
    assert authenticate(session, secret).id == token.id
    listed = run(app, "token", "list").stdout
    assert secret not in listed
    assert f"{token.id}\t{secret[:10]}" in listed


def test_token_for_an_unknown_site_is_a_one_line_error(app: Flask, session: Session) -> None:
    assert_one_line_error(run(app, "token", "create", "--site", "nosuch"), "no site 'nosuch'")
    assert session.scalars(select(ApiToken)).all() == []


def test_token_revoke_stops_the_token_at_once(app: Flask, session: Session, site: Site) -> None:
    secret = run(app, "token", "create", "--site", "news").stdout.strip()
    token_id = authenticate(session, secret).id
    session.commit()
    result = run(app, "token", "revoke", str(token_id))
    assert result.exit_code == 0
    assert result.stdout.strip() == f"token {token_id} revoked"
    session.expire_all()
    with pytest.raises(Unauthorized, match="revoked"):
        authenticate(session, secret)
    assert "revoked" in run(app, "token", "list").stdout


def test_revoking_an_unknown_token_is_a_one_line_error(app: Flask, site: Site) -> None:
    assert_one_line_error(run(app, "token", "revoke", "999"), "no such token")


def test_the_installed_vetted_command_migrates_and_creates_sites(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTED_")}
    env.update({f"VETTED_{k}": v for k, v in TEST_KEYS.items()})
    env["VETTED_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env["VETTED_CELERY__broker_url"] = "memory://"

    def vetted(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VETTED), *args], env=env, capture_output=True, text=True, timeout=60
        )

    assert vetted("db", "upgrade").returncode == 0
    assert vetted("site", "create", "demo", "--moderation", "pre").returncode == 0
    listed = vetted("site", "list")
    assert listed.stdout.splitlines() == ["demo\tpre\tdemo"]
    duplicate = vetted("site", "create", "demo")
    assert duplicate.returncode == 1
    assert duplicate.stderr.strip() == "Error: A site named 'demo' exists already."
    # Flask's bare "run" is gone: no worker, and a request log of addresses and queries.
    commands = vetted("--help").stdout
    assert "  dev " in commands and "  routes " in commands and "  run " not in commands
    assert vetted("run").returncode == 2


@pytest.mark.parametrize(
    "args",
    [
        ["token", "create", "--site", "news", "--expires-in-days", "99999999999"],
        ["token", "create", "--site", "news", "--expires-in-days", "0"],  # expired on arrival
        ["token", "revoke", "99999999999999999999999"],
        ["webhook", "rotate", "99999999999999999999999"],
        # The API holds the old secret a day at most: the CLI took 1000 hours, and -5.
        ["webhook", "rotate", "1", "--grace-hours", "1000"],
        ["webhook", "rotate", "1", "--grace-hours", "-5"],
    ],
)
def test_numbers_out_of_range_are_usage_errors_not_tracebacks(
    app: Flask, site: Site, args: list[str]
) -> None:
    # Found by a QA walk-through: OverflowError tracebacks, or a token that never worked.
    result = run(app, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "range" in result.output


def test_token_list_for_an_unknown_site_is_a_one_line_error(app: Flask, site: Site) -> None:
    assert_one_line_error(run(app, "token", "list", "--site", "nosuch"), "no site 'nosuch'")


def test_site_create_checks_origins_as_the_settings_api_does(app: Flask, session: Session) -> None:
    result = run(app, "site", "create", "gazette", "--origin", "notanorigin")
    assert_one_line_error(result, "allowed_origins: 'notanorigin' is not an origin")
    assert "gazette" not in sites(session)


def test_tokens_made_and_revoked_on_the_command_line_are_in_the_audit_log(
    app: Flask, session: Session, site: Site
) -> None:
    # The docs promised it ("who: token and its label, or cli"); the CLI wrote nothing.
    assert run(app, "token", "create", "--site", "news", "--label", "ed").exit_code == 0
    token = session.scalars(select(ApiToken)).one()
    assert run(app, "token", "revoke", str(token.id)).exit_code == 0
    session.expire_all()
    lines = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject)).all()
    subject = f"token:{token.id}"
    assert sorted(lines) == sorted(
        [("cli", Action.TOKEN_CREATE, subject), ("cli", Action.TOKEN_REVOKE, subject)]
    )


def test_token_list_says_when_a_token_has_expired(app: Flask, session: Session, site: Site) -> None:
    assert run(app, "token", "create", "--site", "news", "--expires-in-days", "1").exit_code == 0
    token = session.scalars(select(ApiToken)).one()
    token.expires_at = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    assert "\texpired\t" in run(app, "token", "list").stdout
