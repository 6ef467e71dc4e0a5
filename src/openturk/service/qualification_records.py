"""What the qualification services hand back: a type, a worker's Qualification, a pending request, and
the parameters a type is created or updated with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Row


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """CreateQualificationType's parameters (and, with ``None`` meaning "unchanged", Update's)."""

    name: str | None = None
    description: str | None = None
    keywords: str | None = None
    status: str | None = None
    retry_delay_s: int | None = None
    test: str | None = None
    answer_key: str | None = None
    test_duration_s: int | None = None
    auto_granted: bool | None = None
    auto_granted_value: int | None = None


@dataclass(frozen=True, slots=True)
class QualificationType:
    id: str
    owner_id: str | None
    created_at: datetime
    name: str
    description: str
    keywords: str | None
    status: str
    test: str | None
    test_duration_s: int | None
    answer_key: str | None  # None unless the reader owns the type
    retry_delay_s: int | None
    is_requestable: bool
    auto_granted: bool
    auto_granted_value: int | None
    system_kind: str | None

    @classmethod
    def from_row(cls, row: Row[Any], reader: str | None, status: str | None = None) -> QualificationType:
        return cls(
            id=row.id,
            owner_id=row.requester_id,
            created_at=row.created_at,
            name=row.name,
            description=row.description,
            keywords=row.keywords,
            status=status or row.status,
            test=row.test,
            test_duration_s=row.test_duration_s,
            answer_key=row.answer_key if reader is not None and reader == row.requester_id else None,
            retry_delay_s=row.retry_delay_s,
            is_requestable=bool(row.is_requestable),
            auto_granted=bool(row.auto_granted),
            auto_granted_value=row.auto_granted_value if row.auto_granted else None,
            system_kind=row.system_kind,
        )


@dataclass(frozen=True, slots=True)
class Qualification:
    type_id: str
    worker_id: str
    granted_at: datetime
    integer_value: int | None
    status: str
    country: str | None = None
    subdivision: str | None = None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Qualification:
        """From a row of ``worker_qualifications``."""
        return cls(row.qualification_type_id, row.worker_id, row.granted_at, row.integer_value, row.status)


@dataclass(frozen=True, slots=True)
class QualificationRequest:
    id: str
    type_id: str
    worker_id: str
    test: str | None
    answer: str | None
    submitted_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> QualificationRequest:
        return cls(row.id, row.qualification_type_id, row.worker_id, row.test, row.answer, row.submitted_at)
