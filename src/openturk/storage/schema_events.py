"""Tables of notifications (settings and the durable outbox), review policy results and uploaded files.

* ``notification_settings``: one NotificationSpecification per HIT type (UpdateNotificationSettings).
* ``event_outbox``: one row per notification message, written in the same transaction as the change that
  caused it, so a rolled-back change leaves no row and a committed one always has its row.  Delivery
  claims a row with a conditional UPDATE (a lease: ``claimed_until``) so several server processes never
  deliver one row at the same time, and a process killed mid-delivery only delays it until the lease
  ends.  Lease and retry times are wall-clock; ``created_at`` is the marketplace clock (the event time).
* ``review_policies`` and ``review_records``: the policies given to CreateHIT and what they computed
  (results) and did (actions), in the order they happened, for ListReviewPolicyResultsForHIT.
* ``uploaded_files``: a worker's FileUploadAnswer (or a multipart file posted to externalSubmit); small
  files inline, larger ones in a files folder outside the database (``storage_path``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from openturk.storage.schema import metadata
from openturk.storage.types import BigIntId, UtcTimestamp

notification_settings = Table(
    "notification_settings",
    metadata,
    Column("hit_type_id", String(64), ForeignKey("hit_types.id"), primary_key=True),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    Column("destination", String(1024), nullable=False),
    Column("transport", String(8), nullable=False),
    Column("version", String(16), nullable=False),
    # The EventTypes list as JSON.
    Column("event_types", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", UtcTimestamp, nullable=False),
)

event_outbox = Table(
    "event_outbox",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False, index=True),
    Column("event_type", String(32), nullable=False),
    Column("transport", String(8), nullable=False),
    Column("destination", String(1024), nullable=False),
    # The message exactly as it is sent (MTurk's notification JSON).
    Column("body", Text, nullable=False),
    Column("hit_id", String(64), nullable=True),
    Column("assignment_id", String(64), nullable=True),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcTimestamp, nullable=False),
    Column("claimed_until", UtcTimestamp, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("delivered_at", UtcTimestamp, nullable=True),
    Column("last_error", Text, nullable=True),
)
Index(
    "ix_event_outbox_delivered_at_next_attempt_at",
    event_outbox.c.delivered_at,
    event_outbox.c.next_attempt_at,
)

review_policies = Table(
    "review_policies",
    metadata,
    Column("hit_id", String(64), ForeignKey("hits.id"), primary_key=True),
    # Each policy as CreateHIT received it ({"PolicyName", "Parameters"}), as JSON.
    Column("assignment_policy", Text, nullable=True),
    Column("hit_policy", Text, nullable=True),
)

review_records = Table(
    "review_records",
    metadata,
    Column("id", BigIntId, primary_key=True, autoincrement=True),
    Column("hit_id", String(64), ForeignKey("hits.id"), nullable=False),
    Column("level", String(16), nullable=False),  # "Assignment" or "HIT"
    Column("kind", String(8), nullable=False),  # "result" or "action"
    Column("action_id", String(64), nullable=False),
    # Results: SubjectId, SubjectType, QuestionId, Key, Value.  Actions: TargetId, TargetType, ActionName,
    # Status, CompleteTime, Result, ErrorCode.
    Column("subject_id", String(64), nullable=False),
    Column("subject_type", String(16), nullable=False),
    Column("question_id", String(255), nullable=True),
    Column("key", String(64), nullable=True),
    Column("value", Text, nullable=True),
    Column("action_name", String(16), nullable=True),
    Column("status", String(16), nullable=True),
    Column("result", Text, nullable=True),
    Column("error_code", String(128), nullable=True),
    Column("created_at", UtcTimestamp, nullable=False),
)
Index("ix_review_records_hit_id_id", review_records.c.hit_id, review_records.c.id)

uploaded_files = Table(
    "uploaded_files",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("assignment_id", String(64), ForeignKey("assignments.id"), nullable=False),
    Column("hit_id", String(64), ForeignKey("hits.id"), nullable=False),
    Column("requester_id", String(32), ForeignKey("requesters.id"), nullable=False),
    Column("question_identifier", String(255), nullable=False),
    Column("filename", String(255), nullable=True),
    Column("content_type", String(255), nullable=True),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    # Small files are kept here; larger ones in the files folder under ``storage_path``.
    Column("content", LargeBinary, nullable=True),
    Column("storage_path", String(512), nullable=True),
    Column("created_at", UtcTimestamp, nullable=False),
    UniqueConstraint("assignment_id", "question_identifier"),
)
