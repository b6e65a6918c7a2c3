"""Each site's spam model: the shared base model adapted to that site's labelled feedback.

A site's moderators' spam/ham decisions (and `vetted spam learn` imports) are stored as
SpamFeedback; retraining adapts the base model to the site's feedback and stores only the
site's part (classifier.SiteModel), so the base model is never changed and one site's
feedback never reaches another site's verdicts. Workers keep the models they loaded, keyed
by (site, trained_at): a retraining anywhere changes the key, so no worker scores with a
stale model.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db import utcnow
from service.sites.models import Site
from service.spam.classifier import (
    AdaptConfig,
    Scorer,
    SiteModel,
    SpamModel,
    adapt,
    load_base_model,
    load_model,
)
from service.spam.features import LabelledText
from service.spam.feedback import Label, Source, SpamFeedback, record_feedback
from service.spam.models import SiteSpamModel

log = logging.getLogger(__name__)

# Site models a process keeps in memory, least recently used first out (about 0.1-3 MB each).
SITE_MODEL_CACHE_SIZE = 64


@dataclass(frozen=True)
class FeedbackState:
    """How much feedback a site has: the count and the newest id (0 and 0 for none)."""

    count: int
    last_id: int


def base_model(path: Path | None = None) -> SpamModel:
    """The base model: the shipped one, or the file at ``path``; read once per process."""
    return load_base_model() if path is None else _model_at(Path(path).resolve())


@functools.lru_cache(maxsize=4)
def _model_at(path: Path) -> SpamModel:
    return load_model(path)


def feedback_state(session: Session, site_id: int) -> FeedbackState:
    """The site's feedback count and newest feedback id."""
    count, last_id = session.execute(
        select(func.count(SpamFeedback.id), func.max(SpamFeedback.id)).where(
            SpamFeedback.site_id == site_id
        )
    ).one()
    return FeedbackState(int(count or 0), int(last_id or 0))


def site_feedback(session: Session, site_id: int, limit: int) -> list[LabelledText]:
    """The site's most recent ``limit`` feedback texts, oldest first."""
    rows = session.execute(
        select(SpamFeedback.body, SpamFeedback.label)
        .where(SpamFeedback.site_id == site_id)
        .order_by(SpamFeedback.id.desc())
        .limit(limit)
    ).all()
    return [LabelledText(body, label == Label.SPAM) for body, label in reversed(rows)]


def is_stale(session: Session, site_id: int, base: SpamModel) -> bool:
    """Whether the site's stored model misses feedback, or has feedback to lose, or another base."""
    state = feedback_state(session, site_id)
    stored = session.get(SiteSpamModel, site_id)
    if stored is None:
        return state.count > 0
    return (
        stored.base_model_sha != base.fingerprint
        or stored.feedback_count != state.count
        or stored.last_feedback_id != state.last_id
    )


def retrain_site_model(session: Session, site: Site, base: SpamModel) -> SiteSpamModel | None:
    """Adapts the base model to the site's feedback now and stores it (flushed, not committed).

    With no feedback left (all erased) the site's model is removed and the base model scores
    its comments again; feedback with no words to learn from leaves no model either.
    """
    state = feedback_state(session, site.id)
    stored = session.get(SiteSpamModel, site.id)
    feedback = site_feedback(session, site.id, AdaptConfig().max_feedback)
    try:
        model = adapt(base, feedback) if feedback else None
    except ValueError as exc:  # only words teach: "!!!" reports leave nothing to learn
        log.info("site %s: no model from its feedback (%s)", site.id, exc)
        model = None
    if model is None:
        if stored is not None:
            session.delete(stored)
            session.flush()
        return None
    values = {
        "blob": model.to_bytes(),
        "feedback_count": state.count,
        "last_feedback_id": state.last_id,
        "base_model_sha": base.fingerprint,
        "trained_at": _later_than(stored.trained_at if stored else None),
    }
    if stored is None:
        stored = _insert(session, SiteSpamModel(site_id=site.id, **values))
    else:
        for name, value in values.items():
            setattr(stored, name, value)
    session.flush()
    log.info("site %s: model adapted to %s feedback texts", site.id, len(feedback))
    return stored


def _later_than(previous: dt.datetime | None) -> dt.datetime:
    """Now, or just after ``previous``: the cache key must change on every retraining."""
    now = utcnow()
    if previous is not None and now <= previous:
        return previous + dt.timedelta(microseconds=1)
    return now


