"""Tables of the qualification system, worker blocks and messages to workers (on the shared metadata).

System qualification types (approval rate, HITs approved, locale, adult, Masters) are rows of
``qualification_types`` with no owner, inserted by migration 0004 under their real MTurk ids, so that
listing, paging and requirement checks treat every type alike.  Their values are computed from the
worker's history and profile; a row in ``worker_qualifications`` for one of them is an administrator's
setting (Masters, adult) or override (approval rate, HITs approved).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from openturk.storage.schema import metadata
from openturk.storage.types import UtcTimestamp

LIVE_TYPE_STATUSES = ("Active", "Inactive")

qualification_types = Table(
    "qualification_types",
    metadata,
    Column("id", String(64), primary_key=True),
    # NULL for MTurk's system types, which no requester owns.
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=False),
    Column("keywords", Text, nullable=True),
    # Active, Inactive, or Disposed once deleted (shown as Disposing while HITs still use it).
    Column("status", String(16), nullable=False),
    Column("is_requestable", Boolean, nullable=False),
    Column("test", Text, nullable=True),
    Column("answer_key", Text, nullable=True),
    Column("test_duration_s", BigInteger, nullable=True),
    Column("retry_delay_s", BigInteger, nullable=True),
    Column("auto_granted", Boolean, nullable=False, server_default="0"),
    Column("auto_granted_value", Integer, nullable=True),
    # approval_rate, hits_approved, locale, adult, masters, sandbox_masters; NULL for requesters' types.
    Column("system_kind", String(32), nullable=True),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("disposed_at", UtcTimestamp, nullable=True),
)
Index("ix_qualification_types_created_at_id", qualification_types.c.created_at, qualification_types.c.id)
Index(
    "ix_qualification_types_requester_id_created_at_id",
    qualification_types.c.requester_id,
    qualification_types.c.created_at,
    qualification_types.c.id,
)
# A name is unique among one requester's live types; a deleted type frees its name at once.
Index(
    "uq_qualification_types_live_requester_name",
    qualification_types.c.requester_id,
    qualification_types.c.name,
    unique=True,
    sqlite_where=qualification_types.c.status.in_(LIVE_TYPE_STATUSES),
    postgresql_where=qualification_types.c.status.in_(LIVE_TYPE_STATUSES),
)

worker_qualifications = Table(
    "worker_qualifications",
    metadata,
    Column(
        "qualification_type_id",
        String(64),
        ForeignKey("qualification_types.id", name="fk_worker_quals_type"),
        nullable=False,
    ),
    Column("worker_id", String(64), ForeignKey("workers.id"), nullable=False),
    Column("integer_value", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # Granted or Revoked
    # First association: the paging key, which a later grant does not move.
    Column("created_at", UtcTimestamp, nullable=False),
    Column("granted_at", UtcTimestamp, nullable=False),
    Column("revoked_at", UtcTimestamp, nullable=True),
    Column("reason", Text, nullable=True),
    PrimaryKeyConstraint("qualification_type_id", "worker_id"),
)
Index(
    "ix_worker_quals_type_created_worker",
    worker_qualifications.c.qualification_type_id,
    worker_qualifications.c.created_at,
    worker_qualifications.c.worker_id,
)
Index("ix_worker_qualifications_worker_id", worker_qualifications.c.worker_id)

qualification_requests = Table(
    "qualification_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "qualification_type_id",
        String(64),
        ForeignKey("qualification_types.id", name="fk_qual_requests_type"),
        nullable=False,
    ),
    Column("worker_id", String(64), ForeignKey("workers.id"), nullable=False),
    # The type's owner, so ListQualificationRequests without a type seeks straight to its rows.
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    # Pending (waiting for the owner), Granted, Rejected.
    Column("status", String(16), nullable=False),
    Column("test", Text, nullable=True),
    Column("answer", Text, nullable=True),
    Column("score", Integer, nullable=True),
    Column("submitted_at", UtcTimestamp, nullable=False),
    Column("resolved_at", UtcTimestamp, nullable=True),
    Column("reason", Text, nullable=True),
)
Index(
    "ix_qual_requests_requester_status_submitted",
    qualification_requests.c.requester_id,
    qualification_requests.c.status,
    qualification_requests.c.submitted_at,
    qualification_requests.c.id,
)
Index(
    "ix_qual_requests_worker_type",
    qualification_requests.c.worker_id,
    qualification_requests.c.qualification_type_id,
)

# Which qualification types a HIT type's QualificationRequirements name (ListHITsForQualificationType,
# and whether a deleted type is still Disposing).
hit_type_qualifications = Table(
    "hit_type_qualifications",
    metadata,
    Column("hit_type_id", String(64), ForeignKey("hit_types.id"), nullable=False),
    Column(
        "qualification_type_id",
        String(64),
        ForeignKey("qualification_types.id", name="fk_hit_type_quals_type"),
        nullable=False,
    ),
    PrimaryKeyConstraint("hit_type_id", "qualification_type_id"),
)
Index("ix_hit_type_quals_type", hit_type_qualifications.c.qualification_type_id)

worker_blocks = Table(
    "worker_blocks",
    metadata,
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    Column("worker_id", String(64), nullable=False),  # MTurk lets a requester block any worker id
    Column("reason", Text, nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    PrimaryKeyConstraint("requester_id", "worker_id"),
)
Index(
    "ix_worker_blocks_requester_id_created_at_worker_id",
    worker_blocks.c.requester_id,
    worker_blocks.c.created_at,
    worker_blocks.c.worker_id,
)
Index("ix_worker_blocks_worker_id", worker_blocks.c.worker_id)

worker_messages = Table(
    "worker_messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    Column("worker_id", String(64), ForeignKey("workers.id"), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("message", Text, nullable=False),
    Column("sent_at", UtcTimestamp, nullable=False),
    Column("request_id", String(64), nullable=True),
)
Index(
    "ix_worker_messages_worker_id_sent_at_id",
    worker_messages.c.worker_id,
    worker_messages.c.sent_at,
    worker_messages.c.id,
)
