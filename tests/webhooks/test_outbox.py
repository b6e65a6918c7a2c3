"""The outbox: events are stored with the change that caused them, for subscribed endpoints only."""

from __future__ import annotations

import datetime as dt

import orjson
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.comments.models import Comment, Status, Verdict
from service.comments.services import set_status
from service.db import utcnow
from service.events import EventType
from service.sites.models import Site
from service.webhooks.delivery import send_ping
from service.webhooks.models import Delivery, DeliveryState, Endpoint, Message
from service.webhooks.outbox import AFTER_COMMIT_KEY
from service.webhooks.schedule import DisableReason
from service.webhooks.services import disable_endpoint
from tests.webhooks.conftest import AUTHOR_ADDRESS, AUTHOR_EMAIL, register, submit

HOOK = "http://127.0.0.1:9/hook"
EVERY_EVENT = tuple(e.value for e in EventType if e != EventType.PING)


def messages(session: Session) -> list[Message]:
    return list(session.scalars(select(Message).order_by(Message.created_at)))


def deliveries(session: Session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_event_is_stored_with_the_comment_in_the_same_transaction(
    app: Flask, session: Session, site: Site
) -> None:
    issued = register(app, session, site, HOOK)

    comment = submit(app, session, site)

    [message] = messages(session)
    assert message.type == EventType.COMMENT_CREATED
    assert message.payload["data"]["comment"]["id"] == comment.id
    [delivery] = deliveries(session)
    assert (delivery.endpoint_id, delivery.message_id) == (issued.endpoint.id, message.id)
    assert delivery.state == DeliveryState.PENDING
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at <= utcnow()


def test_change_rolled_back_leaves_no_event(app: Flask, session: Session, site: Site) -> None:
    register(app, session, site, HOOK, EVERY_EVENT)
    comment = submit(app, session, site)

    set_status(session, comment, Status.APPROVED)
    assert len(messages(session)) == 3  # approved and count changed, not committed yet
    session.rollback()

    assert [m.type for m in messages(session)] == [EventType.COMMENT_CREATED]
    assert len(deliveries(session)) == 1
    assert AFTER_COMMIT_KEY not in session.info


def test_only_enabled_endpoints_subscribed_to_the_event_get_a_delivery(
    app: Flask, session: Session, site: Site, make_site: object
) -> None:
    wants = register(app, session, site, HOOK, ("comment.approved",)).endpoint
    register(app, session, site, HOOK, ("comment.rejected",))
    switched_off = register(app, session, site, HOOK, ("comment.approved",)).endpoint
    disable_endpoint(switched_off, DisableReason.MANUAL, "off", utcnow())
    other_site = make_site("other")  # type: ignore[operator]
    register(app, session, other_site, HOOK, ("comment.approved",))
    session.commit()
    comment = submit(app, session, site)
    assert deliveries(session) == []

    set_status(session, comment, Status.APPROVED)
    session.commit()

    [delivery] = deliveries(session)
    assert delivery.endpoint_id == wants.id
    assert session.get_one(Message, delivery.message_id).type == EventType.COMMENT_APPROVED


def test_payload_holds_site_article_and_public_comment_with_status_and_verdict(
    app: Flask, session: Session, site: Site
) -> None:
    register(app, session, site, HOOK, ("comment.approved",))
    comment = submit(app, session, site)
    comment.verdict = Verdict.HAM
    set_status(session, comment, Status.APPROVED)
    session.commit()

    [message] = messages(session)
    payload = message.payload
    assert payload["id"] == message.id and message.id.startswith("msg_")
    assert payload["type"] == "comment.approved"
    moment = dt.datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00"))
    assert abs(moment - utcnow()) < dt.timedelta(minutes=1)
    data = payload["data"]
    assert data["site"] == {"slug": "news", "name": "News"}
    assert data["article"] == {
        "id": comment.article_id,
        "key": "live",
        "url": "https://news.example/live",
        "title": "Live",
        "comment_count": 1,
    }
    assert data["comment"]["id"] == comment.id
    assert data["comment"]["author"]["name"] == "Ann"
    assert data["comment"]["body_html"] == comment.body_html
    assert (data["comment"]["status"], data["comment"]["verdict"]) == ("approved", "ham")


def test_no_payload_of_any_event_holds_the_email_or_the_address(
    app: Flask, session: Session, site: Site
) -> None:
    endpoint = register(app, session, site, HOOK, EVERY_EVENT).endpoint
    first = submit(app, session, site, "First.")
    second = submit(app, session, site, "Second.")
    for comment, status in [
        (first, Status.APPROVED),
        (second, Status.SPAM),
        (second, Status.REJECTED),
        (first, Status.DELETED),
    ]:
        set_status(session, comment, status)
    send_ping(session, site, endpoint, utcnow())
    session.commit()

    stored = session.get_one(Comment, first.id)
    secrets = [AUTHOR_EMAIL, "ann@", AUTHOR_ADDRESS, stored.email_digest, stored.ip_digest]
    sent = messages(session)
    assert {m.type.value for m in sent} == {*EVERY_EVENT, "ping"} - {"comment.edited"}
    for message in sent:
        body = orjson.dumps(message.payload).decode()
        assert all(secret and secret not in body for secret in secrets), message.type
        assert "@" not in body


def test_a_comments_events_share_a_sequence_and_counts_follow_their_article(
    app: Flask, session: Session, site: Site
) -> None:
    register(app, session, site, HOOK, EVERY_EVENT)
    comment = submit(app, session, site)
    set_status(session, comment, Status.APPROVED)
    session.commit()

    keys = {
        session.get_one(Message, d.message_id).type.value: d.sequence_key
        for d in deliveries(session)
    }
    assert keys == {
        "comment.created": f"comment:{comment.id}",
        "comment.approved": f"comment:{comment.id}",
        "article.comment_count_changed": f"article:{comment.article_id}",
    }


def test_site_without_endpoints_stores_no_events(app: Flask, session: Session, site: Site) -> None:
    comment = submit(app, session, site)
    set_status(session, comment, Status.APPROVED)
    session.commit()

    assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert session.scalar(select(func.count()).select_from(Endpoint)) == 0
