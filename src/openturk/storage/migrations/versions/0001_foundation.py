"""Foundation: requesters, credentials, the double-entry ledger, marketplace state.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from openturk.storage.types import BigIntId, UtcTimestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    marketplace = op.create_table(
        "marketplace",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("clock_offset_us", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint("id = 1", name="single_row"),
    )
    accounts = op.create_table(
        "accounts",
        sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(128), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("debits_posted", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("credits_posted", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("no_overdraft", sa.Boolean, nullable=False),
        sa.CheckConstraint("debits_posted >= 0 AND credits_posted >= 0", name="posted_not_negative"),
        sa.CheckConstraint(
            "kind IN ('requester', 'worker', 'escrow', 'revenue', 'funding')", name="known_kind"
        ),
        sa.CheckConstraint("NOT no_overdraft OR debits_posted <= credits_posted", name="no_overdraft"),
    )
    op.create_table(
        "requesters",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("account_id", BigIntId, sa.ForeignKey("accounts.id"), nullable=False, unique=True),
        sa.Column("created_at", UtcTimestamp, nullable=False),
    )
    op.create_table(
        "credentials",
        sa.Column("access_key_id", sa.String(128), primary_key=True),
        sa.Column("secret_access_key", sa.String(128), nullable=False),
        sa.Column("requester_id", sa.String(32), sa.ForeignKey("requesters.id"), nullable=False, index=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("created_at", UtcTimestamp, nullable=False),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", UtcTimestamp, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("requester_id", sa.String(32), nullable=True, index=True),
        sa.Column("worker_id", sa.String(64), nullable=True, index=True),
        sa.Column("hit_id", sa.String(64), nullable=True),
        sa.Column("assignment_id", sa.String(64), nullable=True),
        sa.Column("memo", sa.Text, nullable=True),
    )
    op.create_index("ix_journal_entries_created_at_id", "journal_entries", ["created_at", "id"])
    op.create_table(
        "postings",
        sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
        sa.Column("entry_id", BigIntId, sa.ForeignKey("journal_entries.id"), nullable=False, index=True),
        sa.Column("debit_account_id", BigIntId, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("credit_account_id", BigIntId, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name="positive_amount"),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
    )
    op.bulk_insert(marketplace, [{"id": 1, "clock_offset_us": 0}])
    # The marketplace's own books: where deposits come from and where fees go.
    op.bulk_insert(
        accounts,
        [
            {
                "code": "deposits",
                "kind": "funding",
                "debits_posted": 0,
                "credits_posted": 0,
                "no_overdraft": False,
            },
            {
                "code": "fees",
                "kind": "revenue",
                "debits_posted": 0,
                "credits_posted": 0,
                "no_overdraft": True,
            },
        ],
    )


def downgrade() -> None:
    for table in ("postings", "journal_entries", "credentials", "requesters", "accounts", "marketplace"):
        op.drop_table(table)
