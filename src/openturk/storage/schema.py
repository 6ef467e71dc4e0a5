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
    UniqueConstraint,
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
    # Signs pagination tokens so a client cannot forge a position in another query (migration 0002).
    Column("token_key", String(64), nullable=False, server_default=""),
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
    CheckConstraint("kind IN ('requester', 'worker', 'escrow', 'revenue', 'funding')", name="known_kind"),
    CheckConstraint("NOT no_overdraft OR debits_posted <= credits_posted", name="no_overdraft"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("request_id", String(64), nullable=True),
    # Who and what the movement concerns, for exports.  Not indexed (migration 0006): every movement
    # writes an entry, and nothing looks entries up by these.
    Column("requester_id", String(32), nullable=True),
    Column("worker_id", String(64), nullable=True),
    Column("hit_id", String(64), nullable=True),
    Column("assignment_id", String(64), nullable=True),
    Column("memo", Text, nullable=True),
)

# Keyed by (entry, its n-th posting) and, on SQLite, stored in that key's order (WITHOUT ROWID): a
# movement's postings are found by its entry without an index of their own to write (migration 0007).
postings = Table(
    "postings",
    metadata,
    Column("entry_id", BigIntId, ForeignKey("journal_entries.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    # Not indexed (migration 0006): only the audit reads postings by the account debited, all of them.
    Column("debit_account_id", BigIntId, ForeignKey("accounts.id"), nullable=False),
    Column("credit_account_id", BigIntId, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    CheckConstraint("amount_cents > 0", name="positive_amount"),
    CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
    CheckConstraint("seq > 0", name="seq_positive"),
    sqlite_with_rowid=False,
)

# --- HITs, assignments and workers (migration 0002) ----------------------------------------------

workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=True),
    Column("country", String(2), nullable=True),
    Column("subdivision", String(3), nullable=True),
    Column("account_id", BigIntId, ForeignKey("accounts.id"), nullable=False, unique=True),
    Column("created_at", UtcTimestamp, nullable=False),
)

hit_types = Table(
    "hit_types",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    # Registering the same properties again returns the same HIT type, as on MTurk.
    Column("fingerprint", String(64), nullable=False),
    Column("title", String(128), nullable=False),
    Column("description", String(2000), nullable=False),
    Column("keywords", String(1000), nullable=True),
    Column("reward_cents", BigInteger, nullable=False),
    Column("assignment_duration_s", BigInteger, nullable=False),
    Column("auto_approval_delay_s", BigInteger, nullable=False),
    # The QualificationRequirements list exactly as the model parsed it, as JSON.
    Column("qualification_requirements", Text, nullable=False, server_default="[]"),
    Column("created_at", UtcTimestamp, nullable=False),
    UniqueConstraint("requester_id", "fingerprint"),
)

hits = Table(
    "hits",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    Column("hit_type_id", String(64), ForeignKey("hit_types.id"), nullable=False, index=True),
    Column("hit_group_id", String(64), nullable=False),
    Column("question", Text, nullable=False),
    Column("requester_annotation", String(255), nullable=True),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("expires_at", UtcTimestamp, nullable=False),
    Column("max_assignments", Integer, nullable=False),
    # What one slot costs: the worker's reward and the marketplace's fee, fixed when it is reserved.
    Column("reward_cents", BigInteger, nullable=False),
    Column("fee_cents", BigInteger, nullable=False),
    Column("escrow_account_id", BigIntId, ForeignKey("accounts.id"), nullable=False, unique=True),
    # Counts kept with every state change, so listing and filtering need no aggregation.
    Column("num_pending", Integer, nullable=False, server_default="0"),
    Column("num_submitted", Integer, nullable=False, server_default="0"),
    Column("num_approved", Integer, nullable=False, server_default="0"),
    Column("num_rejected", Integer, nullable=False, server_default="0"),
    # Slots whose reserve went back to the requester because the HIT expired or was deleted unused.
    Column("num_released", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("review_status", String(32), nullable=False, server_default="NotReviewed"),
    Column("reviewing", Boolean, nullable=False, server_default="0"),
    Column("expiry_settled", Boolean, nullable=False, server_default="0"),
    CheckConstraint(
        "num_pending >= 0 AND num_submitted >= 0 AND num_approved >= 0 AND num_rejected >= 0 "
        "AND num_released >= 0 AND num_pending + num_submitted + num_approved + num_rejected + num_released "
        "<= max_assignments",
        name="slots_add_up",
    ),
    CheckConstraint("reward_cents >= 0 AND fee_cents >= 0", name="price_not_negative"),
)
Index("ix_hits_requester_id_created_at_id", hits.c.requester_id, hits.c.created_at, hits.c.id)
Index("ix_hits_expiry_settled_expires_at", hits.c.expiry_settled, hits.c.expires_at)

assignments = Table(
    "assignments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("hit_id", String(64), ForeignKey("hits.id"), nullable=False),
    Column("worker_id", String(64), ForeignKey("workers.id"), nullable=False, index=True),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("accepted_at", UtcTimestamp, nullable=False),
    Column("deadline_at", UtcTimestamp, nullable=False),
    Column("submitted_at", UtcTimestamp, nullable=True),
    Column("auto_approval_at", UtcTimestamp, nullable=True),
    Column("approved_at", UtcTimestamp, nullable=True),
    Column("rejected_at", UtcTimestamp, nullable=True),
    Column("returned_at", UtcTimestamp, nullable=True),
    Column("answer", Text, nullable=True),
    Column("requester_feedback", String(1024), nullable=True),
    CheckConstraint(
        "status IN ('Accepted', 'Submitted', 'Approved', 'Rejected', 'Returned', 'Abandoned')",
        name="known_status",
    ),
)
Index(
    "ix_assignments_hit_id_submitted_at_id",
    assignments.c.hit_id,
    assignments.c.submitted_at,
    assignments.c.id,
)
Index("ix_assignments_status_deadline_at", assignments.c.status, assignments.c.deadline_at)
Index("ix_assignments_status_auto_approval_at", assignments.c.status, assignments.c.auto_approval_at)
# A worker holds at most one live assignment per HIT (returned and abandoned ones may be taken again).
Index(
    "uq_assignments_live_hit_worker",
    assignments.c.hit_id,
    assignments.c.worker_id,
    unique=True,
    sqlite_where=assignments.c.status.in_(["Accepted", "Submitted", "Approved", "Rejected"]),
    postgresql_where=assignments.c.status.in_(["Accepted", "Submitted", "Approved", "Rejected"]),
)

request_tokens = Table(
    "request_tokens",
    metadata,
    # A UniqueRequestToken, written in the same transaction as what it guards; one live row per token.
    Column("requester_id", String(32), ForeignKey("requesters.id"), primary_key=True),
    Column("token", String(64), primary_key=True),
    Column("operation", String(64), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("expires_at", UtcTimestamp, nullable=False),
    # What the first call created (a HIT id), so a repeat can point at it.
    Column("result_id", String(64), nullable=True),
    # Stored in key order on SQLite: a claim writes one b-tree, not a row plus its key's index.
    sqlite_with_rowid=False,
)

# --- Bonuses (migration 0003) -----------------------------------------------------------------------

# A bonus is known by its journal entry (exactly one entry per bonus, never one entry for two): the
# entry's id is the bonus's key, so the row needs no key or unique index of its own (migration 0007).
bonuses = Table(
    "bonuses",
    metadata,
    Column("entry_id", BigIntId, ForeignKey("journal_entries.id"), primary_key=True, autoincrement=False),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    Column("worker_id", String(64), ForeignKey("workers.id"), nullable=False),
    Column("assignment_id", String(64), ForeignKey("assignments.id"), nullable=False),
    Column("hit_id", String(64), ForeignKey("hits.id"), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("fee_cents", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_at", UtcTimestamp, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("unique_request_token", String(64), nullable=True),
    CheckConstraint("amount_cents > 0 AND fee_cents >= 0", name="positive_amount"),
)
# Keyset paging of ListBonusPayments by HIT or by assignment, in grant order.
Index("ix_bonuses_hit_id_granted_at_entry_id", bonuses.c.hit_id, bonuses.c.granted_at, bonuses.c.entry_id)
Index(
    "ix_bonuses_assignment_id_granted_at_entry_id",
    bonuses.c.assignment_id,
    bonuses.c.granted_at,
    bonuses.c.entry_id,
)

# Later areas keep their tables in their own modules on this same metadata; importing them here makes
# `metadata` complete wherever the schema is imported (Alembic's comparison, create_all in tests).
from openturk.storage import schema_events as schema_events  # noqa: E402
from openturk.storage import schema_qualifications as schema_qualifications  # noqa: E402
