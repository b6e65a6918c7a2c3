"""listed comments: a comment no longer public stays in its thread while replies hang under it

Revision ID: 0007_listed_comments
Revises: 0006_site_feedback_memory
Create Date: 2026-11-29 14:30:00.000000

Rejecting, deleting or erasing a comment hid every approved reply under it, while the article's
count still included them. ``listed`` marks what the public thread shows: approved comments,
and the ones above a listed reply (shown as "removed"). The thread's indexes read it instead
of the status.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_listed_comments"
down_revision = "0006_site_feedback_memory"
branch_labels = None
depends_on = None

LISTED_ROOTS = {
    "postgresql": "listed = true AND parent_id IS NULL",
    "sqlite": "listed = 1 AND parent_id IS NULL",
}
APPROVED_ROOTS = sa.text("status = 'approved' AND parent_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("listed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_index("ix_comments_published_roots")
        batch_op.drop_index("ix_comments_root")
    op.execute("UPDATE comments SET listed = (status = 'approved')")
    # Then, level by level up the chains, every comment above a listed reply.
    connection = op.get_bind()
    lift = sa.text(
        "UPDATE comments SET listed = true WHERE NOT listed AND id IN"
        " (SELECT parent_id FROM comments WHERE listed AND parent_id IS NOT NULL)"
    )
    while connection.execute(lift).rowcount:
        pass
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_published_roots",
            ["article_id", "featured", "created_at", "id"],
            unique=False,
            postgresql_where=sa.text(LISTED_ROOTS["postgresql"]),
            sqlite_where=sa.text(LISTED_ROOTS["sqlite"]),
        )
        batch_op.create_index(
            "ix_comments_listed_replies", ["root_id", "listed", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_listed_replies")
        batch_op.drop_index("ix_comments_published_roots")
        batch_op.create_index("ix_comments_root", ["root_id", "status", "created_at"], unique=False)
        batch_op.create_index(
            "ix_comments_published_roots",
            ["article_id", "featured", "created_at", "id"],
            unique=False,
            postgresql_where=APPROVED_ROOTS,
            sqlite_where=APPROVED_ROOTS,
        )
        batch_op.drop_column("listed")
