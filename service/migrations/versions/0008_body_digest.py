"""body digest: the same text posted again is found through an index, not a scan of the site

Revision ID: 0008_body_digest
Revises: 0007_listed_comments
Create Date: 2026-11-29 15:00:00.000000

The REPEAT_POST check across articles compared bodies over every comment of the site (bodies
are too long to index): 10 ms a check at 8,000 comments, growing with the site. A digest of
the body, indexed with the site and the time, finds the same text in a few rows.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0008_body_digest"
down_revision = "0007_listed_comments"
branch_labels = None
depends_on = None

BATCH = 2000
# service.comments.models.body_digest as it is today, written out: a migration must not change
# when the code it once ran with does.


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_digest", sa.String(length=32), nullable=True))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, body FROM comments WHERE id > :last ORDER BY id LIMIT :batch"),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            break
        connection.execute(
            sa.text("UPDATE comments SET body_digest = :digest WHERE id = :id"),
            [
                {"id": row.id, "digest": hashlib.sha256(row.body.encode()).hexdigest()[:32]}
                for row in rows
                if row.body
            ]
            or [{"id": 0, "digest": None}],
        )
        last = rows[-1].id
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_body", ["site_id", "body_digest", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_body")
        batch_op.drop_column("body_digest")
