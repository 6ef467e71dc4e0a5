"""Qualification types, worker qualifications and requests, worker blocks, messages to workers.

Also inserts MTurk's system qualification types under their real ids, and links the HIT types that
already exist to the system types their QualificationRequirements name.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from openturk.storage.types import UtcTimestamp

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_LIVE = "status IN ('Active', 'Inactive')"
# (id, kind, name, description): the data as of this revision (later changes need a new migration).
_SYSTEM_TYPES = (
    (
        "000000000000000000L0",
        "approval_rate",
        "Worker_PercentAssignmentsApproved",
        "The percentage of the Worker's reviewed assignments that requesters approved (100 until the "
        "Worker has submitted 100 assignments).",
    ),
    (
        "00000000000000000040",
        "hits_approved",
        "Worker_NumberHITsApproved",
        "The number of the Worker's assignments that requesters approved.",
    ),
    ("00000000000000000071", "locale", "Worker_Locale", "The Worker's country and subdivision."),
    (
        "00000000000000000060",
        "adult",
        "Worker_Adult",
        "The Worker has agreed to work on HITs that may contain adult content.",
    ),
    ("2F1QJWKUDD8XADTFD2Q0G6UTO95ALH", "masters", "Masters", "Masters Workers (production)."),
    ("2ARFPLSP75KLA8M8DH1HTEQVJT3SY6", "sandbox_masters", "Masters", "Masters Workers (sandbox)."),
)
_SYSTEM_CREATED = datetime(2005, 11, 2, tzinfo=UTC)


def upgrade() -> None:
    types = op.create_table(
        "qualification_types",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_requestable", sa.Boolean(), nullable=False),
        sa.Column("test", sa.Text(), nullable=True),
        sa.Column("answer_key", sa.Text(), nullable=True),
        sa.Column("test_duration_s", sa.BigInteger(), nullable=True),
        sa.Column("retry_delay_s", sa.BigInteger(), nullable=True),
        sa.Column("auto_granted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("auto_granted_value", sa.Integer(), nullable=True),
        sa.Column("system_kind", sa.String(length=32), nullable=True),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.Column("disposed_at", UtcTimestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_qualification_types_requester_id_requesters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification_types")),
    )
    op.create_index(
        "ix_qualification_types_created_at_id", "qualification_types", ["created_at", "id"], unique=False
    )
    op.create_index(
        "ix_qualification_types_requester_id_created_at_id",
        "qualification_types",
        ["requester_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_qualification_types_live_requester_name",
        "qualification_types",
        ["requester_id", "name"],
        unique=True,
        sqlite_where=sa.text(_LIVE),
        postgresql_where=sa.text(_LIVE),
    )
    op.create_table(
        "worker_qualifications",
        sa.Column("qualification_type_id", sa.String(length=64), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("integer_value", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.Column("granted_at", UtcTimestamp(), nullable=False),
        sa.Column("revoked_at", UtcTimestamp(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["qualification_type_id"], ["qualification_types.id"], name="fk_worker_quals_type"
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_worker_qualifications_worker_id_workers")
        ),
        sa.PrimaryKeyConstraint("qualification_type_id", "worker_id", name=op.f("pk_worker_qualifications")),
    )
    op.create_index(
        "ix_worker_quals_type_created_worker",
        "worker_qualifications",
        ["qualification_type_id", "created_at", "worker_id"],
        unique=False,
    )
    op.create_index(
        "ix_worker_qualifications_worker_id", "worker_qualifications", ["worker_id"], unique=False
    )
    op.create_table(
        "qualification_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("qualification_type_id", sa.String(length=64), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("test", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("submitted_at", UtcTimestamp(), nullable=False),
        sa.Column("resolved_at", UtcTimestamp(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["qualification_type_id"], ["qualification_types.id"], name="fk_qual_requests_type"
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["requesters.id"],
            name=op.f("fk_qualification_requests_requester_id_requesters"),
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_qualification_requests_worker_id_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification_requests")),
    )
    op.create_index(
        "ix_qual_requests_requester_status_submitted",
        "qualification_requests",
        ["requester_id", "status", "submitted_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_qual_requests_worker_type",
        "qualification_requests",
        ["worker_id", "qualification_type_id"],
        unique=False,
    )
    links = op.create_table(
        "hit_type_qualifications",
        sa.Column("hit_type_id", sa.String(length=64), nullable=False),
        sa.Column("qualification_type_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["hit_type_id"], ["hit_types.id"], name=op.f("fk_hit_type_qualifications_hit_type_id_hit_types")
        ),
        sa.ForeignKeyConstraint(
            ["qualification_type_id"], ["qualification_types.id"], name="fk_hit_type_quals_type"
        ),
        sa.PrimaryKeyConstraint(
            "hit_type_id", "qualification_type_id", name=op.f("pk_hit_type_qualifications")
        ),
    )
    op.create_index(
        "ix_hit_type_quals_type", "hit_type_qualifications", ["qualification_type_id"], unique=False
    )
    op.create_table(
        "worker_blocks",
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcTimestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_worker_blocks_requester_id_requesters")
        ),
        sa.PrimaryKeyConstraint("requester_id", "worker_id", name=op.f("pk_worker_blocks")),
    )
    op.create_index(
        "ix_worker_blocks_requester_id_created_at_worker_id",
        "worker_blocks",
        ["requester_id", "created_at", "worker_id"],
        unique=False,
    )
    op.create_index("ix_worker_blocks_worker_id", "worker_blocks", ["worker_id"], unique=False)
    op.create_table(
        "worker_messages",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("sent_at", UtcTimestamp(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["requesters.id"], name=op.f("fk_worker_messages_requester_id_requesters")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_worker_messages_worker_id_workers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_messages")),
    )
    op.create_index(
        "ix_worker_messages_worker_id_sent_at_id",
        "worker_messages",
        ["worker_id", "sent_at", "id"],
        unique=False,
    )

    op.bulk_insert(
        types,
        [
            {
                "id": type_id,
                "requester_id": None,
                "name": name,
                "description": description,
                "keywords": None,
                "status": "Active",
                "is_requestable": False,
                "auto_granted": False,
                "system_kind": kind,
                "created_at": _SYSTEM_CREATED,
            }
            for type_id, kind, name, description in _SYSTEM_TYPES
        ],
    )
    # HIT types created before this revision may already name system types.
    system_ids = {type_id for type_id, *_ in _SYSTEM_TYPES}
    hit_types = sa.table("hit_types", sa.column("id"), sa.column("qualification_requirements"))
    rows = op.get_bind().execute(sa.select(hit_types.c.id, hit_types.c.qualification_requirements)).all()
    found = {
        (row.id, requirement.get("QualificationTypeId"))
        for row in rows
        for requirement in json.loads(row.qualification_requirements or "[]")
        if isinstance(requirement, dict) and requirement.get("QualificationTypeId") in system_ids
    }
    if found:
        op.bulk_insert(links, [{"hit_type_id": h, "qualification_type_id": q} for h, q in sorted(found)])


def downgrade() -> None:
    for table in (
        "worker_messages",
        "worker_blocks",
        "hit_type_qualifications",
        "qualification_requests",
        "worker_qualifications",
        "qualification_types",
    ):
        op.drop_table(table)
