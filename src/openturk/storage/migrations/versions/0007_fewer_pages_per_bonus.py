"""Fewer b-trees written per money movement: bonuses keyed by their journal entry, postings by
(entry, n-th posting), and on SQLite both those and request tokens stored in key order.

A SendBonus wrote fifteen b-tree pages (on SQLite fifteen WAL frames, each a write of its own): among
them a bonus's random text key and its index, a unique index on its entry, the postings' row ids and
their index by entry, and the request tokens' row ids beside their (requester, token) key.  The bonus's
entry id already identifies it uniquely and only ever grows; postings are only ever looked up by their
entry; a token only by its key.  Nothing outside the database ever saw a bonus id (MTurk's
BonusPayment has none).  Eleven pages remain.

SendBonus tokens no longer point at their bonus by id: a bonus row carries the request id of the call
that paid it, which is its token's request id (the audit matches those).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from openturk.storage.types import BigIntId, UtcTimestamp

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD_BONUS_INDEXES = {
    "ix_bonuses_hit_id_granted_at_id": ["hit_id", "granted_at", "id"],
    "ix_bonuses_assignment_id_granted_at_id": ["assignment_id", "granted_at", "id"],
}
_NEW_BONUS_INDEXES = {
    "ix_bonuses_hit_id_granted_at_entry_id": ["hit_id", "granted_at", "entry_id"],
    "ix_bonuses_assignment_id_granted_at_entry_id": ["assignment_id", "granted_at", "entry_id"],
}
_CLAIM_COLUMNS = "requester_id, token, operation, request_id, created_at, expires_at, result_id"
_BONUS_COLUMNS = (
    "entry_id, requester_id, worker_id, assignment_id, hit_id, amount_cents, fee_cents, reason, "
    "granted_at, request_id, unique_request_token"
)
_POSTING_COLUMNS = "entry_id, debit_account_id, credit_account_id, amount_cents"
# A posting's number within its entry, in the order the postings were written (their old row ids).
_POSTING_SEQ = (
    "(SELECT count(*) FROM postings AS earlier "
    "WHERE earlier.entry_id = postings.entry_id AND earlier.id <= postings.id)"
)
# Going back, made-up ids: a bonus's from its entry, a posting's in (entry, number) order.
_OLD_BONUS_ID = "'B' || CAST(entry_id AS VARCHAR(20))"
_OLD_POSTING_ID = "ROW_NUMBER() OVER (ORDER BY entry_id, seq)"


def upgrade() -> None:
    op.execute("UPDATE request_tokens SET result_id = NULL WHERE operation = 'SendBonus'")
    for name in _OLD_BONUS_INDEXES:
        op.drop_index(name, table_name="bonuses")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot change a table's key, or make it WITHOUT ROWID, in place: each table is copied
        # into one of the new shape, which then takes the old one's name (and constraint names).
        _replace("request_tokens", _request_tokens(in_key_order=True), _CLAIM_COLUMNS, _CLAIM_COLUMNS)
        _replace("bonuses", _bonuses(by_entry=True), _BONUS_COLUMNS, _BONUS_COLUMNS)
        _replace(
            "postings",
            _postings(numbered=True),
            f"seq, {_POSTING_COLUMNS}",
            f"{_POSTING_SEQ}, {_POSTING_COLUMNS}",
        )
        op.create_index("ix_postings_credit_account_id", "postings", ["credit_account_id"])
    else:
        op.drop_constraint("pk_bonuses", "bonuses", type_="primary")
        op.drop_constraint("uq_bonuses_entry_id", "bonuses", type_="unique")
        op.drop_column("bonuses", "id")
        op.create_primary_key("pk_bonuses", "bonuses", ["entry_id"])

        op.add_column("postings", sa.Column("seq", sa.Integer(), nullable=True))
        op.execute(f"UPDATE postings SET seq = {_POSTING_SEQ}")  # noqa: S608  (constants only)
        op.drop_index("ix_postings_entry_id", table_name="postings")
        op.alter_column("postings", "seq", nullable=False)
        op.drop_constraint("pk_postings", "postings", type_="primary")
        op.drop_column("postings", "id")
        op.create_primary_key("pk_postings", "postings", ["entry_id", "seq"])
        op.create_check_constraint(op.f("ck_postings_seq_positive"), "postings", "seq > 0")
    for name, columns in _NEW_BONUS_INDEXES.items():
        op.create_index(name, "bonuses", columns)


def downgrade() -> None:
    for name in _NEW_BONUS_INDEXES:
        op.drop_index(name, table_name="bonuses")
    if op.get_bind().dialect.name == "sqlite":
        _replace("request_tokens", _request_tokens(in_key_order=False), _CLAIM_COLUMNS, _CLAIM_COLUMNS)
        _replace(
            "bonuses", _bonuses(by_entry=False), f"id, {_BONUS_COLUMNS}", f"{_OLD_BONUS_ID}, {_BONUS_COLUMNS}"
        )
        _replace(
            "postings",
            _postings(numbered=False),
            f"id, {_POSTING_COLUMNS}",
            f"{_OLD_POSTING_ID}, {_POSTING_COLUMNS}",
        )
        op.create_index("ix_postings_credit_account_id", "postings", ["credit_account_id"])
    else:
        op.add_column("bonuses", sa.Column("id", sa.String(length=64), nullable=True))
        op.execute(f"UPDATE bonuses SET id = {_OLD_BONUS_ID}")  # noqa: S608  (constants only)
        op.alter_column("bonuses", "id", nullable=False)
        op.drop_constraint("pk_bonuses", "bonuses", type_="primary")
        op.create_primary_key("pk_bonuses", "bonuses", ["id"])
        op.create_unique_constraint(op.f("uq_bonuses_entry_id"), "bonuses", ["entry_id"])

        op.drop_constraint(op.f("ck_postings_seq_positive"), "postings", type_="check")
        op.drop_constraint("pk_postings", "postings", type_="primary")
        op.add_column("postings", sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False))
        op.drop_column("postings", "seq")
        op.create_primary_key("pk_postings", "postings", ["id"])
    for name, columns in _OLD_BONUS_INDEXES.items():
        op.create_index(name, "bonuses", columns)
    op.create_index("ix_postings_entry_id", "postings", ["entry_id"])
    op.execute(
        "UPDATE request_tokens SET result_id = (SELECT bonuses.id FROM bonuses "
        "WHERE bonuses.request_id = request_tokens.request_id) WHERE operation = 'SendBonus'"
    )


def _replace(table: str, shape: tuple[list[Any], dict[str, Any]], columns: str, select: str) -> None:
    """``table`` rebuilt in ``shape`` (SQLite): a new table filled from it takes its name; the old
    one's indexes go with it."""
    elements, options = shape
    op.create_table(f"_new_{table}", *elements, **options)
    op.execute(f"INSERT INTO _new_{table} ({columns}) SELECT {select} FROM {table}")  # noqa: S608  (constants)
    op.drop_table(table)
    op.rename_table(f"_new_{table}", table)


