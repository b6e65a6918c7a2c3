"""moderation: comment history, the append-only audit log, blocks, spam feedback

Revision ID: 0002_moderation
Revises: 0001_foundation
Create Date: 2026-11-29 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_moderation"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

# The audit log refuses UPDATE and DELETE in the database itself, not only in the ORM.
_POSTGRES_APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""
_SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_comment_id"), ["comment_id"], unique=False)
        batch_op.create_index("ix_audit_log_site", ["site_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_token_id"), ["token_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_APPEND_ONLY)
    else:
        for statement in _SQLITE_APPEND_ONLY:
            op.execute(statement)

    op.create_table(
        "blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("regex", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blocks_digest"), ["digest"], unique=False)
        batch_op.create_index("ix_blocks_site", ["site_id", "kind"], unique=False)

    op.create_table(
        "comment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("previous_body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("comment_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comment_changes_comment_id"), ["comment_id"], unique=False
        )

    op.create_table(
        "spam_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("spam_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spam_feedback_comment_id"), ["comment_id"], unique=False
        )
        batch_op.create_index("ix_spam_feedback_site", ["site_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spam_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_spam_feedback_site")
        batch_op.drop_index(batch_op.f("ix_spam_feedback_comment_id"))
    op.drop_table("spam_feedback")

    with op.batch_alter_table("comment_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_changes_comment_id"))
    op.drop_table("comment_changes")

    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_blocks_site")
        batch_op.drop_index(batch_op.f("ix_blocks_digest"))
    op.drop_table("blocks")

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_token_id"))
        batch_op.drop_index("ix_audit_log_site")
        batch_op.drop_index(batch_op.f("ix_audit_log_comment_id"))
    op.drop_table("audit_log")
