"""Assignment state changes, shared by the requester's operations, the worker side and the clock.

    Accepted --submit--> Submitted --approve--> Approved
       |                     \\--reject---> Rejected --approve(OverrideRejection)--> Approved
       +--return--> Returned
       +--deadline passes--> Abandoned

Each function runs inside the caller's transaction, moves the HIT's counts and the money together, and
leaves the HIT settled (status and expiry releases up to date).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, exists, or_, select, update
from sqlalchemy.engine import Connection, Row

from openturk.errors import AssignmentDoesNotExistError, InvalidStateError
from openturk.service import events, review_policies, slots
from openturk.storage.db import in_write
from openturk.storage.prepared import Prepared
from openturk.storage.schema import assignments, hit_types, hits

VISIBLE_TO_REQUESTER = ("Submitted", "Approved", "Rejected")


def load_assignment(
    conn: Connection, assignment_id: str, requester_id: str | None = None, *, lock: bool = True
) -> Any:
    """An assignment the requester may see: submitted, approved or rejected, on one of its own HITs.
    Inside a write it is locked (FOR UPDATE on PostgreSQL) unless ``lock`` is False, for a caller that
    only reads it.  The row is a tuple with the columns as attributes (storage.prepared), read like a
    ``Row``."""
    query = _ASSIGNMENT[(requester_id is not None, lock and in_write(conn))]
    row = query.execute(conn, {"id": assignment_id, "requester_id": requester_id}).first()
    if row is None:
        raise AssignmentDoesNotExistError(assignment_id)
    return row


def _assignment_query(for_requester: bool, locked: bool) -> Select[Any]:
    query = select(assignments).where(assignments.c.id == bindparam("id"))
    if for_requester:
        query = query.where(
            assignments.c.requester_id == bindparam("requester_id"),
            assignments.c.status.in_(VISIBLE_TO_REQUESTER),
        )
    return query.with_for_update() if locked else query


_ASSIGNMENT = {(r, w): Prepared(_assignment_query(r, w)) for r in (False, True) for w in (False, True)}


def bump(conn: Connection, hit_id: str, **deltas: int) -> None:
    conn.execute(
        update(hits)
        .where(hits.c.id == hit_id)
        .values({getattr(hits.c, k): getattr(hits.c, k) + v for k, v in deltas.items()})
    )


def _set(conn: Connection, assignment_id: str, **values: Any) -> None:
    conn.execute(update(assignments).where(assignments.c.id == assignment_id).values(**values))


def submit(conn: Connection, a: Row[Any], answer: str, now: datetime, request_id: str | None) -> str:
    """Record the answer; with AutoApprovalDelayInSeconds 0 the assignment is approved at once."""
    # An overdue assignment was already abandoned by settle_due, so _require refuses it.
    _require(a, ("Accepted",), "Accepted")
    hit = slots.load_hit(conn, a.hit_id)
    delay = _auto_approval_delay(conn, hit)
    _set(
        conn,
        a.id,
        status="Submitted",
        submitted_at=now,
        answer=answer,
        auto_approval_at=now + timedelta(seconds=delay),
    )
    bump(conn, a.hit_id, num_pending=-1, num_submitted=1)
    events.record_event(conn, now, "AssignmentSubmitted", a.hit_id, a.id)
    if (decided := review_policies.assignment_submitted(conn, a.id, now, request_id)) is not None:
        return decided  # the HIT's ScoreMyKnownAnswers policy approved or rejected it
    if delay == 0:
        approve(
            conn, slots.load_hit(conn, a.hit_id), load_assignment(conn, a.id), now, None, request_id, at=now
        )
        return "Approved"
    slots.settle(conn, a.hit_id, now, request_id)
    return "Submitted"


def return_(conn: Connection, a: Row[Any], now: datetime, request_id: str | None) -> None:
    _require(a, ("Accepted",), "Accepted")
    _set(conn, a.id, status="Returned", returned_at=now)
    bump(conn, a.hit_id, num_pending=-1)
    events.record_event(conn, now, "AssignmentReturned", a.hit_id, a.id)
    slots.settle(conn, a.hit_id, now, request_id)


def abandon(conn: Connection, a: Row[Any], now: datetime) -> None:
    _set(conn, a.id, status="Abandoned", returned_at=a.deadline_at)
    bump(conn, a.hit_id, num_pending=-1)
    events.record_event(conn, now, "AssignmentAbandoned", a.hit_id, a.id)
    slots.settle(conn, a.hit_id, now)


def approve(
    conn: Connection,
    hit: Row[Any],
    a: Row[Any],
    now: datetime,
    feedback: str | None,
    request_id: str | None,
    *,
    override_rejection: bool = False,
    at: datetime | None = None,
) -> bool:
    """Pay the worker; False (and nothing moves) if it was approved already."""
    if a.status == "Approved":
        return False
    if a.status == "Rejected" and not override_rejection:
        raise InvalidStateError(
            f"Assignment {a.id} has been rejected; approve it with OverrideRejection=True. "
            "This operation can be called with a status of: Submitted"
        )
    _require(a, ("Submitted", "Rejected"), "Submitted")
    rejected = a.status == "Rejected"
    if rejected:
        _check_override(hit, a, now)
    slots.pay_reward(conn, hit, a.id, a.worker_id, at=now, request_id=request_id, reserve_first=rejected)
    _set(
        conn,
        a.id,
        status="Approved",
        approved_at=at or now,
        requester_feedback=feedback if feedback is not None else a.requester_feedback,
    )
    if rejected:
        bump(conn, hit.id, num_rejected=-1, num_approved=1)
    else:
        bump(conn, hit.id, num_submitted=-1, num_approved=1)
    events.record_event(conn, now, "AssignmentApproved", hit.id, a.id)
    slots.settle(conn, hit.id, now, request_id)
    return True


# ApproveAssignment's OverrideRejection "only works on rejected assignments that were submitted within
# the previous 30 days and only if the assignment's related HIT has not been deleted" (MTurk's docs).
OVERRIDE_WINDOW = timedelta(days=30)


def _check_override(hit: Row[Any], a: Row[Any], now: datetime) -> None:
    if hit.status == "Disposed":
        raise InvalidStateError(
            f"Assignment {a.id} belongs to a deleted HIT; its rejection can no longer be overridden.",
            data={"AssignmentId": a.id, "AssignmentStatus": a.status},
        )
    if a.submitted_at is not None and now - a.submitted_at > OVERRIDE_WINDOW:
        raise InvalidStateError(
            f"Assignment {a.id} was submitted more than 30 days ago; its rejection can no longer be "
            "overridden.",
            data={"AssignmentId": a.id, "AssignmentStatus": a.status},
        )


def reject(
    conn: Connection, hit: Row[Any], a: Row[Any], now: datetime, feedback: str, request_id: str | None
) -> None:
    _require(a, ("Submitted",), "Submitted")
    slots.release(conn, hit, 1, at=now, request_id=request_id, kind="assignment_refund", assignment_id=a.id)
    _set(conn, a.id, status="Rejected", rejected_at=now, requester_feedback=feedback)
    bump(conn, hit.id, num_submitted=-1, num_rejected=1)
    events.record_event(conn, now, "AssignmentRejected", hit.id, a.id)
    slots.settle(conn, hit.id, now, request_id)


def require_status(a: Row[Any], status: str) -> None:
    """Refuse, as the transition itself would, an assignment not in ``status``."""
    _require(a, (status,), status)


def _require(a: Row[Any], allowed: tuple[str, ...], shown: str) -> None:
    if a.status not in allowed:
        raise InvalidStateError(
            f"This operation can be called with a status of: {shown}",
            data={"AssignmentId": a.id, "AssignmentStatus": a.status},
        )


def _auto_approval_delay(conn: Connection, hit: Row[Any]) -> int:
    return int(
        conn.execute(
            select(hit_types.c.auto_approval_delay_s).where(hit_types.c.id == hit.hit_type_id)
        ).scalar_one()
    )


When = datetime | BindParameter[datetime]


def _overdue(now: When) -> ColumnElement[bool]:
    return (assignments.c.status == "Accepted") & (assignments.c.deadline_at <= now)


def _auto_approvable(now: When) -> ColumnElement[bool]:
    return (assignments.c.status == "Submitted") & (assignments.c.auto_approval_at <= now)


def _unsettled_expiry(now: When) -> ColumnElement[bool]:
    return ~hits.c.expiry_settled & (hits.c.expires_at <= now) & (hits.c.status != "Disposed")


def settle_due(conn: Connection, now: datetime) -> None:
    """Everything the clock has made due: abandoned assignments, auto-approvals, expired HITs."""
    # Locked and re-read (PostgreSQL): two processes settling at once must not abandon or pay one
    # assignment twice; the second finds it no longer due once the first commits.
    for a in conn.execute(select(assignments).where(_overdue(now)).with_for_update()).all():
        abandon(conn, a, now)
    for a in conn.execute(select(assignments).where(_auto_approvable(now)).with_for_update()).all():
        approve(conn, slots.load_hit(conn, a.hit_id), a, now, None, None, at=a.auto_approval_at)
    for hit_id in conn.execute(select(hits.c.id).where(_unsettled_expiry(now))).scalars().all():
        slots.settle(conn, hit_id, now)


def anything_due(now: When) -> ColumnElement[bool]:
    """True when settle_due has work: one expression (three indexed EXISTS probes), so a caller can ask
    it in the same statement that reads the clock."""
    return or_(
        exists(select(assignments.c.id).where(_overdue(now))),
        exists(select(assignments.c.id).where(_auto_approvable(now))),
        exists(select(hits.c.id).where(_unsettled_expiry(now))),
    )
