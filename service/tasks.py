"""Sending tasks to the workers by name, after the transaction that needs them committed.

The web side names tasks instead of importing ``workers``, so imports point one way.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from flask import Flask, current_app

log = logging.getLogger(__name__)

CHECK_COMMENT = "workers.spam.check_comment"


def enqueue(task_name: str, *args: Any, app: Flask | None = None) -> bool:
    """Queues a task; False when the broker is unreachable (a periodic job catches up)."""
    celery: Celery = (app or current_app).extensions["celery"]
    try:
        celery.send_task(task_name, args=args, retry=False)
    except Exception as exc:  # any broker failure: the row is committed, beat re-queues it
        log.warning("could not queue %s%r (%s); the periodic job will retry", task_name, args, exc)
        return False
    return True
