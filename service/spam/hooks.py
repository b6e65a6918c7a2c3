"""After a transaction that stored spam feedback commits: retrain its sites, tell Akismet.

Feedback is recorded wherever a moderator decides (the review API, bulk decisions, imports),
so instead of every such view remembering to queue the follow-up tasks, the app's sessions
note new SpamFeedback rows when they are flushed and queue the tasks once the transaction
commits (Warehouse's pattern): a rolled-back decision queues nothing.
"""

from __future__ import annotations

import weakref
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.extensions import sessions
from service.spam.feedback import Source, SpamFeedback
from service.spam.options import akismet_settings
from service.tasks import enqueue

RETRAIN_SITE_MODEL = "workers.spam.retrain_site_model"
RETRAIN_SITE_MODELS = "workers.spam.retrain_site_models"
REPORT_TO_AKISMET = "workers.spam.report_to_akismet"

_SITES = "vetted.spam.retrain_sites"
_REPORTS = "vetted.spam.akismet_reports"


def init_app(app: Flask) -> None:
    """Watches the app's sessions for new spam feedback."""
    factory = sessions(app)
    report = akismet_settings(app.config) is not None
    # SQLAlchemy keeps session listeners as long as the session class lives, and the class
    # lives as long as the app: a strong reference from here would keep every app alive.
    app_ref = weakref.ref(app)

    def collect(session: Session, _context: Any) -> None:
        for obj in session.new:
            if isinstance(obj, SpamFeedback):
                session.info.setdefault(_SITES, set()).add(obj.site_id)
                if report and obj.source == Source.MODERATOR:
                    session.info.setdefault(_REPORTS, []).append(obj.id)

    def queue(session: Session) -> None:
        sites, reports = session.info.pop(_SITES, ()), session.info.pop(_REPORTS, ())
        app = app_ref()
        if app is None:
            return
        for site_id in sorted(sites):
            enqueue(RETRAIN_SITE_MODEL, site_id, app=app)
        for feedback_id in reports:
            enqueue(REPORT_TO_AKISMET, feedback_id, app=app)

    def forget(session: Session) -> None:
        session.info.pop(_SITES, None)
        session.info.pop(_REPORTS, None)

    event.listen(factory, "after_flush", collect)
    event.listen(factory, "after_commit", queue)
    event.listen(factory, "after_rollback", forget)