def _insert(session: Session, row: SiteSpamModel) -> SiteSpamModel:
    """Inserts a site's first model; if a concurrent retraining inserted one first, updates it."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
        return row
    except IntegrityError:
        stored = session.get_one(SiteSpamModel, row.site_id, populate_existing=True)
        for name in ("blob", "feedback_count", "last_feedback_id", "base_model_sha"):
            setattr(stored, name, getattr(row, name))
        stored.trained_at = _later_than(stored.trained_at)
        return stored


def stale_site_ids(session: Session, base: SpamModel) -> list[int]:
    """Sites whose stored model no longer matches their feedback or the base model."""
    counts = (
        select(
            SpamFeedback.site_id.label("site_id"),
            func.count(SpamFeedback.id).label("count"),
            func.max(SpamFeedback.id).label("last_id"),
        )
        .group_by(SpamFeedback.site_id)
        .subquery()
    )
    with_feedback = {
        site_id: FeedbackState(int(count), int(last_id))
        for site_id, count, last_id in session.execute(select(counts))
    }
    stored = {
        row.site_id: row
        for row in session.execute(
            select(
                SiteSpamModel.site_id,
                SiteSpamModel.feedback_count,
                SiteSpamModel.last_feedback_id,
                SiteSpamModel.base_model_sha,
            )
        )
    }
    stale = set()
    for site_id in set(with_feedback) | set(stored):
        state = with_feedback.get(site_id, FeedbackState(0, 0))
        row = stored.get(site_id)
        if row is None or (
            row.base_model_sha != base.fingerprint
            or (row.feedback_count, row.last_feedback_id) != (state.count, state.last_id)
        ):
            stale.add(site_id)
    return sorted(stale)


class _SiteModelCache:
    """The site models this process loaded, by (site, trained_at, base), bounded in number."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._models: OrderedDict[int, tuple[tuple[dt.datetime, str], SiteModel]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, site_id: int, key: tuple[dt.datetime, str]) -> SiteModel | None:
        """The site's cached model if it was cached under ``key``."""
        with self._lock:
            found = self._models.get(site_id)
            if found is None or found[0] != key:
                return None
            self._models.move_to_end(site_id)
            return found[1]

    def put(self, site_id: int, key: tuple[dt.datetime, str], model: SiteModel) -> None:
        """Caches the site's model under ``key``, forgetting the least recently used."""
        with self._lock:
            self._models[site_id] = (key, model)
            self._models.move_to_end(site_id)
            while len(self._models) > self.size:
                self._models.popitem(last=False)

    def clear(self) -> None:
        """Forgets every cached model."""
        with self._lock:
            self._models.clear()


site_models = _SiteModelCache(SITE_MODEL_CACHE_SIZE)


def scorer_for(session: Session, site_id: int, base: SpamModel) -> Scorer:
    """The model that scores a site's comments: its adaptation if it has a current one."""
    found = session.execute(
        select(SiteSpamModel.trained_at, SiteSpamModel.base_model_sha).where(
            SiteSpamModel.site_id == site_id
        )
    ).one_or_none()
    if found is None or found.base_model_sha != base.fingerprint:
        # Adapted from another base model: the base scores until beat retrains the site.
        return base
    cached = site_models.get(site_id, (found.trained_at, base.fingerprint))
    if cached is not None:
        return cached
    # Read again with the blob, so the key always belongs to the blob cached under it.
    stored = session.get(SiteSpamModel, site_id, populate_existing=True)
    if stored is None or stored.base_model_sha != base.fingerprint:
        return base
    try:
        model = SiteModel.from_bytes(stored.blob, base)
    except ValueError as exc:  # written by another version: beat retrains it, base meanwhile
        log.warning("site %s: stored model unreadable (%s); scoring with the base", site_id, exc)
        return base
    site_models.put(site_id, (stored.trained_at, base.fingerprint), model)
    return model


def learn(
    session: Session, site: Site, examples: list[LabelledText], base: SpamModel
) -> SiteSpamModel | None:
    """Stores labelled examples as imported feedback and retrains the site's model at once.

    An example the site already imported with that label is not stored again: importing a
    file twice would otherwise double its weight in the site's model.
    """
    imported: set[tuple[str, Label]] = {
        (body, label)
        for body, label in session.execute(
            select(SpamFeedback.body, SpamFeedback.label).where(
                SpamFeedback.site_id == site.id, SpamFeedback.source == Source.IMPORT
            )
        )
    }
    for example in examples:
        label = Label.SPAM if example.is_spam else Label.HAM
        if (example.text, label) not in imported:
            imported.add((example.text, label))
            record_feedback(session, site, None, label, Source.IMPORT, body=example.text)
    session.flush()
    return retrain_site_model(session, site, base)
