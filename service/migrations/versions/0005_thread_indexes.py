"""Merge the domain branches; index the public thread's pages and replies' parents.

Revision ID: 0005_thread_indexes
Revises: 0003_webhooks, 0004_spam_learning
Create Date: 2026-11-29 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_thread_indexes"
down_revision = ("0003_webhooks", "0004_spam_learning")
branch_labels = None
depends_on = None

PUBLISHED_ROOTS = sa.text("status = 'approved' AND parent_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_published_roots",
            ["article_id", "featured", "created_at", "id"],
            unique=False,
            postgresql_where=PUBLISHED_ROOTS,
            sqlite_where=PUBLISHED_ROOTS,
        )
        batch_op.create_index("ix_comments_parent", ["parent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_parent")
        batch_op.drop_index("ix_comments_published_roots")
