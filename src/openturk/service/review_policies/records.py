"""What the review policies keep: the policies as CreateHIT received them (``review_policies``) and every
result and action they produced (``review_records``), in the order it happened, for
ListReviewPolicyResultsForHIT.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Row

from openturk import ids
from openturk.storage.schema_events import review_policies, review_records


def store(
    conn: Connection,
    hit_id: str,
    assignment_policy: Mapping[str, Any] | None,
    hit_policy: Mapping[str, Any] | None,
) -> None:
    if assignment_policy is None and hit_policy is None:
        return
    conn.execute(
        insert(review_policies).values(
            hit_id=hit_id,
            assignment_policy=None if assignment_policy is None else json.dumps(assignment_policy),
            hit_policy=None if hit_policy is None else json.dumps(hit_policy),
        )
    )


def stored_policies(conn: Connection, hit_id: str) -> Row[Any] | None:
    return conn.execute(select(review_policies).where(review_policies.c.hit_id == hit_id)).first()


def record_result(
    conn: Connection,
    now: datetime,
    hit_id: str,
    level: str,
    subject: tuple[str, str],
    key: str,
    value: str,
    question_id: str | None = None,
) -> None:
    conn.execute(
        insert(review_records).values(
            hit_id=hit_id,
            level=level,
            kind="result",
            action_id=ids.entity_id(),
            subject_id=subject[0],
            subject_type=subject[1],
            question_id=question_id,
            key=key,
            value=value,
            created_at=now,
        )
    )


def record_action(
    conn: Connection,
    now: datetime,
    hit_id: str,
    level: str,
    name: str,
    target: tuple[str, str],
    status: str,
    result: str,
    error_code: str | None = None,
) -> None:
    conn.execute(
        insert(review_records).values(
            hit_id=hit_id,
            level=level,
            kind="action",
            action_id=ids.entity_id(),
            subject_id=target[0],
            subject_type=target[1],
            action_name=name,
            status=status,
            result=result,
            error_code=error_code,
            created_at=now,
        )
    )
