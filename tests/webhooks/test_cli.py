"""``vetted webhook ...`` commands, run through Flask's CLI runner on a real database."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from service.sites.models import Site
from service.webhooks.models import Delivery, Endpoint
from workers.webhooks import deliver

if TYPE_CHECKING:
    from tests.webhooks.conftest import Receiver


def run(app: Flask, *args: str) -> tuple[int, str, str]:
    result = app.test_cli_runner().invoke(args=["webhook", *args])
    return result.exit_code, result.stdout, result.stderr


def endpoint(session: Session, endpoint_id: int) -> Endpoint:
    session.expire_all()
    return session.get_one(Endpoint, endpoint_id)


def test_create_prints_the_secret_once_and_list_masks_it(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    code, out, err = run(
        app, "create", "--site", "news", "--url", receiver.url(), "--event", "comment.created"
    )

    assert code == 0
    secret = out.strip()
    assert secret.startswith("whsec_")
    assert "webhook 1 on news" in err
    code, listed, _ = run(app, "list", "--site", "news")
    assert code == 0
    assert receiver.url() in listed and "comment.created" in listed and "enabled" in listed
    assert secret not in listed and secret[-4:] in listed


def test_ping_from_the_command_line_is_delivered_and_verifies(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    _, out, _ = run(
        app, "create", "--site", "news", "--url", receiver.url(), "--event", "comment.created"
    )

    code, pinged, _ = run(app, "ping", "1")
    [delivery] = session.scalars(select(Delivery))
    deliver.run(delivery.id)

    assert code == 0 and "ping queued" in pinged
    [request] = receiver.requests
    assert Webhook(out.strip()).verify(request.body, request.headers)["type"] == "ping"


def test_rotate_disable_enable_and_delete(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    _, first, _ = run(
        app, "create", "--site", "news", "--url", receiver.url(), "--event", "comment.created"
    )

    code, rotated, err = run(app, "rotate", "1", "--grace-hours", "2")
    assert code == 0 and rotated.strip().startswith("whsec_")
    assert rotated.strip() != first.strip()
    assert re.search(r"old secret signs too until \d{4}-\d\d-\d\dT[\d:.]+Z$", err.strip())
    assert run(app, "disable", "1")[0] == 0
    assert endpoint(session, 1).enabled is False
    assert run(app, "enable", "1")[0] == 0
    assert endpoint(session, 1).enabled is True
    assert run(app, "delete", "1")[0] == 0
    session.expire_all()
    assert session.get(Endpoint, 1) is None


def test_refused_url_and_unknown_endpoint_are_one_line_errors(make_app: object, site: Site) -> None:
    strict: Flask = make_app()  # type: ignore[operator]

    code, _, err = run(
        strict, "create", "--site", "news", "--url", "https://10.0.0.1/", "--event", "ping"
    )
    assert code == 2 and "ping" in err  # not a subscribable event
    code, _, err = run(
        strict, "create", "--site", "news", "--url", "https://10.0.0.1/", "--event",
        "comment.created",
    )  # fmt: skip
    assert code == 1 and "not a public address" in err and "Traceback" not in err
    code, _, err = run(strict, "ping", "99")
    assert code == 1 and "no webhook endpoint 99" in err
