"""Webhooks: endpoints of a site's CMS, the outbox of events, and their signed delivery.

Owns the webhook_* tables. Its services import ``comments`` (the public presenter), ``sites``,
``privacy``, ``events``, ``db`` and ``errors``; only ``views``, ``cli`` and ``dispatch`` (the
edge) import Flask, and nothing here imports ``workers``.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Writes events to the outbox and queues their deliveries once each transaction commits."""
    from service import events
    from service.extensions import sessions
    from service.webhooks.delivery import Dispatch
    from service.webhooks.dispatch import send_dispatches
    from service.webhooks.outbox import forget_deliveries, record_event, take_committed_deliveries

    events.listen(record_event)

    # Weak: SQLAlchemy keeps these listeners as long as the app's session class, which the app
    # itself keeps; a strong reference would keep every app ever made alive.
    app_ref = weakref.ref(app)

    def queue_committed(session: Session) -> None:
        ids = take_committed_deliveries(session)
        app = app_ref()
        if ids and app is not None:
            send_dispatches(app, (Dispatch(delivery_id) for delivery_id in ids))

    def drop_rolled_back(session: Session, *_: Any) -> None:
        forget_deliveries(session)

    factory = sessions(app)
    event.listen(factory, "after_commit", queue_committed)
    event.listen(factory, "after_rollback", drop_rolled_back)
