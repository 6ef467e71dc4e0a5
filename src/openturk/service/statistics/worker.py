"""GetRequesterWorkerStatistic's statistics: one worker's work for one requester, from the requester's
own assignments and the review policies' records about them."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from openturk.service.statistics.periods import Value, Window, fraction, percent, scalar, within
from openturk.storage.schema import assignments
from openturk.storage.schema_events import review_records


class WorkerStatistics:
    """One worker's statistics with one requester: the requester's own assignments and the review
    policies' records about them."""

    def __init__(self, conn: Connection, requester_id: str, worker_id: str) -> None:
        self.conn, self.requester_id, self.worker_id = conn, requester_id, worker_id

    def _decided(self, window: Window) -> tuple[int, int]:
        a = assignments.c
        mine = and_(a.requester_id == self.requester_id, a.worker_id == self.worker_id)
        count = select(func.count()).select_from(assignments)
        approved = scalar(self.conn, count.where(mine, a.status == "Approved", within(a.approved_at, window)))
        rejected = scalar(self.conn, count.where(mine, a.status == "Rejected", within(a.rejected_at, window)))
        return approved, rejected

    def NumberAssignmentsApproved(self, w: Window) -> Value:  # noqa: N802
        return self._decided(w)[0]

    def NumberAssignmentsRejected(self, w: Window) -> Value:  # noqa: N802
        return self._decided(w)[1]

    def PercentAssignmentsApproved(self, w: Window) -> Value:  # noqa: N802
        approved, rejected = self._decided(w)
        return fraction(approved, approved + rejected)

    def PercentAssignmentsRejected(self, w: Window) -> Value:  # noqa: N802
        approved, rejected = self._decided(w)
        return fraction(rejected, approved + rejected)

    def _records(self, key: str, window: Window) -> list[str]:
        """The values of the review records ``key`` about the worker's assignments in the window; for
        keys a HIT-level policy writes again on each run, only each assignment's latest."""
        r = review_records.c
        latest = (
            select(func.max(r.id))
            .select_from(review_records)
            .join(assignments, assignments.c.id == r.subject_id)
            .where(
                r.key == key,
                r.kind == "result",
                assignments.c.requester_id == self.requester_id,
                assignments.c.worker_id == self.worker_id,
                within(r.created_at, window),
            )
            .group_by(r.subject_id, r.question_id)
        )
        return [str(v) for v in self.conn.execute(select(r.value).where(r.id.in_(latest))).scalars()]

    def _known(self, w: Window) -> tuple[int, int]:
        values = self._records("KnownAnswerCorrect", w)
        return sum(1 for v in values if v == "1"), len(values)

    def NumberKnownAnswersCorrect(self, w: Window) -> Value:  # noqa: N802
        return self._known(w)[0]

    def NumberKnownAnswersIncorrect(self, w: Window) -> Value:  # noqa: N802
        correct, evaluated = self._known(w)
        return evaluated - correct

    def NumberKnownAnswersEvaluated(self, w: Window) -> Value:  # noqa: N802
        return self._known(w)[1]

    def PercentKnownAnswersCorrect(self, w: Window) -> Value:  # noqa: N802
        correct, evaluated = self._known(w)
        return percent(correct, evaluated)

    def _plurality(self, w: Window) -> tuple[int, int]:
        right = sum(int(v) for v in self._records("PluralityAnswersCorrect", w))
        wrong = sum(int(v) for v in self._records("PluralityAnswersIncorrect", w))
        return right, right + wrong

    def NumberPluralityAnswersCorrect(self, w: Window) -> Value:  # noqa: N802
        return self._plurality(w)[0]

    def NumberPluralityAnswersIncorrect(self, w: Window) -> Value:  # noqa: N802
        right, evaluated = self._plurality(w)
        return evaluated - right

    def NumberPluralityAnswersEvaluated(self, w: Window) -> Value:  # noqa: N802
        return self._plurality(w)[1]

    def PercentPluralityAnswersCorrect(self, w: Window) -> Value:  # noqa: N802
        right, evaluated = self._plurality(w)
        return percent(right, evaluated)


NAMES = tuple(name for name in vars(WorkerStatistics) if name[0].isupper())
