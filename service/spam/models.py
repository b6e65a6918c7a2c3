"""The spam domain's own table: each site's adaptation of the spam model (see learning.py).

Kept apart from learning.py so that importing the models (Alembic, every process) does not
import the classifier's scientific stack.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class SiteSpamModel(Base):
    """A site's adaptation of the base model to its feedback, as of its last training."""

    __tablename__ = "site_spam_models"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    # SiteModel.to_bytes(): a numpy archive of plain arrays, never a pickle.
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    # How many feedback rows there were, and the newest one's id, when it was trained: when
    # either differs now, the feedback changed (added or erased) and the model is stale.
    feedback_count: Mapped[int] = mapped_column(Integer)
    last_feedback_id: Mapped[int] = mapped_column(Integer)
    # The base model's fingerprint; a model adapted from another base is retrained.
    base_model_sha: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
