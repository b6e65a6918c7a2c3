"""Vetted: comment submission, spam checks, moderation and public threads for news sites."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from celery import Celery, Task
from flask import Flask

from service import config as settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app: defaults, then VETTED_ environment variables, then ``config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(copy.deepcopy(settings.DEFAULTS))
    app.config.from_prefixed_env("VETTED")
    if config:
        overrides = dict(config)
        # CELERY is merged, not replaced, so a test can change one Celery setting.
        app.config["CELERY"].update(overrides.pop("CELERY", {}))
        app.config.from_mapping(overrides)
    if app.config["INSTANCE_PATH"]:
        app.instance_path = str(app.config["INSTANCE_PATH"])
    logging.getLogger("service").setLevel(app.config["LOG_LEVEL"])

    from service import extensions, web

    extensions.init_app(app)
    web.init_app(app)

    from service.spam import hooks as spam_hooks

    spam_hooks.init_app(app)

    from service.comments.views import bp as comments_bp
    from service.meta.views import bp as meta_bp
    from service.moderation.views import bp as moderation_bp
    from service.widget.views import bp as widget_bp

    app.register_blueprint(comments_bp)
    app.register_blueprint(meta_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(widget_bp)

    from service import webhooks
    from service.webhooks.views import bp as webhooks_bp

    webhooks.init_app(app)
    app.register_blueprint(webhooks_bp)

    from service.cli import register_commands

    register_commands(app)
    celery_init_app(app)
    return app


def celery_init_app(app: Flask) -> Celery:
    """The Celery app, configured from ``app.config["CELERY"]``, running tasks in app context."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.beat_schedule = {**periodic_tasks(app), **app.config["CELERY"]["beat_schedule"]}
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def periodic_tasks(app: Flask) -> dict[str, dict[str, Any]]:
    """The jobs Celery beat runs, with intervals from the settings."""
    return {
        "requeue-unchecked-comments": {
            "task": "workers.spam.requeue_unchecked_comments",
            "schedule": float(app.config["SPAM_CHECK_REQUEUE_INTERVAL"]),
        },
        "dispatch-due-webhooks": {
            "task": "workers.webhooks.dispatch_due_deliveries",
            "schedule": float(app.config["WEBHOOK_DISPATCH_INTERVAL"]),
        },
        "retrain-site-spam-models": {
            "task": "workers.spam.retrain_site_models",
            "schedule": float(app.config["SPAM_RETRAIN_INTERVAL"]),
        },
    }
