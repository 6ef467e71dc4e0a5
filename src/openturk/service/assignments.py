"""Assignments from the requester's side: read, list, approve, reject."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from openturk.errors import InvalidStateError
from openturk.service import paging, slots, transitions
from openturk.service.limits import check_length
from openturk.service.paging import Page, PageTokens, Position, page_size
from openturk.service.records import Assignment, Hit
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import assignments
from openturk.storage.types import to_micros


class AssignmentService:
    def __init__(self, tx: MarketTransactions, tokens: PageTokens) -> None:
        self._tx = tx
        self._tokens = tokens

    def get(self, requester_id: str, assignment_id: str) -> tuple[Assignment, Hit]:
        with self._tx.read() as (conn, now):
            row = transitions.load_assignment(conn, assignment_id, requester_id)
            hit = slots.load_hit(conn, row.hit_id, requester_id)
            hit_type = slots.load_hit_type(conn, hit)
            return Assignment.from_row(row), Hit.from_row(hit, hit_type, now)

    def list_for_hit(
        self,
        requester_id: str,
        hit_id: str,
        statuses: Sequence[str] | None,
        next_token: str | None,
        max_results: int | None,
    ) -> Page[Assignment]:
        # Only submitted work is the requester's to see, whatever statuses a caller asks for.
        wanted = tuple(
            sorted(set(statuses or transitions.VISIBLE_TO_REQUESTER) & set(transitions.VISIBLE_TO_REQUESTER))
        )
        scope = f"ListAssignmentsForHIT:{requester_id}:{hit_id}:{','.join(wanted)}"
        after = self._tokens.decode(scope, next_token)
        query = (
            select(assignments)
            .where(assignments.c.hit_id == hit_id, assignments.c.status.in_(wanted))
            .order_by(assignments.c.submitted_at, assignments.c.id)
            .limit(page_size(max_results))
        )
        if after is not None:
            query = query.where(paging.after(assignments.c.submitted_at, assignments.c.id, after))
        with self._tx.read() as (conn, _now):
            slots.load_hit(conn, hit_id, requester_id)  # another requester's HIT does not exist
            items = tuple(Assignment.from_row(r) for r in conn.execute(query))
        if not items:
            return Page(items, None)
        last = items[-1]
        assert last.submitted_at is not None
        return Page(items, self._tokens.encode(scope, Position(to_micros(last.submitted_at), last.id)))

    def approve(
        self,
        requester_id: str,
        assignment_id: str,
        feedback: str | None,
        override_rejection: bool,
        *,
        request_id: str,
    ) -> None:
        """Pay the reward and the fee out of the HIT's reserve.  Approving an assignment that is already
        approved (for instance auto-approved with AutoApprovalDelayInSeconds=0) succeeds and pays nothing."""
        check_length("RequesterFeedback", feedback)
        with self._tx.write() as (conn, now):
            row = transitions.load_assignment(conn, assignment_id, requester_id)
            hit = slots.load_hit(conn, row.hit_id)
            transitions.approve(
                conn, hit, row, now, feedback, request_id, override_rejection=override_rejection
            )

    def approve_rejected(
        self, requester_id: str, assignment_id: str, feedback: str | None, *, request_id: str
    ) -> None:
        """The legacy ApproveRejectedAssignment: rejected work only (submitted work is approved by
        ApproveAssignment), decided in the same transaction that pays."""
        check_length("RequesterFeedback", feedback)
        with self._tx.write() as (conn, now):
            row = transitions.load_assignment(conn, assignment_id, requester_id)
            if row.status != "Rejected":
                raise InvalidStateError(
                    "This operation can be called with a status of: Rejected",
                    data={"AssignmentId": assignment_id, "AssignmentStatus": row.status},
                )
            hit = slots.load_hit(conn, row.hit_id)
            transitions.approve(conn, hit, row, now, feedback, request_id, override_rejection=True)

    def reject(self, requester_id: str, assignment_id: str, feedback: str, *, request_id: str) -> None:
        check_length("RequesterFeedback", feedback)
        with self._tx.write() as (conn, now):
            row = transitions.load_assignment(conn, assignment_id, requester_id)
            transitions.reject(conn, slots.load_hit(conn, row.hit_id), row, now, feedback, request_id)
