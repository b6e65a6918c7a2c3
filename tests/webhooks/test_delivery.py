"""Delivering the outbox to a real receiver on 127.0.0.1, running the task's code in-process.

The real worker on a real broker is in test_worker.py; these tests drive the same task function
and services directly, which lets them move the clock.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from service.comments.models import Status
from service.comments.services import set_status
from service.db import session_scope, utcnow
from service.extensions import sessions, vault
from service.sites.models import Site
from service.webhooks import signing, transport
from service.webhooks.delivery import (
    Dispatch,
    claim_attempt,
    due_dispatches,
    record_attempt,
    redeliver,
)
from service.webhooks.forms import EndpointChanges
from service.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, Message
from service.webhooks.options import WebhookOptions
from service.webhooks.schedule import DisableReason
from service.webhooks.services import active_secrets, rotate_secret, update_endpoint
from tests.webhooks.conftest import RECEIVER_SETTINGS, Reply, register, submit
from workers.webhooks import deliver

if TYPE_CHECKING:
    from tests.webhooks.conftest import Receiver

EVENTS = ("comment.created", "comment.approved", "comment.deleted")


@pytest.fixture
def app(make_app: object) -> Flask:
    """Retries due at once (no waiting in these tests), to a receiver on 127.0.0.1."""
    made: Flask = make_app(  # type: ignore[operator]
        **RECEIVER_SETTINGS, WEBHOOK_RETRY_SCHEDULE=[0, 0, 0, 0, 0]
    )
    return made


def only_delivery(session: Session) -> Delivery:
    session.expire_all()
    [delivery] = session.scalars(select(Delivery))
    return delivery


def attempts_of(session: Session, delivery: Delivery) -> list[Attempt]:
    session.expire_all()
    query = select(Attempt).where(Attempt.delivery_id == delivery.id).order_by(Attempt.number)
    return list(session.scalars(query))


def fresh(session: Session, endpoint: Endpoint) -> Endpoint:
    session.expire_all()
    return session.get_one(Endpoint, endpoint.id)


def attempt_at(app: Flask, session: Session, delivery_id: int, now: dt.datetime) -> list[Dispatch]:
    """What the deliver task does, at a chosen time."""
    options = WebhookOptions.from_config(app.config)
    job = claim_attempt(session, vault(app), delivery_id, now)
    session.commit()
    assert job is not None, "the delivery was not due"
    stamp = int(time.time())
    headers = signing.headers(job.message_id, stamp, job.body, job.secrets)
    result = transport.deliver(
        job.url, headers, job.body, allowlist=options.allowlist, allow_http=options.allow_http
    )
    dispatches = record_attempt(session, job, stamp, result, options, now, random.Random(7))
    session.commit()
    return dispatches


def test_delivery_is_signed_and_verifies_with_the_reference_library(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    issued = register(app, session, site, receiver.url())
    comment = submit(app, session, site)

    deliver.run(only_delivery(session).id)

    [request] = receiver.requests
    payload = Webhook(issued.secret).verify(request.body, request.headers)
    message = session.get_one(Message, only_delivery(session).message_id)
    assert request.headers["webhook-id"] == message.id == payload["id"]
    assert payload["data"]["comment"]["id"] == comment.id
    assert request.headers["content-type"] == "application/json"
    delivery = only_delivery(session)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 1)


def test_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    register(app, session, site, receiver.url())
    receiver.respond_first(Reply(500, b"boom"), Reply(502), Reply(503, b"later"))
    submit(app, session, site)
    delivery_id = only_delivery(session).id

    for _ in range(4):
        deliver.run(delivery_id)

    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.requests) == 4
    delivery = only_delivery(session)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 4)
    log = attempts_of(session, delivery)
    assert [a.status_code for a in log] == [500, 502, 503, 200]
    assert [a.response_excerpt for a in log] == ["boom", "ok", "later", "ok"]
    assert all(a.next_attempt_at is not None for a in log[:3])
    assert log[3].next_attempt_at is None


def test_delivery_fails_for_good_once_the_schedule_is_used_up(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    endpoint = register(app, session, site, receiver.url()).endpoint
    receiver.respond(500)
    submit(app, session, site)
    delivery_id = only_delivery(session).id

    for _ in range(6):  # five scheduled attempts, then nothing is due any more
        deliver.run(delivery_id)

    assert len(receiver.requests) == 5
    delivery = only_delivery(session)
    assert (delivery.state, delivery.next_attempt_at) == (DeliveryState.FAILED, None)
    assert fresh(session, endpoint).enabled
    assert fresh(session, endpoint).failing_since is not None


def test_gone_disables_the_endpoint_at_once(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    endpoint = register(app, session, site, receiver.url()).endpoint
    receiver.respond(410, b"unsubscribed")
    submit(app, session, site)
    delivery_id = only_delivery(session).id

    deliver.run(delivery_id)
    deliver.run(delivery_id)

    assert len(receiver.requests) == 1
    gone = fresh(session, endpoint)
    assert (gone.enabled, gone.disabled_reason) == (False, DisableReason.GONE)
    assert gone.disabled_detail is not None and "410" in gone.disabled_detail
    # Its pending deliveries wait for the endpoint to be enabled again; nothing is dropped.
    assert only_delivery(session).state == DeliveryState.PENDING


def test_endpoint_failing_for_longer_than_the_setting_is_disabled_with_the_reason(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    endpoint = register(app, session, site, receiver.url()).endpoint
    receiver.respond(500)
    submit(app, session, site)
    start = utcnow()
    delivery_id = only_delivery(session).id

    attempt_at(app, session, delivery_id, start)
    attempt_at(app, session, delivery_id, start + dt.timedelta(days=4))
    assert fresh(session, endpoint).enabled
    attempt_at(app, session, delivery_id, start + dt.timedelta(days=5, seconds=1))

    failing = fresh(session, endpoint)
    assert (failing.enabled, failing.disabled_reason) == (False, DisableReason.FAILING)
    assert failing.disabled_detail is not None
    assert (
        "HTTP 500" in failing.disabled_detail
        and start.date().isoformat() in failing.disabled_detail
    )


def test_success_ends_the_run_of_failures(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    endpoint = register(app, session, site, receiver.url()).endpoint
    receiver.respond_first(Reply(500))
    submit(app, session, site)
    start = utcnow()
    delivery_id = only_delivery(session).id

    attempt_at(app, session, delivery_id, start)
    attempt_at(app, session, delivery_id, start + dt.timedelta(days=4))
    assert fresh(session, endpoint).failing_since is None


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_on_429_and_503(
    make_app: object, session: Session, site: Site, receiver: Receiver, status: int
) -> None:
    app = make_app(**RECEIVER_SETTINGS, WEBHOOK_RETRY_SCHEDULE=[0, 5, 5])  # type: ignore[operator]
    register(app, session, site, receiver.url())
    receiver.respond(status, headers={"Retry-After": "600"})
    submit(app, session, site)
    now = utcnow()

    dispatches = attempt_at(app, session, only_delivery(session).id, now)

    delivery = only_delivery(session)
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at - now >= dt.timedelta(seconds=600)
    # A wait that long is left to the periodic job, not to a broker countdown.
    assert dispatches == []
    assert delivery.dispatched_at is None


def test_redirect_is_a_failure_and_is_not_followed(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    register(app, session, site, receiver.url())
    receiver.respond(302, b"", {"Location": "http://10.0.0.1/internal"})
    submit(app, session, site)

    deliver.run(only_delivery(session).id)

    assert [r.path for r in receiver.requests] == ["/hook"]
    delivery = only_delivery(session)
    assert delivery.state == DeliveryState.PENDING
    assert [a.status_code for a in attempts_of(session, delivery)] == [302]


def test_url_that_became_unsafe_is_refused_at_delivery(
    app: Flask, make_app: object, session: Session, site: Site, receiver: Receiver
) -> None:
    register(app, session, site, receiver.url())
    submit(app, session, site)
    # The same database served by an app without the allowlist, as after a settings change.
    strict = make_app(WEBHOOK_ALLOW_HTTP=True)  # type: ignore[operator]

    with strict.app_context():
        deliver.run(only_delivery(session).id)

    assert receiver.requests == []
    [attempt] = attempts_of(session, only_delivery(session))
    assert attempt.status_code is None
    assert attempt.error is not None and attempt.error.startswith("refused:")
    assert "127.0.0.1" in attempt.error


def test_later_event_of_a_comment_waits_for_the_earlier_one(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    register(app, session, site, receiver.url(), EVENTS)
    receiver.respond_first(Reply(500))
    comment = submit(app, session, site)
    submit(app, session, site, "Another one.")
    set_status(session, comment, Status.APPROVED)
    session.commit()
    created, created_other, approved = session.scalars(select(Delivery).order_by(Delivery.id))

    deliver.run(created.id)  # fails: stays pending, so the approval must wait
    deliver.run(approved.id)
    deliver.run(created_other.id)  # another comment is not held up

    assert len(receiver.requests) == 2
    options = WebhookOptions.from_config(app.config)
    assert approved.id not in {d.delivery_id for d in due_dispatches(session, options, utcnow())}
    session.rollback()

    follow_ups = attempt_at(app, session, created.id, utcnow())

    assert follow_ups == [Dispatch(approved.id, 0.0)]
    deliver.run(approved.id)
    types = [r.body.split(b'"type":"')[1].split(b'"')[0] for r in receiver.requests]
    assert types == [
        b"comment.created",
        b"comment.created",
        b"comment.created",
        b"comment.approved",
    ]


def test_a_delivery_is_attempted_once_when_two_tasks_claim_it(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    register(app, session, site, receiver.url())
    submit(app, session, site)
    delivery_id = only_delivery(session).id
    now = utcnow()

    first = claim_attempt(session, vault(app), delivery_id, now)
    session.commit()
    second = claim_attempt(session, vault(app), delivery_id, now)
    session.commit()

    assert first is not None
    assert second is None


def test_periodic_job_queues_again_a_delivery_whose_task_never_ran(
    app: Flask, session: Session, site: Site
) -> None:
    register(app, session, site, "http://127.0.0.1:9/hook")
    submit(app, session, site)
    options = WebhookOptions.from_config(app.config)
    delivery_id = only_delivery(session).id
    now = utcnow()

    assert due_dispatches(session, options, now) == []  # its task was just queued
    later = now + options.redispatch_after + dt.timedelta(seconds=1)
    assert due_dispatches(session, options, later) == [Dispatch(delivery_id, 0.0)]
    session.commit()
    assert due_dispatches(session, options, later) == []  # queued again once, not every run


def test_periodic_job_queues_a_long_retry_only_shortly_before_it_is_due(
    make_app: object, session: Session, site: Site, receiver: Receiver
) -> None:
    app = make_app(**RECEIVER_SETTINGS, WEBHOOK_RETRY_SCHEDULE=[0, 300])  # type: ignore[operator]
    register(app, session, site, receiver.url())
    receiver.respond(500)
    submit(app, session, site)
    options = WebhookOptions.from_config(app.config)
    now = utcnow()
    attempt_at(app, session, only_delivery(session).id, now)
    due = only_delivery(session).next_attempt_at
    assert due is not None and due - now > dt.timedelta(seconds=240)

    assert due_dispatches(session, options, now + dt.timedelta(seconds=60)) == []
    [dispatch] = due_dispatches(session, options, due - dt.timedelta(seconds=10))

    assert 0 < dispatch.countdown <= options.dispatch_interval


def test_during_a_rotation_both_secrets_sign_until_the_grace_ends(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    issued = register(app, session, site, receiver.url())
    now = utcnow()
    new_secret = rotate_secret(session, vault(app), issued.endpoint, dt.timedelta(hours=1), now)
    session.commit()
    submit(app, session, site)

    deliver.run(only_delivery(session).id)

    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split()) == 2
    for secret in (issued.secret, new_secret):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "comment.created"
    after_grace = now + dt.timedelta(hours=1, seconds=1)
    assert active_secrets(vault(app), issued.endpoint, after_grace) == [new_secret]


def test_redelivery_sends_the_same_webhook_id_again(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    issued = register(app, session, site, receiver.url())
    submit(app, session, site)
    deliver.run(only_delivery(session).id)
    original = only_delivery(session)

    again = redeliver(session, issued.endpoint, original, utcnow())
    session.commit()
    deliver.run(again.id)

    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert again.redelivery_of == original.id


def test_disabled_endpoint_keeps_its_deliveries_until_it_is_enabled(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    issued = register(app, session, site, receiver.url())
    options = WebhookOptions.from_config(app.config)
    update_endpoint(session, issued.endpoint, EndpointChanges(enabled=False), options)
    session.commit()
    submit(app, session, site)
    assert session.scalars(select(Delivery)).all() == []  # new events skip a disabled endpoint

    update_endpoint(session, issued.endpoint, EndpointChanges(enabled=True), options)
    session.commit()
    submit(app, session, site, "While enabled.")
    update_endpoint(session, issued.endpoint, EndpointChanges(enabled=False), options)
    session.commit()
    delivery_id = only_delivery(session).id
    deliver.run(delivery_id)
    assert receiver.requests == []

    update_endpoint(session, issued.endpoint, EndpointChanges(enabled=True), options)
    session.commit()
    [dispatch] = due_dispatches(session, options, utcnow())
    deliver.run(dispatch.delivery_id)

    assert len(receiver.requests) == 1
    assert only_delivery(session).state == DeliveryState.DELIVERED


def test_redelivering_a_delivery_that_waits_for_a_retry_tries_it_now(
    make_app: object, session: Session, site: Site, receiver: Receiver
) -> None:
    app = make_app(**RECEIVER_SETTINGS, WEBHOOK_RETRY_SCHEDULE=[0, 3600])  # type: ignore[operator]
    issued = register(app, session, site, receiver.url())
    receiver.respond_first(Reply(500))
    submit(app, session, site)
    waiting = only_delivery(session)
    with app.app_context():
        deliver.run(waiting.id)
    assert only_delivery(session).next_attempt_at > utcnow() + dt.timedelta(minutes=50)  # type: ignore[operator]

    again = redeliver(session, issued.endpoint, only_delivery(session), utcnow())
    session.commit()
    with app.app_context():
        deliver.run(again.id)

    assert again.id == waiting.id
    assert only_delivery(session).state == DeliveryState.DELIVERED
    assert [r.headers["webhook-id"] for r in receiver.requests] == [
        receiver.requests[0].headers["webhook-id"]
    ] * 2


def test_a_task_that_read_the_delivery_before_another_attempt_does_not_repeat_it(
    app: Flask, session: Session, site: Site, receiver: Receiver
) -> None:
    register(app, session, site, receiver.url())
    receiver.respond(500)
    submit(app, session, site)
    delivery_id = only_delivery(session).id

    with session_scope(sessions(app)) as late:
        # Read (and held in its identity map), then held up while another task attempts.
        read = late.get_one(Delivery, delivery_id)
        attempt_at(app, session, delivery_id, utcnow())
        assert claim_attempt(late, vault(app), delivery_id, utcnow()) is None
        assert read.attempts == 0

    assert len(receiver.requests) == 1
