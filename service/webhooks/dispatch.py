"""Queuing delivery tasks on the broker, by name, after the transaction that wrote them.

The web side names tasks instead of importing ``workers``, so imports point one way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import Celery
from flask import Flask

from service.webhooks.delivery import Dispatch

log = logging.getLogger(__name__)

DELIVER = "workers.webhooks.deliver"
DISPATCH_DUE = "workers.webhooks.dispatch_due_deliveries"


def send_dispatches(app: Flask, dispatches: Iterable[Dispatch]) -> int:
    """Queues a delivery task per dispatch; how many were queued.

    Stops at the first broker failure: each further try would wait for the broker again, and
    the periodic job queues every delivery that no task took care of.
    """
    celery: Celery = app.extensions["celery"]
    sent = 0
    for dispatch in dispatches:
        try:
            celery.send_task(
                DELIVER,
                args=(dispatch.delivery_id,),
                countdown=dispatch.countdown or None,
                retry=False,
            )
        except Exception as exc:  # any broker failure: the delivery is committed, beat re-queues
            log.warning(
                "could not queue webhook delivery %s (%s); the periodic job will",
                dispatch.delivery_id,
                exc,
            )
            break
        sent += 1
    return sent
