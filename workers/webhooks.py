"""Webhook tasks: make one delivery attempt; queue what is due from the outbox."""

from __future__ import annotations

import random
import time

from celery import shared_task
from flask import current_app

from service.db import session_scope, utcnow
from service.extensions import sessions, vault
from service.webhooks import signing, transport
from service.webhooks.delivery import claim_attempt, due_dispatches, record_attempt
from service.webhooks.dispatch import DELIVER, DISPATCH_DUE, send_dispatches
from service.webhooks.log import prune_log
from service.webhooks.options import WebhookOptions

# Jitter needs no cryptographic randomness, only a different draw per worker.
_rng = random.Random()


@shared_task(name=DELIVER, acks_late=True)  # type: ignore[untyped-decorator]
def deliver(delivery_id: int) -> str | None:
    """Makes the due attempt of one delivery, records it, and queues what follows.

    Idempotent: a delivery that is not due, already leased or already settled is left alone. A
    failed attempt is not a task failure: its retry is scheduled in the database.
    """
    options = WebhookOptions.from_config(current_app.config)
    factory = sessions()
    with session_scope(factory) as session:
        job = claim_attempt(session, vault(), delivery_id, utcnow())
        session.commit()
    if job is None:
        return None
    timestamp = int(time.time())
    headers = signing.headers(job.message_id, timestamp, job.body, job.secrets)
    result = transport.deliver(
        job.url,
        headers,
        job.body,
        allowlist=options.allowlist,
        allow_http=options.allow_http,
    )
    with session_scope(factory) as session:
        follow_ups = record_attempt(session, job, timestamp, result, options, utcnow(), _rng)
        session.commit()
    send_dispatches(current_app._get_current_object(), follow_ups)  # type: ignore[attr-defined]
    return str(result.status or result.error)


@shared_task(name=DISPATCH_DUE, acks_late=True)  # type: ignore[untyped-decorator]
def dispatch_due_deliveries() -> int:
    """Queues deliveries due before the next run and those whose task never ran; prunes the log."""
    options = WebhookOptions.from_config(current_app.config)
    now = utcnow()
    with session_scope(sessions()) as session:
        dispatches = due_dispatches(session, options, now)
        # A few hundred old events per run keeps each run short and still outpaces any site.
        prune_log(session, now - options.log_retention)
        session.commit()
    return send_dispatches(current_app._get_current_object(), dispatches)  # type: ignore[attr-defined]
