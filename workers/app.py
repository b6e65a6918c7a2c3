"""The only place that builds the Flask app for Celery: ``celery -A workers.app worker``."""

from __future__ import annotations

from service import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]

# Task modules register with @shared_task; importing them here makes the worker know them.
import workers.spam  # noqa: E402
import workers.webhooks  # noqa: E402, F401
