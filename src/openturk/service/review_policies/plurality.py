"""SimplePlurality/2011-09-01, the HIT-level policy, as AWS's "HIT Review Policies" page describes it.

It runs when the HIT becomes Reviewable (``hit_became_reviewable``, called from ``slots.settle``).  For
each of QuestionIds, the plurality answer among the assignments considered (rejected ones left out with
DisregardAssignmentIfRejected, low known-answer scores with
DisregardAssignmentIfKnownAnswerScoreIsLessThan; answers over 256 characters never count) is the agreed
answer when its share (Question Agreement Score, rounded down) is greater than
QuestionAgreementThreshold and no other answer ties it.  HIT Agreement Score: the share of questions
with an agreed answer.  If it is below ExtendIfHITAgreementScoreIsLessThan and the HIT has fewer than
ExtendMaximumAssignments, the HIT is extended by one assignment (and by ExtendMinimumTimeInSeconds) and
the decision waits for the next time it becomes Reviewable; otherwise each submitted assignment is
approved or rejected on its Worker Agreement Score (the share of agreed questions it answered with the
agreed answer).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from openturk.service.review_policies.actions import decide, extend_hit
from openturk.service.review_policies.answers import answer_sets
from openturk.service.review_policies.parameters import parse_policy
from openturk.service.review_policies.records import record_action, record_result, stored_policies
from openturk.storage.schema import assignments
from openturk.storage.schema_events import review_records

_MAX_COMPARED = 256


def _known_scores(conn: Connection, hit_id: str) -> dict[str, int]:
    rows = conn.execute(
        select(review_records.c.subject_id, review_records.c.value).where(
            review_records.c.hit_id == hit_id,
            review_records.c.level == "Assignment",
            review_records.c.key == "KnownAnswerScore",
        )
    ).all()
    return {r.subject_id: int(r.value) for r in rows}


def hit_became_reviewable(conn: Connection, hit_id: str, now: datetime, request_id: str | None) -> None:
    stored = stored_policies(conn, hit_id)
    if stored is None or stored.hit_policy is None:
        return
    policy = parse_policy(json.loads(stored.hit_policy), "HITReviewPolicy")
    level, hit_subject = "HIT", (hit_id, "HIT")
    rows = conn.execute(
        select(assignments.c.id, assignments.c.status, assignments.c.answer)
        .where(
            assignments.c.hit_id == hit_id, assignments.c.status.in_(("Submitted", "Approved", "Rejected"))
        )
        .order_by(assignments.c.submitted_at, assignments.c.id)
    ).all()
    if policy.values.get("DisregardAssignmentIfRejected"):
        rows = [r for r in rows if r.status != "Rejected"]
    floor = policy.int("DisregardAssignmentIfKnownAnswerScoreIsLessThan")
    if floor is not None:
        known = _known_scores(conn, hit_id)
        rows = [r for r in rows if r.id not in known or known[r.id] >= floor]
    answers = {r.id: answer_sets(r.answer) for r in rows}
    questions: Sequence[str] = policy.values["QuestionIds"]
    threshold = policy.int("QuestionAgreementThreshold") or 0
    agreed: dict[str, frozenset[str]] = {}
    for question in questions:
        votes = Counter(
            a[question]
            for a in answers.values()
            if a.get(question) and all(len(v) <= _MAX_COMPARED for v in a[question])
        )
        ranked = votes.most_common(2)
        found = False
        if ranked and rows:
            top, count = ranked[0]
            tied = len(ranked) > 1 and ranked[1][1] == count
            score = count * 100 // len(rows)
            if not tied and score > threshold:
                found = True
                agreed[question] = top
                record_result(conn, now, hit_id, level, hit_subject, "AgreedAnswerFound", "true", question)
                record_result(
                    conn, now, hit_id, level, hit_subject, "AgreedAnswer", "|".join(sorted(top)), question
                )
                record_result(
                    conn, now, hit_id, level, hit_subject, "AnswerAgreementScore", str(score), question
                )
        if not found:
            record_result(conn, now, hit_id, level, hit_subject, "AgreedAnswerFound", "false", question)
    hit_score = len(agreed) * 100 // len(questions)
    record_result(conn, now, hit_id, level, hit_subject, "HitAgreementScore", str(hit_score))
    worker_scores: dict[str, int] = {}
    for assignment_id, given in answers.items():
        if not agreed:
            continue
        right = sum(given.get(q) == value for q, value in agreed.items())
        worker_scores[assignment_id] = right * 100 // len(agreed)
        subject = (assignment_id, "Assignment")
        record_result(
            conn, now, hit_id, level, subject, "WorkerAgreementScore", str(worker_scores[assignment_id])
        )
        record_result(conn, now, hit_id, level, subject, "PluralityAnswersCorrect", str(right))
        record_result(
            conn, now, hit_id, level, subject, "PluralityAnswersIncorrect", str(len(agreed) - right)
        )
    extend_below = policy.int("ExtendIfHITAgreementScoreIsLessThan")
    if extend_below is not None and hit_score < extend_below:
        status, result, code = extend_hit(
            conn,
            hit_id,
            policy.int("ExtendMaximumAssignments") or 0,
            policy.int("ExtendMinimumTimeInSeconds") or 0,
            now,
            request_id,
        )
        record_action(conn, now, hit_id, level, "extend", hit_subject, status, result, code)
        if status == "Succeeded" and result.startswith("Extended"):
            return  # decide once more answers are in
    approve_at = policy.int("ApproveIfWorkerAgreementScoreIsAtLeast")
    reject_below = policy.int("RejectIfWorkerAgreementScoreIsLessThan")
    for assignment_id, score in worker_scores.items():
        if approve_at is not None and score >= approve_at:
            decide(conn, now, assignment_id, True, None, level, request_id)
        elif reject_below is not None and score < reject_below:
            decide(conn, now, assignment_id, False, policy.values.get("RejectReason"), level, request_id)
