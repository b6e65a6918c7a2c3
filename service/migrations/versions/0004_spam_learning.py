"""spam learning: each site's adaptation of the spam model to its feedback

Revision ID: 0004_spam_learning
Revises: 0002_moderation
Create Date: 2026-11-29 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_spam_learning"
# After 0002: a site's model is trained from spam_feedback, which 0002 creates.
down_revision = "0002_moderation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_spam_models",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("feedback_count", sa.Integer(), nullable=False),
        sa.Column("last_feedback_id", sa.Integer(), nullable=False),
        sa.Column("base_model_sha", sa.String(length=64), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("site_id"),
    )


def downgrade() -> None:
    op.drop_table("site_spam_models")