def _request_tokens(*, in_key_order: bool) -> tuple[list[Any], dict[str, Any]]:
    return [
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
    ], {"sqlite_with_rowid": not in_key_order}


def _bonuses(*, by_entry: bool) -> tuple[list[Any], dict[str, Any]]:
    key: list[Any] = [
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_bonuses"))
        if by_entry
        else sa.PrimaryKeyConstraint("id", name=op.f("pk_bonuses")),
    ]
    if not by_entry:
        key = [
            sa.Column("id", sa.String(length=64), nullable=False),
            *key,
            sa.UniqueConstraint("entry_id", name=op.f("uq_bonuses_entry_id")),
        ]
    return [
        sa.Column("entry_id", BigIntId, nullable=False, autoincrement=False),
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
        sa.CheckConstraint("amount_cents > 0 AND fee_cents >= 0", name=op.f("ck_bonuses_positive_amount")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_bonuses_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_bonuses_requester_id_requesters")
        ),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_bonuses_worker_id_workers")),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_bonuses_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(["hit_id"], ["hits.id"], name=op.f("fk_bonuses_hit_id_hits")),
        *key,
    ], {}


def _postings(*, numbered: bool) -> tuple[list[Any], dict[str, Any]]:
    if numbered:
        key: list[Any] = [sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False)]
        constraints: list[Any] = [
            sa.CheckConstraint("seq > 0", name=op.f("ck_postings_seq_positive")),
            sa.PrimaryKeyConstraint("entry_id", "seq", name=op.f("pk_postings")),
        ]
    else:
        key = [sa.Column("id", BigIntId, nullable=False, autoincrement=True)]
        constraints = [sa.PrimaryKeyConstraint("id", name=op.f("pk_postings"))]
    return [
        sa.Column("entry_id", BigIntId, nullable=False, autoincrement=False),
        *key,
        sa.Column("debit_account_id", BigIntId, nullable=False),
        sa.Column("credit_account_id", BigIntId, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_postings_positive_amount")),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name=op.f("ck_postings_two_accounts")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"], ["accounts.id"], name=op.f("fk_postings_debit_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"], ["accounts.id"], name=op.f("fk_postings_credit_account_id_accounts")
        ),
        *constraints,
    ], {"sqlite_with_rowid": not numbered}
