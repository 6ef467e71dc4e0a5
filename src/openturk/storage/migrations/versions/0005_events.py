"""Notification settings, the event outbox, review policy results and uploaded files.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openturk.storage.types import BigIntId, UtcTimestamp

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_settings",
        sa.Column("hit_type_id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=1024), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("event_types", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hit_type_id"], ["hit_types.id"], name=op.f("fk_notification_settings_hit_type_id_hit_types")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_notification_settings_requester_id_requesters")
        ),
        sa.PrimaryKeyConstraint("hit_type_id", name=op.f("pk_notification_settings")),
    )
    op.create_table(
        "event_outbox",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=1024), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("hit_id", sa.String(length=64), nullable=True),
        sa.Column("assignment_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UtcTimestamp(), nullable=False),
        sa.Column("claimed_until", UtcTimestamp(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("delivered_at", UtcTimestamp(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_event_outbox_requester_id_requesters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
    )
    op.create_index("ix_event_outbox_requester_id", "event_outbox", ["requester_id"], unique=False)
    op.create_index(
        "ix_event_outbox_delivered_at_next_attempt_at",
        "event_outbox",
        ["delivered_at", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "review_policies",
        sa.Column("hit_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_policy", sa.Text(), nullable=True),
        sa.Column("hit_policy", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_review_policies_hit_id_hits")),
        sa.PrimaryKeyConstraint("hit_id", name=op.f("pk_review_policies")),
    )
    op.create_table(
        "review_records",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("hit_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("action_id", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("question_id", sa.String(length=255), nullable=True),
        sa.Column("key", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("action_name", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=128), nullable=True),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_review_records_hit_id_hits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_records")),
    )
    op.create_index("ix_review_records_hit_id_id", "review_records", ["hit_id", "id"], unique=False)
    op.create_table(
        "uploaded_files",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("hit_id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("question_identifier", sa.String(length=255), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("storage_path", sa.String(length=512), nullable=True),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_uploaded_files_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_uploaded_files_hit_id_hits")),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_uploaded_files_requester_id_requesters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploaded_files")),
        sa.UniqueConstraint(
            "assignment_id",
            "question_identifier",
            name=op.f("uq_uploaded_files_assignment_id_question_identifier"),
        ),
    )


def downgrade() -> None:
    op.drop_table("uploaded_files")
    op.drop_index("ix_review_records_hit_id_id", table_name="review_records")
    op.drop_table("review_records")
    op.drop_table("review_policies")
    op.drop_index("ix_event_outbox_delivered_at_next_attempt_at", table_name="event_outbox")
    op.drop_index("ix_event_outbox_requester_id", table_name="event_outbox")
    op.drop_table("event_outbox")
    op.drop_table("notification_settings")
