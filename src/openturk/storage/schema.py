"""The tables, as SQLAlchemy Core metadata.

The ledger follows the transfer model: every ``posting`` moves a positive amount from one named debit
account to one named credit account, so each posting's two legs sum to zero by construction and the
database itself refuses an unbalanced or negative leg.  ``accounts`` caches the posted debits and credits
(updated in the same transaction as the posting) and a CHECK refuses any overdraft of an account that
must not go below zero.  ``openturk ledger audit`` re-adds the postings and compares.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from openturk.storage.types import BigIntId, UtcTimestamp

# Deterministic constraint names keep Alembic migrations portable between SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

marketplace = Table(
    "marketplace",
    metadata,
    # One row: state shared by every process, such as the offset of the marketplace clock.
    Column("id", Integer, primary_key=True),
    Column("clock_offset_us", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("id = 1", name="single_row"),
)

requesters = Table(
    "requesters",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("account_id", BigIntId, ForeignKey("accounts.id"), nullable=False, unique=True),
    Column("created_at", UtcTimestamp, nullable=False),
)

credentials = Table(
    "credentials",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    # Kept in clear because SigV4 and HMAC-SHA1 need the secret itself to verify a signature.
    Column("secret_access_key", String(128), nullable=False),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False, index=True),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", UtcTimestamp, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    # A stable name such as "requester:A1B2...", "fees", "deposits".
    Column("code", String(128), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("debits_posted", BigInteger, nullable=False, server_default="0"),
    Column("credits_posted", BigInteger, nullable=False, server_default="0"),
    # A credit-normal account that holds someone's money: it may never be debited below zero.
    Column("no_overdraft", Boolean, nullable=False),
    CheckConstraint("debits_posted >= 0 AND credits_posted >= 0", name="posted_not_negative"),
    CheckConstraint(
        "kind IN ('requester', 'worker', 'escrow', 'revenue', 'funding')", name="known_kind"
    ),
    CheckConstraint("NOT no_overdraft OR debits_posted <= credits_posted", name="no_overdraft"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("request_id", String(64), nullable=True),
    # Who and what the movement concerns, for exports and the worker's earnings view.
    Column("requester_id", String(32), nullable=True, index=True),
    Column("worker_id", String(64), nullable=True, index=True),
    Column("hit_id", String(64), nullable=True),
    Column("assignment_id", String(64), nullable=True),
    Column("memo", Text, nullable=True),
)

postings = Table(
    "postings",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("entry_id", BigIntId, ForeignKey("journal_entries.id"), nullable=False, index=True),
    Column("debit_account_id", BigIntId, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("credit_account_id", BigIntId, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    CheckConstraint("amount_cents > 0", name="positive_amount"),
    CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
)

Index("ix_journal_entries_created_at_id", journal_entries.c.created_at, journal_entries.c.id)
