"""site feedback memory: drop site models adapted the old way, so beat adapts them again

Revision ID: 0006_site_feedback_memory
Revises: 0005_thread_indexes
Create Date: 2026-11-29 12:00:00.000000

Site models now carry a memory of their labelled texts and no fitted base weight (site format
2, classifier.SiteModel); older blobs cannot be read and were scored with the base model
instead. Deleting them makes every site with feedback stale (learning.stale_site_ids), so the
beat task re-adapts each from its feedback, which stays untouched.
"""

from __future__ import annotations

from alembic import op

revision = "0006_site_feedback_memory"
down_revision = "0005_thread_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM site_spam_models")


def downgrade() -> None:
    # Nothing to restore: the older code re-adapts every site with feedback and no model.
    op.execute("DELETE FROM site_spam_models")
