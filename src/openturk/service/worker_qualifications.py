"""Qualifications from the worker's side, and the administrator's settings for a worker.

Requesting a Qualification (``openturk worker request-qualification``):

* the type must be Active and requestable (system types are not: their values are computed or granted
  by an administrator);
* a type with a Test takes the worker's answers at once (validated like a HIT's QuestionForm), so the
  TestDurationInSeconds is always met; answers to a type without a Test are refused;
* AutoGranted types grant AutoGrantedValue at once; a Test with an AnswerKey is graded at once and the
  score granted (or the request rejected when a RangeMapping maps the score to nothing); anything else
  waits for the owner (ListQualificationRequests, Accept/RejectQualificationRequest);
* retries: with no RetryDelayInSeconds a worker may request a type once; with one, again once that
  many seconds have passed since the previous request (on the marketplace clock); never while a
  request is still pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from openturk import ids
from openturk.errors import ParameterError, RequestError
from openturk.service import qualification_values, slots
from openturk.service.form_answers import answers_document, validate_form_answers
from openturk.service.locales import check_locale
from openturk.service.qualification_access import load_type
from openturk.service.qualification_grants import grant
from openturk.service.qualification_tests import grade, parse_answer_key
from openturk.service.questions import parse_question
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import workers
from openturk.storage.schema_qualifications import (
    qualification_requests,
    qualification_types,
    worker_qualifications,
)

# What `openturk worker set` may pin or grant, by system type.
SETTABLE = {
    qualification_values.APPROVAL_RATE: (0, 100),
    qualification_values.HITS_APPROVED: (0, 2**31 - 1),
    qualification_values.ADULT: (0, 1),
    qualification_values.MASTERS: (0, 2**31 - 1),
    qualification_values.SANDBOX_MASTERS: (0, 2**31 - 1),
}


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    request_id: str
    type_id: str
    worker_id: str
    status: str  # Granted, Rejected or Pending
    value: int | None


@dataclass(frozen=True, slots=True)
class HeldQualification:
    type_id: str
    name: str
    value: str  # an integer, or a locale such as "US-CA"
    source: str  # "computed", "setting" or "granted"
    granted_at: datetime | None


class RequestRefusedError(RequestError):
    turk_code = legacy_code = "AWS.MechanicalTurk.QualificationRequestNotAllowed"


class WorkerQualificationService:
    def __init__(self, tx: MarketTransactions) -> None:
        self._tx = tx

    def request(self, worker_id: str, type_id: str, answers: Sequence[tuple[str, str]]) -> RequestOutcome:
        with self._tx.write() as (conn, now):
            slots.load_worker(conn, worker_id)
            row = load_type(conn, type_id)
            if row.requester_id is None or not row.is_requestable:
                raise RequestRefusedError(
                    f"QualificationType {type_id} ({row.name}) cannot be requested: MTurk assigns it.",
                    data={"QualificationTypeId": type_id},
                )
            if row.status != "Active":
                raise RequestRefusedError(
                    f"QualificationType {type_id} is not Active; it cannot be requested.",
                    data={"QualificationTypeId": type_id},
                )
            self._check_retry(conn, worker_id, type_id, row.retry_delay_s, now)
            test = None if row.test is None else parse_question(row.test)
            answer = None
            if test is None and answers:
                raise ParameterError(f"QualificationType {type_id} has no Test: send no answers.")
            if test is not None:
                if not answers:
                    raise ParameterError(f"QualificationType {type_id} has a Test: answer its questions.")
                validate_form_answers(test, answers)
                answer = answers_document(answers, question=test)
            status, value = "Pending", None
            if row.auto_granted:
                status, value = "Granted", row.auto_granted_value if row.auto_granted_value is not None else 1
            elif test is not None and row.answer_key is not None:
                value = grade(parse_answer_key(row.answer_key, test), answers)
                status = "Rejected" if value is None else "Granted"
            request_id = ids.entity_id()
            conn.execute(
                insert(qualification_requests).values(
                    id=request_id,
                    qualification_type_id=type_id,
                    worker_id=worker_id,
                    requester_id=row.requester_id,
                    status=status,
                    test=row.test,
                    answer=answer,
                    score=value,
                    submitted_at=now,
                    resolved_at=None if status == "Pending" else now,
                    reason="The score is in no range of the AnswerKey." if status == "Rejected" else None,
                )
            )
            if status == "Granted" and value is not None:
                grant(conn, type_id, worker_id, value, now)
            return RequestOutcome(request_id, type_id, worker_id, status, value)

    @staticmethod
    def _check_retry(
        conn: Connection, worker_id: str, type_id: str, delay: int | None, now: datetime
    ) -> None:
        qr = qualification_requests.c
        rows = conn.execute(
            select(qr.status, qr.submitted_at)
            .where(qr.worker_id == worker_id, qr.qualification_type_id == type_id)
            .order_by(qr.submitted_at.desc())
        ).all()
        if not rows:
            return
        if any(r.status == "Pending" for r in rows):
            raise RequestRefusedError(
                f"Worker {worker_id} already has a pending request for QualificationType {type_id}.",
                data={"QualificationTypeId": type_id, "WorkerId": worker_id},
            )
        if delay is None:
            raise RequestRefusedError(
                f"QualificationType {type_id} does not allow retries, and worker {worker_id} has already "
                "requested it.",
                data={"QualificationTypeId": type_id, "WorkerId": worker_id},
            )
        again = rows[0].submitted_at + timedelta(seconds=delay)
        if now < again:
            wait = int((again - now).total_seconds()) + 1
            raise RequestRefusedError(
                f"Worker {worker_id} can request QualificationType {type_id} again after "
                f"{again.strftime('%Y-%m-%dT%H:%M:%SZ')} (in {wait} seconds): "
                f"RetryDelayInSeconds is {delay}.",
                data={"QualificationTypeId": type_id, "WorkerId": worker_id},
            )

    def held(self, worker_id: str) -> list[HeldQualification]:
        """Every Qualification the worker holds: computed system values, settings and grants."""
        with self._tx.read() as (conn, _now):
            slots.load_worker(conn, worker_id)
            computed = qualification_values.worker_values(conn, worker_id, qualification_values.COMPUTED)
            rows = conn.execute(
                select(
                    worker_qualifications.c.qualification_type_id,
                    worker_qualifications.c.integer_value,
                    worker_qualifications.c.granted_at,
                    qualification_types.c.name,
                    qualification_types.c.requester_id,
                )
                .join(
                    qualification_types,
                    qualification_types.c.id == worker_qualifications.c.qualification_type_id,
                )
                .where(
                    worker_qualifications.c.worker_id == worker_id,
                    worker_qualifications.c.status == "Granted",
                )
                .order_by(worker_qualifications.c.created_at, worker_qualifications.c.qualification_type_id)
            ).all()
            names = dict(
                conn.execute(
                    select(qualification_types.c.id, qualification_types.c.name).where(
                        qualification_types.c.id.in_(qualification_values.COMPUTED)
                    )
                ).all()
            )
        stored = {r.qualification_type_id for r in rows}
        held: list[HeldQualification] = []
        for type_id in (
            qualification_values.APPROVAL_RATE,
            qualification_values.HITS_APPROVED,
            qualification_values.LOCALE,
        ):
            value = computed.get(type_id)
            if type_id in stored or value is None:
                continue
            shown = (
                str(value.integer)
                if value.integer is not None
                else f"{value.country}{'-' + value.subdivision if value.subdivision else ''}"
            )
            held.append(HeldQualification(type_id, names.get(type_id, type_id), shown, "computed", None))
        for r in rows:
            source = "setting" if r.requester_id is None else "granted"
            held.append(
                HeldQualification(r.qualification_type_id, r.name, str(r.integer_value), source, r.granted_at)
            )
        return held

    # --- administrator's settings ----------------------------------------------------------------------

    def set_system(self, worker_id: str, type_id: str, value: int | None) -> None:
        """Grant (Masters, adult) or pin (approval rate, HITs approved) a system value; None clears it."""
        if type_id not in SETTABLE:
            raise ParameterError(
                f"QualificationType {type_id} is not a system type a worker setting can change."
            )
        low, high = SETTABLE[type_id]
        if value is not None and not low <= value <= high:
            raise ParameterError(f"The value {value} for {type_id} must be between {low} and {high}.")
        with self._tx.write() as (conn, now):
            slots.load_worker(conn, worker_id)
            if value is None:
                conn.execute(
                    delete(worker_qualifications).where(
                        worker_qualifications.c.worker_id == worker_id,
                        worker_qualifications.c.qualification_type_id == type_id,
                    )
                )
            else:
                grant(conn, type_id, worker_id, value, now)

    def set_locale(self, worker_id: str, country: str | None, subdivision: str | None) -> None:
        country, subdivision = check_locale(country, subdivision)
        with self._tx.write() as (conn, _now):
            slots.load_worker(conn, worker_id)
            values: dict[str, str | None] = {"subdivision": subdivision}
            if country is not None:
                values["country"] = country
            conn.execute(update(workers).where(workers.c.id == worker_id).values(values))
