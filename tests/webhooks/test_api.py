"""The webhook admin API, through the app's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy.orm import Session

from service.meta.openapi import openapi_document
from service.moderation.models import Role
from service.moderation.tokens import create_token
from service.sites.models import Site
from tests.webhooks.conftest import Reply, submit
from workers.webhooks import deliver

if TYPE_CHECKING:
    from tests.webhooks.conftest import Receiver

BASE = "/api/v1/sites/news/webhooks"


def create(client: FlaskClient, headers: dict[str, str], url: str, **fields: Any) -> Any:
    body = {"url": url, "events": ["comment.created", "comment.approved"], **fields}
    return client.post(BASE, json=body, headers=headers)


def test_registration_shows_the_secret_once_then_only_masked(
    client: FlaskClient, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    response = create(client, admin_headers, receiver.url(), description="Cache purge")

    assert response.status_code == 201
    created = response.json
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert response.headers["Location"] == f"{BASE}/{created['id']}"
    assert response.headers["Cache-Control"] == "no-store"
    assert created["events"] == ["comment.created", "comment.approved"]
    assert created["description"] == "Cache purge"
    assert created["enabled"] is True
    shown = client.get(f"{BASE}/{created['id']}", headers=admin_headers).json
    listed = client.get(BASE, headers=admin_headers).json["webhooks"]
    assert shown["secret"] == listed[0]["secret"] == "whsec_…" + created["secret"][-4:]
    assert created["secret"] not in str(client.get(BASE, headers=admin_headers).data)


def test_webhooks_need_an_admin_token_of_the_site(
    client: FlaskClient, session: Session, site: Site, make_site: Any
) -> None:
    make_site("other")
    moderator = create_token(session, ["news"], Role.MODERATOR).secret
    other_admin = create_token(session, ["other"], Role.ADMIN).secret
    session.commit()

    assert client.get(BASE).status_code == 401
    assert client.get(BASE, headers={"Authorization": "Bearer vt_nope"}).status_code == 401
    assert client.get(BASE, headers={"Authorization": f"Bearer {moderator}"}).status_code == 403
    # Another site's admin cannot even learn that the site exists.
    response = client.get(BASE, headers={"Authorization": f"Bearer {other_admin}"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_endpoint_of_another_site_is_not_found(
    client: FlaskClient, session: Session, make_site: Any, admin_headers: dict[str, str]
) -> None:
    make_site("other")
    token = create_token(session, ["other"], Role.ADMIN).secret
    session.commit()
    other = {"Authorization": f"Bearer {token}"}
    endpoint_id = client.post(
        "/api/v1/sites/other/webhooks",
        json={"url": "https://93.184.215.14/hook", "events": ["comment.created"]},
        headers=other,
    ).json["id"]

    assert client.get(f"{BASE}/{endpoint_id}", headers=admin_headers).status_code == 404
    assert client.delete(f"{BASE}/{endpoint_id}", headers=admin_headers).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0x7f000001/hook",
        "https://100.64.0.1/hook",
        "http://93.184.215.14/hook",
        "ftp://93.184.215.14/hook",
    ],
)
def test_registration_refuses_urls_that_are_not_public_https(
    make_app: Any, session: Session, site: Site, url: str
) -> None:
    strict = make_app()  # default settings: https only, no allowlist
    token = create_token(session, ["news"], Role.ADMIN).secret
    session.commit()

    response = strict.test_client().post(
        BASE,
        json={"url": url, "events": ["comment.created"]},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["url"]


def test_registration_refuses_a_host_name_resolving_to_a_private_address(
    make_app: Any, session: Session, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    fake = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: fake)
    token = create_token(session, ["news"], Role.ADMIN).secret
    session.commit()

    response = (
        make_app()
        .test_client()
        .post(
            BASE,
            json={"url": "https://cms.example.test/hook", "events": ["comment.created"]},
            headers={"Authorization": f"Bearer {token}"},
        )
    )

    assert response.status_code == 422
    assert "10.1.2.3" in response.json["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"events": ["comment.created"]}, ["url"]),
        ({"url": "https://93.184.215.14/"}, ["events"]),
        ({"url": "https://93.184.215.14/", "events": []}, ["events"]),
        ({"url": "https://93.184.215.14/", "events": ["comment.liked"]}, ["events"]),
        ({"url": "https://93.184.215.14/", "events": ["ping"]}, ["events"]),
        ({"url": "https://93.184.215.14/", "events": ["comment.created"], "x": 1}, ["x"]),
    ],
)
def test_invalid_registration_names_each_bad_field(
    client: FlaskClient, admin_headers: dict[str, str], body: dict[str, Any], fields: list[str]
) -> None:
    response = client.post(BASE, json=body, headers=admin_headers)

    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == fields


def test_update_changes_events_and_description_and_disabling_is_explained(
    client: FlaskClient, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    endpoint = create(client, admin_headers, receiver.url()).json
    url = f"{BASE}/{endpoint['id']}"

    changed = client.patch(
        url, json={"events": ["comment.deleted"], "description": "Search"}, headers=admin_headers
    )
    disabled = client.patch(url, json={"enabled": False}, headers=admin_headers)
    enabled = client.patch(url, json={"enabled": True, "description": None}, headers=admin_headers)

    assert changed.status_code == 200
    assert (changed.json["events"], changed.json["description"]) == (["comment.deleted"], "Search")
    assert disabled.json["enabled"] is False
    assert disabled.json["disabled_reason"] == "manual"
    assert disabled.json["disabled_at"] is not None
    assert (enabled.json["enabled"], enabled.json["disabled_reason"]) == (True, None)
    assert enabled.json["description"] is None
    refused = client.patch(url, json={"url": "https://10.0.0.1/"}, headers=admin_headers)
    assert refused.status_code == 422
    assert client.get(url, headers=admin_headers).json["url"] == receiver.url()


def test_deleted_endpoint_is_gone_with_its_log(
    app: Flask, client: FlaskClient, session: Session, site: Site,
    admin_headers: dict[str, str], receiver: Receiver,
) -> None:  # fmt: skip
    endpoint_id = create(client, admin_headers, receiver.url()).json["id"]
    submit(app, session, site)

    assert client.delete(f"{BASE}/{endpoint_id}", headers=admin_headers).status_code == 204

    assert client.get(f"{BASE}/{endpoint_id}", headers=admin_headers).status_code == 404
    assert client.get(BASE, headers=admin_headers).json["webhooks"] == []


def test_rotation_returns_a_new_secret_and_keeps_the_old_one_signing_for_a_while(
    client: FlaskClient, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    endpoint = create(client, admin_headers, receiver.url()).json
    url = f"{BASE}/{endpoint['id']}/rotate-secret"

    rotated = client.post(url, headers=admin_headers)
    ended = client.post(url, json={"grace_seconds": 0}, headers=admin_headers)
    refused = client.post(url, json={"grace_seconds": -1}, headers=admin_headers)

    assert rotated.status_code == 200
    assert rotated.json["secret"] != endpoint["secret"]
    assert rotated.json["previous_secret_expires_at"] is not None
    assert ended.json["secret"] not in {endpoint["secret"], rotated.json["secret"]}
    assert ended.json["previous_secret_expires_at"] is None
    assert refused.status_code == 422


def test_ping_and_the_delivery_log_show_each_attempt(
    client: FlaskClient, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    endpoint_id = create(client, admin_headers, receiver.url()).json["id"]
    receiver.respond_first(Reply(503, b"maintenance", {"Retry-After": "1"}))

    pinged = client.post(f"{BASE}/{endpoint_id}/ping", headers=admin_headers)
    assert pinged.status_code == 202
    assert (pinged.json["event"], pinged.json["state"]) == ("ping", "pending")
    deliver.run(pinged.json["id"])
    log = client.get(f"{BASE}/{endpoint_id}/deliveries", headers=admin_headers).json

    [entry] = log["deliveries"]
    assert entry["message_id"] == pinged.json["message_id"]
    assert entry["payload"]["data"]["endpoint"]["id"] == endpoint_id
    [attempt] = entry["attempts"]
    assert attempt["status_code"] == 503
    assert attempt["response"] == "maintenance"
    assert attempt["duration_ms"] >= 0
    assert attempt["next_attempt_at"] == entry["next_attempt_at"] is not None
    assert log["next_before"] is None


def test_delivery_log_pages_newest_first_and_filters_by_state(
    client: FlaskClient, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    endpoint_id = create(client, admin_headers, receiver.url()).json["id"]
    ids = [
        client.post(f"{BASE}/{endpoint_id}/ping", headers=admin_headers).json["id"]
        for _ in range(3)
    ]
    deliver.run(ids[0])
    log = f"{BASE}/{endpoint_id}/deliveries"

    first = client.get(f"{log}?limit=2", headers=admin_headers).json
    rest = client.get(f"{log}?limit=2&before={first['next_before']}", headers=admin_headers).json
    delivered = client.get(f"{log}?state=delivered", headers=admin_headers).json

    assert [d["id"] for d in first["deliveries"]] == [ids[2], ids[1]]
    assert [d["id"] for d in rest["deliveries"]] == [ids[0]]
    assert rest["next_before"] is None
    assert [d["id"] for d in delivered["deliveries"]] == [ids[0]]
    for bad in ("limit=0", "limit=x", "before=y", f"before={2**63}", "state=lost"):
        assert client.get(f"{log}?{bad}", headers=admin_headers).status_code == 422
    every = client.get(f"{log}?state=bogus&limit=900&before=x", headers=admin_headers)
    assert {e["field"] for e in every.json["errors"]} == {"state", "limit", "before"}


def test_redelivery_sends_the_event_again_as_a_new_delivery(
    client: FlaskClient, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    endpoint_id = create(client, admin_headers, receiver.url()).json["id"]
    original = client.post(f"{BASE}/{endpoint_id}/ping", headers=admin_headers).json
    deliver.run(original["id"])

    again = client.post(
        f"{BASE}/{endpoint_id}/deliveries/{original['id']}/redeliver", headers=admin_headers
    )
    deliver.run(again.json["id"])

    assert again.status_code == 202
    assert again.json["message_id"] == original["message_id"]
    assert again.json["redelivery_of"] == original["id"]
    assert [r.headers["webhook-id"] for r in receiver.requests] == [original["message_id"]] * 2
    shown = client.get(
        f"{BASE}/{endpoint_id}/deliveries/{again.json['id']}", headers=admin_headers
    ).json
    assert shown["state"] == "delivered"


def test_disabled_endpoint_cannot_be_pinged_or_redelivered_to(
    client: FlaskClient, admin_headers: dict[str, str], receiver: Receiver
) -> None:
    endpoint_id = create(client, admin_headers, receiver.url()).json["id"]
    ping = client.post(f"{BASE}/{endpoint_id}/ping", headers=admin_headers).json
    client.patch(f"{BASE}/{endpoint_id}", json={"enabled": False}, headers=admin_headers)

    pinged = client.post(f"{BASE}/{endpoint_id}/ping", headers=admin_headers)
    redelivered = client.post(
        f"{BASE}/{endpoint_id}/deliveries/{ping['id']}/redeliver", headers=admin_headers
    )

    assert pinged.status_code == redelivered.status_code == 409


def test_openapi_document_describes_the_webhook_api(client: FlaskClient) -> None:
    document = openapi_document()

    validate(document)
    assert {
        "/api/v1/sites/{site}/webhooks",
        "/api/v1/sites/{site}/webhooks/{endpoint_id}/rotate-secret",
        "/api/v1/sites/{site}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    } <= set(document["paths"])
    assert "WebhookPayload" in document["components"]["schemas"]
