"""What a review policy can do: extend the HIT by one assignment, approve or reject an assignment.

These go through ``transitions`` and ``slots``: the same state changes, escrow and ledger as the
requester's own calls.  An action that cannot be taken (no funds to extend) is recorded as Failed and
changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection

from openturk.errors import OpenTurkError
from openturk.service import events, slots
from openturk.service.review_policies.records import record_action
from openturk.storage.schema import hits

_LARGE_HIT = 10  # MTurk: a HIT created with fewer than 10 assignments is never extended to 10 or more


def extend_hit(
    conn: Connection, hit_id: str, maximum: int, min_seconds: int, now: datetime, request_id: str | None
) -> tuple[str, str, str | None]:
    """Add one assignment to the HIT (and time, if it is short of ``min_seconds``) with its money
    reserved; returns (Status, Result, ErrorCode) for the action."""
    hit = slots.load_hit(conn, hit_id)
    if hit.max_assignments >= maximum:
        return (
            "Succeeded",
            f"Not extended: the HIT already has {hit.max_assignments} of at most {maximum}.",
            None,
        )
    if hit.max_assignments < _LARGE_HIT <= hit.max_assignments + 1:
        return (
            "Cancelled",
            f"Not extended: a HIT created with fewer than {_LARGE_HIT} assignments keeps so.",
            None,
        )
    expires = max(hit.expires_at, now + timedelta(seconds=min_seconds))
    reopen = expires > now and hit.expiry_settled
    try:
        with conn.begin_nested():
            if reopen and hit.num_released:
                slots.reserve(conn, hit, hit.num_released, at=now, request_id=request_id)
            slots.reserve(conn, hit, 1, at=now, request_id=request_id)
            values: dict[str, Any] = {"max_assignments": hit.max_assignments + 1, "expires_at": expires}
            if reopen:
                values.update(num_released=0, expiry_settled=False)
            conn.execute(update(hits).where(hits.c.id == hit_id).values(**values))
    except OpenTurkError as error:
        return "Failed", error.message, error.turk_code
    events.record_event(conn, now, "HITExtended", hit_id)
    slots.settle(conn, hit_id, now, request_id)
    return "Succeeded", f"Extended to {hit.max_assignments + 1} assignments.", None


def decide(
    conn: Connection,
    now: datetime,
    assignment_id: str,
    approve: bool,
    feedback: str | None,
    level: str,
    request_id: str | None,
) -> str:
    # late: transitions imports the review_policies package, which imports this module
    from openturk.service import transitions

    a = transitions.load_assignment(conn, assignment_id)
    hit = slots.load_hit(conn, a.hit_id)
    target = (assignment_id, "Assignment")
    if approve and a.status == "Approved":
        # MTurk: "an action trying to approve an already-approved Assignment will report itself as
        # SUCCESSFUL" (GetReviewResultsForHIT); rejecting an approved one, or approving a rejected one, fails.
        record_action(conn, now, a.hit_id, level, "approve", target, "Succeeded", "Already approved")
        return "Approved"
    if a.status != "Submitted":
        record_action(
            conn,
            now,
            a.hit_id,
            level,
            "approve" if approve else "reject",
            target,
            "Failed",
            f"The assignment is {a.status}.",
            "AWS.MechanicalTurk.InvalidAssignmentState",
        )
        return str(a.status)
    if approve:
        transitions.approve(conn, hit, a, now, feedback, request_id)
        record_action(conn, now, a.hit_id, level, "approve", target, "Succeeded", "Approved")
        return "Approved"
    transitions.reject(conn, hit, a, now, feedback or "", request_id)
    record_action(conn, now, a.hit_id, level, "reject", target, "Succeeded", "Rejected")
    return "Rejected"
