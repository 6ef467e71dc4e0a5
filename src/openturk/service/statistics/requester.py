"""GetRequesterStatistic's statistics, each a method named as MTurk named it, over one window.

Payouts are read from the journal ("reward" entries, bonus rows), so a statistic equals the ledger to
the cent whatever a HIT's price was when it paid.  Statistics that describe the present (pending
assignments, assignable HITs, liabilities: ``PRESENT``) exist for LifeToDate only, as MTurk documented
for NumberHITsAssignable: OpenTurk keeps no history of them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from openturk.service import ledger, slots
from openturk.service.records import Hit
from openturk.service.statistics.periods import Value, Window, dollars, fraction, scalar, within
from openturk.storage.schema import accounts, assignments, bonuses, hit_types, hits, journal_entries, postings


class RequesterStatistics:
    """The requester statistics over one window, each a method named as MTurk named it."""

    def __init__(self, conn: Connection, requester_id: str, now: datetime) -> None:
        self.conn, self.requester_id, self.now = conn, requester_id, now

    def _assignments(self, time_column: Any, window: Window, status: str | None = None) -> int:
        a = assignments.c
        where = and_(a.requester_id == self.requester_id, within(time_column, window))
        if status is not None:
            where = and_(where, a.status == status)
        return scalar(self.conn, select(func.count()).select_from(assignments).where(where))

    def NumberAssignmentsAccepted(self, w: Window) -> Value:  # noqa: N802 - MTurk's names
        return self._assignments(assignments.c.accepted_at, w)

    def NumberAssignmentsApproved(self, w: Window) -> Value:  # noqa: N802
        return self._assignments(assignments.c.approved_at, w, "Approved")

    def NumberAssignmentsRejected(self, w: Window) -> Value:  # noqa: N802
        return self._assignments(assignments.c.rejected_at, w, "Rejected")

    def NumberAssignmentsReturned(self, w: Window) -> Value:  # noqa: N802
        return self._assignments(assignments.c.returned_at, w, "Returned")

    def NumberAssignmentsAbandoned(self, w: Window) -> Value:  # noqa: N802
        return self._assignments(assignments.c.returned_at, w, "Abandoned")

    def PercentAssignmentsApproved(self, w: Window) -> Value:  # noqa: N802
        approved = self._assignments(assignments.c.approved_at, w, "Approved")
        return fraction(approved, approved + self._assignments(assignments.c.rejected_at, w, "Rejected"))

    def PercentAssignmentsRejected(self, w: Window) -> Value:  # noqa: N802
        rejected = self._assignments(assignments.c.rejected_at, w, "Rejected")
        return fraction(rejected, rejected + self._assignments(assignments.c.approved_at, w, "Approved"))

    def NumberHITsCreated(self, w: Window) -> Value:  # noqa: N802
        where = and_(hits.c.requester_id == self.requester_id, within(hits.c.created_at, w))
        return scalar(self.conn, select(func.count()).select_from(hits).where(where))

    def _reward_cents(self, w: Window, *, fees: bool) -> int:
        """What the "reward" journal entries of the window paid to workers (or, with ``fees``, to the
        marketplace): the money actually moved, whatever the HIT's price was at the time."""
        fees_account = ledger.account_id(self.conn, slots.FEES_ACCOUNT)
        credited = postings.c.credit_account_id == fees_account if fees else accounts.c.kind == "worker"
        query = (
            select(func.coalesce(func.sum(postings.c.amount_cents), 0))
            .select_from(postings)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .join(accounts, accounts.c.id == postings.c.credit_account_id)
            .where(
                journal_entries.c.kind == "reward",
                journal_entries.c.requester_id == self.requester_id,
                within(journal_entries.c.created_at, w),
                credited,
            )
        )
        return scalar(self.conn, query)

    def _bonus_cents(self, w: Window, *, fees: bool) -> int:
        column = bonuses.c.fee_cents if fees else bonuses.c.amount_cents
        query = select(func.coalesce(func.sum(column), 0)).where(
            bonuses.c.requester_id == self.requester_id, within(bonuses.c.granted_at, w)
        )
        return scalar(self.conn, query)

    def TotalRewardPayout(self, w: Window) -> Value:  # noqa: N802
        return dollars(self._reward_cents(w, fees=False))

    def AverageRewardAmount(self, w: Window) -> Value:  # noqa: N802
        approved = self._assignments(assignments.c.approved_at, w, "Approved")
        if not approved:
            return Decimal(0)
        return (Decimal(self._reward_cents(w, fees=False)) / 100 / approved).quantize(Decimal("0.000001"))

    def TotalRewardFeePayout(self, w: Window) -> Value:  # noqa: N802
        return dollars(self._reward_cents(w, fees=True))

    def TotalBonusPayout(self, w: Window) -> Value:  # noqa: N802
        return dollars(self._bonus_cents(w, fees=False))

    def TotalBonusFeePayout(self, w: Window) -> Value:  # noqa: N802
        return dollars(self._bonus_cents(w, fees=True))

    def TotalFeePayout(self, w: Window) -> Value:  # noqa: N802
        return dollars(self._reward_cents(w, fees=True) + self._bonus_cents(w, fees=True))

    def TotalRewardAndFeePayout(self, w: Window) -> Value:  # noqa: N802
        return dollars(self._reward_cents(w, fees=False) + self._reward_cents(w, fees=True))

    # --- the present: LifeToDate only ---------------------------------------------------------------

    def _hits(self) -> list[Hit]:
        query = (
            select(hits, hit_types)
            .join(hit_types, hit_types.c.id == hits.c.hit_type_id)
            .where(hits.c.requester_id == self.requester_id, hits.c.status != "Disposed")
        )
        return [Hit.from_row(r, r, self.now) for r in self.conn.execute(query)]

    def NumberAssignmentsPending(self, w: Window) -> Value:  # noqa: N802
        return self._assignments(assignments.c.submitted_at, w, "Submitted")

    def NumberAssignmentsAvailable(self, w: Window) -> Value:  # noqa: N802
        return sum(h.num_available for h in self._hits())

    def NumberHITsAssignable(self, w: Window) -> Value:  # noqa: N802
        return sum(1 for h in self._hits() if h.status == "Assignable")

    def NumberHITsReviewable(self, w: Window) -> Value:  # noqa: N802
        return sum(1 for h in self._hits() if h.status == "Reviewable")

    def NumberHITsCompleted(self, w: Window) -> Value:  # noqa: N802
        where = and_(hits.c.requester_id == self.requester_id, hits.c.status == "Disposed")
        return scalar(self.conn, select(func.count()).select_from(hits).where(where))

    def _liabilities(self) -> tuple[int, int]:
        """(rewards, fees) in cents still held in the escrow of the requester's HITs: whole slots at the
        HIT's price, the reward part of each and the fee part."""
        held = accounts.c.credits_posted - accounts.c.debits_posted
        query = (
            select(hits.c.reward_cents, hits.c.fee_cents, held.label("held"))
            .join(accounts, accounts.c.id == hits.c.escrow_account_id)
            .where(hits.c.requester_id == self.requester_id, held > 0)
        )
        rewards = fees = 0
        for row in self.conn.execute(query):
            unit = row.reward_cents + row.fee_cents
            reward = (row.held // unit) * row.reward_cents if unit else 0
            rewards += reward
            fees += row.held - reward
        return rewards, fees

    def EstimatedRewardLiability(self, w: Window) -> Value:  # noqa: N802
        return dollars(self._liabilities()[0])

    def EstimatedFeeLiability(self, w: Window) -> Value:  # noqa: N802
        return dollars(self._liabilities()[1])

    def EstimatedTotalLiability(self, w: Window) -> Value:  # noqa: N802
        return dollars(sum(self._liabilities()))


PRESENT = frozenset(
    {
        "NumberAssignmentsPending",
        "NumberAssignmentsAvailable",
        "NumberHITsAssignable",
        "NumberHITsReviewable",
        "NumberHITsCompleted",
        "EstimatedRewardLiability",
        "EstimatedFeeLiability",
        "EstimatedTotalLiability",
    }
)
NAMES = tuple(name for name in vars(RequesterStatistics) if name[0].isupper())
