"""The frozen values the HIT and assignment services hand out (what the protocols serialize)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Row

from openturk.service.slots import unused_slots


@dataclass(frozen=True, slots=True)
class HitTypeSpec:
    """What CreateHITType (and CreateHIT without a type) registers."""

    title: str
    description: str
    reward_cents: int
    assignment_duration_s: int
    auto_approval_delay_s: int = 259_200  # three days, MTurk's default
    keywords: str | None = None
    qualification_requirements: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class HitSpec:
    question: str | None
    lifetime_s: int
    max_assignments: int = 1
    requester_annotation: str | None = None
    unique_request_token: str | None = None
    # ReviewPolicy structures as CreateHIT received them (see service.review_policies).
    assignment_review_policy: dict[str, Any] | None = None
    hit_review_policy: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    hit_type_id: str
    hit_group_id: str
    requester_id: str
    created_at: datetime
    expires_at: datetime
    title: str
    description: str
    keywords: str | None
    question: str
    requester_annotation: str | None
    max_assignments: int
    reward_cents: int
    fee_cents: int
    auto_approval_delay_s: int
    assignment_duration_s: int
    qualification_requirements: tuple[dict[str, Any], ...]
    status: str
    review_status: str
    num_pending: int
    num_available: int
    num_completed: int

    @classmethod
    def from_row(cls, hit: Row[Any], hit_type: Row[Any], now: datetime) -> Hit:
        expired = hit.expires_at <= now
        return cls(
            id=hit.id,
            hit_type_id=hit.hit_type_id,
            hit_group_id=hit.hit_group_id,
            requester_id=hit.requester_id,
            created_at=hit.created_at,
            expires_at=hit.expires_at,
            title=hit_type.title,
            description=hit_type.description,
            keywords=hit_type.keywords,
            question=hit.question,
            requester_annotation=hit.requester_annotation,
            max_assignments=hit.max_assignments,
            reward_cents=hit.reward_cents,
            fee_cents=hit.fee_cents,
            auto_approval_delay_s=hit_type.auto_approval_delay_s,
            assignment_duration_s=hit_type.assignment_duration_s,
            qualification_requirements=tuple(json.loads(hit_type.qualification_requirements)),
            status=hit.status,
            review_status=hit.review_status,
            num_pending=hit.num_pending,
            num_available=0 if expired or hit.status == "Disposed" else unused_slots(hit),
            num_completed=hit.num_approved + hit.num_rejected,
        )


@dataclass(frozen=True, slots=True)
class Assignment:
    id: str
    hit_id: str
    worker_id: str
    status: str
    accepted_at: datetime
    deadline_at: datetime
    submitted_at: datetime | None
    auto_approval_at: datetime | None
    approved_at: datetime | None
    rejected_at: datetime | None
    answer: str | None
    requester_feedback: str | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Assignment:
        return cls(
            id=row.id,
            hit_id=row.hit_id,
            worker_id=row.worker_id,
            status=row.status,
            accepted_at=row.accepted_at,
            deadline_at=row.deadline_at,
            submitted_at=row.submitted_at,
            auto_approval_at=row.auto_approval_at,
            approved_at=row.approved_at,
            rejected_at=row.rejected_at,
            answer=row.answer,
            requester_feedback=row.requester_feedback,
        )
