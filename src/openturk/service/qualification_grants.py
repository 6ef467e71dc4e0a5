"""The Qualifications workers hold, from the requester's side: granting, revoking and scoring them,
listing a type's workers, and answering workers' requests for a type.

Every call here is the type owner's alone (see ``qualification_access``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from openturk.errors import (
    ParameterError,
    QualificationDoesNotExistError,
    QualificationRequestDoesNotExistError,
)
from openturk.service import slots
from openturk.service.keyset_pages import Listing, keyset_page
from openturk.service.numbered_pages import numbered_page
from openturk.service.paging import NumberedPage, Page, PageTokens
from openturk.service.qualification_access import owned_type
from openturk.service.qualification_records import Qualification, QualificationRequest
from openturk.service.uow import MarketTransactions
from openturk.service.worker_relations import deliver_messages
from openturk.storage.schema_qualifications import qualification_requests, worker_qualifications


def grant(conn: Connection, type_id: str, worker_id: str, value: int, now: datetime) -> None:
    """Give (or give again, with a new value) a worker a Qualification."""
    done = conn.execute(
        update(worker_qualifications)
        .where(
            worker_qualifications.c.qualification_type_id == type_id,
            worker_qualifications.c.worker_id == worker_id,
        )
        .values(integer_value=value, status="Granted", granted_at=now, revoked_at=None, reason=None)
    ).rowcount
    if not done:
        conn.execute(
            insert(worker_qualifications).values(
                qualification_type_id=type_id,
                worker_id=worker_id,
                integer_value=value,
                status="Granted",
                created_at=now,
                granted_at=now,
            )
        )


_SUBJECT_MAX = 200  # worker_messages.subject, as NotifyWorkers' Subject


def _owned(requester_id: str, type_id: str, action: str) -> Callable[[Connection], object]:
    """``owned_type`` as a listing's access check (run in the listing's own read transaction)."""
    return lambda conn: owned_type(conn, requester_id, type_id, action)


def _change_held(conn: Connection, type_id: str, worker_id: str, **values: Any) -> None:
    """Update the Qualification the worker holds (granted, not revoked); none is an error."""
    done = conn.execute(
        update(worker_qualifications)
        .where(
            worker_qualifications.c.qualification_type_id == type_id,
            worker_qualifications.c.worker_id == worker_id,
            worker_qualifications.c.status == "Granted",
        )
        .values(**values)
    ).rowcount
    if not done:
        raise QualificationDoesNotExistError(type_id, worker_id)


def _tell(
    conn: Connection,
    requester_id: str,
    worker_id: str,
    subject: str,
    text: str,
    now: datetime,
    request_id: str | None = None,
) -> None:
    """A message in the worker's inbox from the requester, its subject cut to fit."""
    deliver_messages(conn, requester_id, [worker_id], subject[:_SUBJECT_MAX], text, now, request_id)


