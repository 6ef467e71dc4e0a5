"""Bonuses: one row per payment, tied to exactly one journal entry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openturk.storage.types import BigIntId, UtcTimestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bonuses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("hit_id", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", UtcTimestamp(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("unique_request_token", sa.String(length=64), nullable=True),
        sa.Column("entry_id", BigIntId, nullable=False),
        sa.CheckConstraint("amount_cents > 0 AND fee_cents >= 0", name=op.f("ck_bonuses_positive_amount")),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_bonuses_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_bonuses_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_bonuses_hit_id_hits")),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_bonuses_requester_id_requesters")
        ),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_bonuses_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonuses")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_bonuses_entry_id")),
    )
    op.create_index(
        "ix_bonuses_assignment_id_granted_at_id",
        "bonuses",
        ["assignment_id", "granted_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_bonuses_hit_id_granted_at_id", "bonuses", ["hit_id", "granted_at", "id"], unique=False
    )
    op.create_index("ix_bonuses_worker_id", "bonuses", ["worker_id"], unique=False)


def downgrade() -> None:
    op.drop_table("bonuses")
