"""ScoreMyKnownAnswers/2011-09-01, the assignment-level policy, as AWS's "Assignment Review Policies"
page describes it.

It runs when an assignment is submitted (``assignment_submitted``, called by ``transitions.submit``).
KnownAnswerScore is the percentage (rounded down) of the AnswerKey's questions whose answer matches
exactly: the same set of values, each with surrounding whitespace removed, an empty answer never
matching.  Then, in this order: extend the HIT by one assignment if the score is below
ExtendIfKnownAnswerScoreIsLessThan (up to ExtendMaximumAssignments in all, default 5; the HIT's expiry
pushed to at least now + ExtendMinimumTimeInSeconds); approve if it is at least
ApproveIfKnownAnswerScoreIsAtLeast (feedback ApproveReason); otherwise reject if it is less than
RejectIfKnownAnswerScoreIsLessThan (feedback RejectReason).  (AWS's table says "equal to or less than"
for the reject threshold while its name says "less than"; OpenTurk follows the name.)
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from openturk.service.review_policies.actions import decide, extend_hit
from openturk.service.review_policies.answers import answer_sets
from openturk.service.review_policies.parameters import parse_policy
from openturk.service.review_policies.records import record_action, record_result, stored_policies
from openturk.storage.schema import assignments


def assignment_submitted(
    conn: Connection, assignment_id: str, now: datetime, request_id: str | None
) -> str | None:
    """Apply the HIT's assignment-level policy to a just-submitted assignment; returns its new status
    if the policy approved or rejected it, None if it stays Submitted."""
    row = conn.execute(
        select(assignments.c.hit_id, assignments.c.answer).where(assignments.c.id == assignment_id)
    ).one()
    stored = stored_policies(conn, row.hit_id)
    if stored is None or stored.assignment_policy is None:
        return None
    policy = parse_policy(json.loads(stored.assignment_policy), "AssignmentReviewPolicy")
    level, subject = "Assignment", (assignment_id, "Assignment")
    key: dict[str, list[str]] = policy.values["AnswerKey"]
    given = answer_sets(row.answer)
    correct = 0
    for question, expected in key.items():
        answer = given.get(question, frozenset())
        matched = bool(answer) and bool(expected) and answer == frozenset(v for v in expected if v)
        correct += matched
        record_result(
            conn, now, row.hit_id, level, subject, "KnownAnswerCorrect", str(int(matched)), question
        )
    score = correct * 100 // len(key)
    record_result(conn, now, row.hit_id, level, subject, "KnownAnswerScore", str(score))
    noun = "known answer" if len(key) == 1 else "known answers"
    record_action(conn, now, row.hit_id, level, "review", subject, "Succeeded",
                  f"Reviewed {len(key)} {noun}; {correct}/{len(key)} correct")  # fmt: skip
    extend_below = policy.int("ExtendIfKnownAnswerScoreIsLessThan")
    if extend_below is not None and score < extend_below:
        status, result, code = extend_hit(
            conn,
            row.hit_id,
            policy.int("ExtendMaximumAssignments", 5) or 5,
            policy.int("ExtendMinimumTimeInSeconds", 0) or 0,
            now,
            request_id,
        )
        record_action(conn, now, row.hit_id, level, "extend", (row.hit_id, "HIT"), status, result, code)
    approve_at = policy.int("ApproveIfKnownAnswerScoreIsAtLeast")
    reject_below = policy.int("RejectIfKnownAnswerScoreIsLessThan")
    if approve_at is not None and score >= approve_at:
        return decide(conn, now, assignment_id, True, policy.values.get("ApproveReason"), level, request_id)
    if reject_below is not None and score < reject_below:
        return decide(conn, now, assignment_id, False, policy.values.get("RejectReason"), level, request_id)
    return None
