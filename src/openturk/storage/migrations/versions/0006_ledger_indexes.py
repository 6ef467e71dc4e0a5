"""Drop the money tables' indexes that no query uses.

Every money movement writes a journal entry and its postings, every bonus a bonus row; each index on
those tables is one more b-tree page written (on SQLite one more WAL frame) per movement.  Nothing
looks journal entries up by requester, worker or time (the export walks them by id, a worker's
earnings start from the postings credited to the worker's account, the audit reads them whole),
postings by the account debited (the audit sums them all), or bonuses by worker.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_DROPPED = {
    "ix_journal_entries_created_at_id": ("journal_entries", ["created_at", "id"]),
    "ix_journal_entries_requester_id": ("journal_entries", ["requester_id"]),
    "ix_journal_entries_worker_id": ("journal_entries", ["worker_id"]),
    "ix_postings_debit_account_id": ("postings", ["debit_account_id"]),
    "ix_bonuses_worker_id": ("bonuses", ["worker_id"]),
}


def upgrade() -> None:
    for name, (table, _columns) in _DROPPED.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, (table, columns) in _DROPPED.items():
        op.create_index(name, table, columns)
