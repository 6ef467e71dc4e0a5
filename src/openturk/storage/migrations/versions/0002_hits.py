"""HITs, HIT types, assignments, workers and request tokens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from openturk.storage.types import BigIntId, UtcTimestamp

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("subdivision", sa.String(length=3), nullable=True),
        sa.Column("account_id", BigIntId, nullable=False),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_workers_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
        sa.UniqueConstraint("account_id", name=op.f("uq_workers_account_id")),
    )
    op.create_table(
        "hit_types",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("keywords", sa.String(length=1000), nullable=True),
        sa.Column("reward_cents", sa.BigInteger(), nullable=False),
        sa.Column("assignment_duration_s", sa.BigInteger(), nullable=False),
        sa.Column("auto_approval_delay_s", sa.BigInteger(), nullable=False),
        sa.Column("qualification_requirements", sa.Text(), server_default="[]", nullable=False),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_hit_types_requester_id_requesters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hit_types")),
        sa.UniqueConstraint(
            "requester_id", "fingerprint", name=op.f("uq_hit_types_requester_id_fingerprint")
        ),
    )
    op.create_table(
        "request_tokens",
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.Column("expires_at", UtcTimestamp(), nullable=False),
        sa.Column("result_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_request_tokens_requester_id_requesters")
        ),
        sa.PrimaryKeyConstraint("requester_id", "token", name=op.f("pk_request_tokens")),
    )
    op.create_table(
        "hits",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("hit_type_id", sa.String(length=64), nullable=False),
        sa.Column("hit_group_id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("requester_annotation", sa.String(length=255), nullable=True),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.Column("expires_at", UtcTimestamp(), nullable=False),
        sa.Column("max_assignments", sa.Integer(), nullable=False),
        sa.Column("reward_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("escrow_account_id", BigIntId, nullable=False),
        sa.Column("num_pending", sa.Integer(), server_default="0", nullable=False),
        sa.Column("num_submitted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("num_approved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("num_rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("num_released", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_status", sa.String(length=32), server_default="NotReviewed", nullable=False),
        sa.Column("reviewing", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("expiry_settled", sa.Boolean(), server_default="0", nullable=False),
        sa.CheckConstraint(
            (
                "num_pending >= 0 AND num_submitted >= 0 AND num_approved >= 0 AND num_rejected >= 0 "
                "AND num_released >= 0 AND num_pending + num_submitted + num_approved + num_rejected "
                "+ num_released <= max_assignments"
            ),
            name=op.f("ck_hits_slots_add_up"),
        ),
        sa.CheckConstraint("reward_cents >= 0 AND fee_cents >= 0", name=op.f("ck_hits_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["escrow_account_id"], ["accounts.id"], name=op.f("fk_hits_escrow_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["hit_type_id"], ["hit_types.id"], name=op.f("fk_hits_hit_type_id_hit_types")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_hits_requester_id_requesters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hits")),
        sa.UniqueConstraint("escrow_account_id", name=op.f("uq_hits_escrow_account_id")),
    )
    op.create_index(
        "ix_hits_expiry_settled_expires_at", "hits", ["expiry_settled", "expires_at"], unique=False
    )
    op.create_index(op.f("ix_hits_hit_type_id"), "hits", ["hit_type_id"], unique=False)
    op.create_index(
        "ix_hits_requester_id_created_at_id", "hits", ["requester_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hit_id", sa.String(length=64), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("accepted_at", UtcTimestamp(), nullable=False),
        sa.Column("deadline_at", UtcTimestamp(), nullable=False),
        sa.Column("submitted_at", UtcTimestamp(), nullable=True),
        sa.Column("auto_approval_at", UtcTimestamp(), nullable=True),
        sa.Column("approved_at", UtcTimestamp(), nullable=True),
        sa.Column("rejected_at", UtcTimestamp(), nullable=True),
        sa.Column("returned_at", UtcTimestamp(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("requester_feedback", sa.String(length=1024), nullable=True),
        sa.CheckConstraint(
            "status IN ('Accepted', 'Submitted', 'Approved', 'Rejected', 'Returned', 'Abandoned')",
            name=op.f("ck_assignments_known_status"),
        ),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_assignments_hit_id_hits")),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_assignments_requester_id_requesters")
        ),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_assignments_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(
        "ix_assignments_hit_id_submitted_at_id", "assignments", ["hit_id", "submitted_at", "id"], unique=False
    )
    op.create_index(
        "ix_assignments_status_auto_approval_at", "assignments", ["status", "auto_approval_at"], unique=False
    )
    op.create_index(
        "ix_assignments_status_deadline_at", "assignments", ["status", "deadline_at"], unique=False
    )
    op.create_index(op.f("ix_assignments_worker_id"), "assignments", ["worker_id"], unique=False)
    op.create_index(
        "uq_assignments_live_hit_worker",
        "assignments",
        ["hit_id", "worker_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('Accepted', 'Submitted', 'Approved', 'Rejected')"),
        postgresql_where=sa.text("status IN ('Accepted', 'Submitted', 'Approved', 'Rejected')"),
    )
    op.add_column(
        "marketplace", sa.Column("token_key", sa.String(length=64), server_default="", nullable=False)
    )

    op.execute(sa.text("UPDATE marketplace SET token_key = :key").bindparams(key=secrets.token_hex(32)))


def downgrade() -> None:
    op.drop_column("marketplace", "token_key")
    for table in ("assignments", "hits", "request_tokens", "hit_types", "workers"):
        op.drop_table(table)
