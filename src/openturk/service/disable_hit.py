"""The legacy DisableHIT: take a HIT off the marketplace, approve what was submitted, dispose of it.

The 2017 API has no single operation for it (it is UpdateExpirationForHIT, ApproveAssignment for each
submitted assignment, then DeleteHIT).  Here the expiry and the approvals are one transaction through the
same state machine the requester's own approvals use, then the HIT is deleted through ``HitService``.
MTurk approved assignments still in progress once they were submitted; OpenTurk has nowhere to remember
that promise, so a HIT with work in progress is refused whole (InvalidHITState) and nothing changes.
"""

from __future__ import annotations

from sqlalchemy import select, update

from openturk.errors import InvalidHITStateError
from openturk.service import slots, transitions
from openturk.service.hits import HitService
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import assignments, hits


class HitDisabler:
    def __init__(self, tx: MarketTransactions, hit_service: HitService) -> None:
        self._tx = tx
        self._hits = hit_service

    def disable(self, requester_id: str, hit_id: str, *, request_id: str) -> None:
        with self._tx.write() as (conn, now):
            hit = slots.load_hit(conn, hit_id, requester_id)
            if hit.status == "Disposed":
                raise InvalidHITStateError(
                    f"HIT {hit_id} has been deleted and cannot be changed.", data={"HITId": hit_id}
                )
            if hit.num_pending:
                raise InvalidHITStateError(
                    f"HIT {hit_id} has {hit.num_pending} assignment(s) in progress; OpenTurk can disable it "
                    "once they are submitted, returned or abandoned (ForceExpireHIT stops new ones).",
                    data={"HITId": hit_id},
                )
            if hit.expires_at > now:
                conn.execute(update(hits).where(hits.c.id == hit_id).values(expires_at=now))
            submitted = conn.execute(
                select(assignments)
                .where(assignments.c.hit_id == hit_id, assignments.c.status == "Submitted")
                .order_by(assignments.c.submitted_at, assignments.c.id)
            ).all()
            for row in submitted:
                transitions.approve(conn, slots.load_hit(conn, hit_id), row, now, None, request_id)
            slots.settle(conn, hit_id, now, request_id)
        self._hits.delete_hit(requester_id, hit_id, request_id=request_id)