class QualificationGrantService:
    def __init__(self, tx: MarketTransactions, tokens: PageTokens) -> None:
        self._tx = tx
        self._tokens = tokens

    # --- workers' Qualifications ---------------------------------------------------------------------

    def associate(
        self,
        requester_id: str,
        type_id: str,
        worker_id: str,
        value: int | None,
        *,
        notify: bool = True,
        request_id: str | None = None,
    ) -> None:
        """Grant the Qualification; ``notify`` (MTurk's SendNotification, true unless turned off) also
        tells the worker, in their inbox."""
        with self._tx.write() as (conn, now):
            type_row = owned_type(conn, requester_id, type_id, "assign it")
            slots.load_worker(conn, worker_id)
            score = 1 if value is None else value
            grant(conn, type_id, worker_id, score, now)
            if notify:
                text = f'You have been granted the Qualification "{type_row.name}" with a score of {score}.'
                subject = f"Qualification granted: {type_row.name}"
                _tell(conn, requester_id, worker_id, subject, text, now, request_id)

    def disassociate(self, requester_id: str, type_id: str, worker_id: str, reason: str | None) -> None:
        """Revoke it; a Reason goes to the worker ("The user who had the Qualification sees this
        message")."""
        with self._tx.write() as (conn, now):
            type_row = owned_type(conn, requester_id, type_id, "revoke it")
            _change_held(conn, type_id, worker_id, status="Revoked", revoked_at=now, reason=reason)
            if reason:
                _tell(conn, requester_id, worker_id, f"Qualification revoked: {type_row.name}", reason, now)

    def update_score(self, requester_id: str, type_id: str, worker_id: str, value: int) -> None:
        """The legacy UpdateQualificationScore: a new value for a Qualification the worker holds, without
        a message (AssociateQualificationWithWorker is the 2017 API's way, and grants it if need be)."""
        with self._tx.write() as (conn, _now):
            owned_type(conn, requester_id, type_id, "change its scores")
            _change_held(conn, type_id, worker_id, integer_value=value)

    def score(self, requester_id: str, type_id: str, worker_id: str) -> Qualification:
        with self._tx.read() as (conn, _now):
            owned_type(conn, requester_id, type_id, "read its scores")
            row = conn.execute(
                select(worker_qualifications).where(
                    worker_qualifications.c.qualification_type_id == type_id,
                    worker_qualifications.c.worker_id == worker_id,
                )
            ).first()
        if row is None:
            raise QualificationDoesNotExistError(type_id, worker_id)
        return Qualification.from_row(row)

    def list_workers(
        self,
        requester_id: str,
        type_id: str,
        status: str | None,
        next_token: str | None,
        max_results: int | None,
    ) -> Page[Qualification]:
        listing = self._workers(requester_id, type_id, status)
        return keyset_page(self._tx, self._tokens, listing, next_token, max_results)

    def workers_page(
        self,
        requester_id: str,
        type_id: str,
        status: str | None,
        page_size: int | None,
        page_number: int | None,
    ) -> NumberedPage[Qualification]:
        """The legacy GetQualificationsForQualificationType."""
        return numbered_page(self._tx, self._workers(requester_id, type_id, status), page_size, page_number)

    def _workers(self, requester_id: str, type_id: str, status: str | None) -> Listing[Qualification]:
        wq = worker_qualifications.c
        wanted = status or "Granted"
        return Listing(
            f"ListWorkersWithQualificationType:{requester_id}:{type_id}:{wanted}",
            select(worker_qualifications).where(wq.qualification_type_id == type_id, wq.status == wanted),
            (wq.created_at, wq.worker_id),
            lambda r, _now: Qualification.from_row(r),
            _owned(requester_id, type_id, "list its workers"),
        )

    # --- requests, from the owner's side -------------------------------------------------------------

    def list_requests(
        self, requester_id: str, type_id: str | None, next_token: str | None, max_results: int | None
    ) -> Page[QualificationRequest]:
        listing = self._requests(requester_id, type_id)
        return keyset_page(self._tx, self._tokens, listing, next_token, max_results)

    def requests_page(
        self,
        requester_id: str,
        type_id: str | None,
        page_size: int | None,
        page_number: int | None,
        *,
        by_type: bool = False,
        descending: bool = False,
    ) -> NumberedPage[QualificationRequest]:
        """The legacy GetQualificationRequests: by submission time (or by type first), either way."""
        by = qualification_requests.c.qualification_type_id
        order = [by.desc() if descending else by.asc()] if by_type else []
        listing = self._requests(requester_id, type_id)
        return numbered_page(self._tx, listing, page_size, page_number, order, descending=descending)

    def _requests(self, requester_id: str, type_id: str | None) -> Listing[QualificationRequest]:
        qr = qualification_requests.c
        query = select(qualification_requests).where(qr.requester_id == requester_id, qr.status == "Pending")
        check = None
        if type_id is not None:
            check = _owned(requester_id, type_id, "list its requests")
            query = query.where(qr.qualification_type_id == type_id)
        return Listing(
            f"ListQualificationRequests:{requester_id}:{type_id}",
            query,
            (qr.submitted_at, qr.id),
            lambda r, _now: QualificationRequest.from_row(r),
            check,
        )

    def _pending(self, conn: Connection, requester_id: str, request_id: str) -> Row[Any]:
        row = conn.execute(
            select(qualification_requests).where(
                qualification_requests.c.id == request_id,
                qualification_requests.c.requester_id == requester_id,
            )
        ).first()
        if row is None:
            raise QualificationRequestDoesNotExistError(request_id)
        if row.status != "Pending":
            raise ParameterError(
                f"QualificationRequest {request_id} has already been {row.status.lower()}; "
                "only a pending request can be accepted or rejected.",
                data={"QualificationRequestId": request_id},
            )
        return row

    def accept_request(self, requester_id: str, request_id: str, value: int | None) -> None:
        with self._tx.write() as (conn, now):
            row = self._pending(conn, requester_id, request_id)
            owned_type(conn, requester_id, row.qualification_type_id, "grant it")
            granted = 1 if value is None else value
            grant(conn, row.qualification_type_id, row.worker_id, granted, now)
            conn.execute(
                update(qualification_requests)
                .where(qualification_requests.c.id == request_id)
                .values(status="Granted", resolved_at=now, score=granted)
            )

    def reject_request(self, requester_id: str, request_id: str, reason: str | None) -> None:
        """Reject it; a Reason goes to the worker ("The Worker who made the request can see this
        message")."""
        with self._tx.write() as (conn, now):
            row = self._pending(conn, requester_id, request_id)
            conn.execute(
                update(qualification_requests)
                .where(qualification_requests.c.id == request_id)
                .values(status="Rejected", resolved_at=now, reason=reason)
            )
            if reason:
                type_row = owned_type(conn, requester_id, row.qualification_type_id, "answer its requests")
                subject = f"Qualification request rejected: {type_row.name}"
                _tell(conn, requester_id, row.worker_id, subject, reason, now)
