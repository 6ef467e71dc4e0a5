"""The worker side: workers, accepting, submitting and returning HITs, and what they have earned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from openturk import ids
from openturk.errors import InvalidHITStateError
from openturk.service import events, file_uploads, ledger, requirements, slots, transitions
from openturk.service.form_answers import answers_document, validate_form_answers
from openturk.service.locales import check_locale
from openturk.service.questions import Question, parse_question
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import assignments, journal_entries, postings, workers


@dataclass(frozen=True, slots=True)
class Worker:
    id: str
    name: str | None
    country: str | None
    subdivision: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Accepted:
    assignment_id: str
    hit_id: str
    worker_id: str
    deadline: datetime
    question_kind: str
    external_url: str | None


@dataclass(frozen=True, slots=True)
class Task:
    """What the worker's task page shows for one assignment."""

    assignment_id: str
    hit_id: str
    worker_id: str
    status: str
    question: Question
    title: str
    description: str
    reward_cents: int
    deadline: datetime
    requester_feedback: str | None = None  # shown to the worker with an approval or rejection


@dataclass(frozen=True, slots=True)
class Payment:
    kind: str  # "reward" or "bonus"
    cents: int
    assignment_id: str | None
    hit_id: str | None
    reason: str | None
    time: datetime


class WorkerService:
    def __init__(self, tx: MarketTransactions) -> None:
        self._tx = tx

    def create(
        self, name: str | None = None, country: str | None = None, subdivision: str | None = None
    ) -> Worker:
        country, subdivision = check_locale(country, subdivision)
        worker_id = ids.worker_id()
        with self._tx.db.write() as conn:
            now = self._tx.clock.now(conn)
            account = ledger.open_account(conn, f"worker:{worker_id}", "worker", no_overdraft=True)
            conn.execute(
                insert(workers).values(
                    id=worker_id,
                    name=name,
                    country=country,
                    subdivision=subdivision,
                    account_id=account,
                    created_at=now,
                )
            )
        return Worker(worker_id, name, country, subdivision, now)

    def accept(self, hit_id: str, worker_id: str) -> Accepted:
        with self._tx.write() as (conn, now):
            slots.load_worker(conn, worker_id)
            hit = slots.load_hit(conn, hit_id)
            if self._holds(conn, hit_id, worker_id):
                raise self._already_accepted(hit_id, worker_id)
            if hit.status != "Assignable":
                reason = "has expired" if hit.expires_at <= now else "has no assignments available"
                if hit.status == "Disposed":
                    reason = "has been deleted"
                raise InvalidHITStateError(
                    f"HIT {hit_id} {reason}; it cannot be accepted.",
                    data={"HITId": hit_id, "HITStatus": hit.status},
                )
            requirements.require(conn, worker_id, hit, requirements.Action.ACCEPT)
            hit_type = slots.load_hit_type(conn, hit)
            assignment_id = ids.entity_id()
            deadline = now + timedelta(seconds=hit_type.assignment_duration_s)
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(assignments).values(
                            id=assignment_id,
                            hit_id=hit_id,
                            worker_id=worker_id,
                            requester_id=hit.requester_id,
                            status="Accepted",
                            accepted_at=now,
                            deadline_at=deadline,
                        )
                    )
            except IntegrityError:  # a concurrent accept by the same worker won the race
                raise self._already_accepted(hit_id, worker_id) from None
            transitions.bump(conn, hit_id, num_pending=1)
            events.record_event(conn, now, "AssignmentAccepted", hit_id, assignment_id)
            slots.settle(conn, hit_id, now)
            question = parse_question(hit.question)
            return Accepted(
                assignment_id, hit_id, worker_id, deadline, question.kind.value, question.external_url
            )

    def submit(
        self,
        assignment_id: str,
        answers: Sequence[tuple[str, str]],
        files: Sequence[file_uploads.IncomingFile] = (),
    ) -> str:
        """Store the answers as a QuestionFormAnswers document (and any uploaded files, see
        ``file_uploads``); returns the new assignment status."""
        staged: list[file_uploads.StagedFile] = []
        if files:
            # Everything that can be told without the bytes first, so a submission that will be
            # refused copies nothing; then the copy, outside any transaction.
            store = file_uploads.FileStore.for_database(self._tx.db.url)
            with self._tx.read() as (conn, _now):
                row = transitions.load_assignment(conn, assignment_id)
                transitions.require_status(row, "Accepted")
                question = parse_question(slots.load_hit(conn, row.hit_id).question)
                file_uploads.check_text_answers(question, answers)
                accepted = file_uploads.check_files(store, question, files)
            staged = file_uploads.stage_files(store, accepted)
        try:
            with self._tx.write() as (conn, now):
                row = transitions.load_assignment(conn, assignment_id)
                question = parse_question(slots.load_hit(conn, row.hit_id).question)
                file_uploads.check_text_answers(question, answers)
                uploads = file_uploads.record_files(conn, row, staged, now)
                validate_form_answers(question, [*answers, *((k, key) for k, (_, key) in uploads.items())])
                document = answers_document(answers, question=question, uploads=uploads)
                return transitions.submit(conn, row, document, now, None)
        except BaseException:
            file_uploads.discard(staged)
            raise

    def return_assignment(self, assignment_id: str) -> None:
        with self._tx.write() as (conn, now):
            transitions.return_(conn, transitions.load_assignment(conn, assignment_id), now, None)

    def task(self, assignment_id: str) -> Task:
        """An assignment with its HIT's question and terms, as the worker sees them (read only)."""
        with self._tx.read() as (conn, _now):
            row = transitions.load_assignment(conn, assignment_id)
            hit = slots.load_hit(conn, row.hit_id)
            hit_type = slots.load_hit_type(conn, hit)
        return Task(
            assignment_id=row.id,
            hit_id=row.hit_id,
            worker_id=row.worker_id,
            status=row.status,
            question=parse_question(hit.question),
            title=hit_type.title,
            description=hit_type.description,
            reward_cents=int(hit.reward_cents),
            deadline=row.deadline_at,
            requester_feedback=row.requester_feedback,
        )

    def earnings(self, worker_id: str) -> list[Payment]:
        """Every reward and bonus paid to the worker, oldest first, as MTurk shows a worker."""
        with self._tx.read() as (conn, _now):
            account = int(slots.load_worker(conn, worker_id).account_id)
            rows = conn.execute(
                select(
                    journal_entries.c.kind,
                    journal_entries.c.created_at,
                    journal_entries.c.hit_id,
                    journal_entries.c.assignment_id,
                    journal_entries.c.memo,
                    postings.c.amount_cents,
                )
                .join(postings, postings.c.entry_id == journal_entries.c.id)
                .where(postings.c.credit_account_id == account)
                .order_by(journal_entries.c.created_at, journal_entries.c.id)
            ).all()
        return [
            Payment(
                "bonus" if r.kind == "bonus" else "reward",
                int(r.amount_cents),
                r.assignment_id,
                r.hit_id,
                r.memo if r.kind == "bonus" else None,
                r.created_at,
            )
            for r in rows
        ]

    def balance(self, worker_id: str) -> int:
        with self._tx.read() as (conn, _now):
            return ledger.balance(conn, int(slots.load_worker(conn, worker_id).account_id))

    @staticmethod
    def _holds(conn: Connection, hit_id: str, worker_id: str) -> bool:
        live = assignments.c.status.in_(("Accepted", "Submitted", "Approved", "Rejected"))
        found = conn.execute(
            select(assignments.c.id).where(
                assignments.c.hit_id == hit_id, assignments.c.worker_id == worker_id, live
            )
        ).first()
        return found is not None

    @staticmethod
    def _already_accepted(hit_id: str, worker_id: str) -> InvalidHITStateError:
        return InvalidHITStateError(
            f"Worker {worker_id} has already accepted HIT {hit_id}; a worker may work on a HIT once.",
            data={"HITId": hit_id, "WorkerId": worker_id},
        )
