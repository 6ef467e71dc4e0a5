"""Worker blocks and messages to workers (CreateWorkerBlock, DeleteWorkerBlock, ListWorkerBlocks,
NotifyWorkers; ``openturk worker messages``).

* A blocked worker neither sees nor accepts the blocking requester's HITs (see ``requirements``); the
  reason is kept for the requester (the worker never sees it).  Blocking again replaces the reason;
  unblocking a worker who is not blocked succeeds, as on MTurk.
* NotifyWorkers takes 1 to 100 worker ids, a Subject of at most 200 characters and a MessageText of at
  most 4096.  As MTurk's documentation says, a worker receives the message only if the requester has
  approved or rejected work of theirs; every other id comes back in NotifyWorkersFailureStatuses with
  ``HardFailure`` (retrying cannot help).  A repeated id is sent once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from openturk import ids
from openturk.errors import ParameterError
from openturk.service import slots
from openturk.service.keyset_pages import Listing, keyset_page
from openturk.service.numbered_pages import numbered_page
from openturk.service.paging import NumberedPage, Page, PageTokens
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import assignments, requesters, workers
from openturk.storage.schema_qualifications import worker_blocks, worker_messages

MAX_WORKERS = 100
MAX_SUBJECT = 200
MAX_MESSAGE = 4096


@dataclass(frozen=True, slots=True)
class WorkerBlock:
    worker_id: str
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NotifyFailure:
    worker_id: str
    code: str  # HardFailure or SoftFailure
    message: str


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    requester_id: str
    requester_name: str
    subject: str
    text: str
    sent_at: datetime


def deliver_messages(
    conn: Connection,
    requester_id: str,
    worker_ids: Sequence[str],
    subject: str,
    text: str,
    now: datetime,
    request_id: str | None,
) -> None:
    """Put a message from the requester in each worker's inbox (``openturk worker messages``)."""
    if worker_ids:
        conn.execute(
            insert(worker_messages),
            [
                {
                    "id": ids.entity_id(),
                    "requester_id": requester_id,
                    "worker_id": worker_id,
                    "subject": subject,
                    "message": text,
                    "sent_at": now,
                    "request_id": request_id,
                }
                for worker_id in worker_ids
            ],
        )


class WorkerRelationsService:
    def __init__(self, tx: MarketTransactions, tokens: PageTokens) -> None:
        self._tx = tx
        self._tokens = tokens

    # --- blocks ----------------------------------------------------------------------------------------

    def block(self, requester_id: str, worker_id: str, reason: str) -> None:
        if not reason.strip():
            raise ParameterError("A Reason is required to block a worker.", data={"WorkerId": worker_id})
        with self._tx.write() as (conn, now):
            slots.load_worker(conn, worker_id)
            done = conn.execute(
                update(worker_blocks)
                .where(worker_blocks.c.requester_id == requester_id, worker_blocks.c.worker_id == worker_id)
                .values(reason=reason)
            ).rowcount
            if not done:
                conn.execute(
                    insert(worker_blocks).values(
                        requester_id=requester_id, worker_id=worker_id, reason=reason, created_at=now
                    )
                )

    def unblock(self, requester_id: str, worker_id: str) -> None:
        with self._tx.write() as (conn, _now):
            slots.load_worker(conn, worker_id)
            conn.execute(
                delete(worker_blocks).where(
                    worker_blocks.c.requester_id == requester_id, worker_blocks.c.worker_id == worker_id
                )
            )

    def list_blocks(
        self, requester_id: str, next_token: str | None, max_results: int | None
    ) -> Page[WorkerBlock]:
        return keyset_page(self._tx, self._tokens, self._blocks(requester_id), next_token, max_results)

    def blocks_page(
        self, requester_id: str, page_size: int | None, page_number: int | None
    ) -> NumberedPage[WorkerBlock]:
        """The legacy GetBlockedWorkers."""
        return numbered_page(self._tx, self._blocks(requester_id), page_size, page_number)

    @staticmethod
    def _blocks(requester_id: str) -> Listing[WorkerBlock]:
        wb = worker_blocks.c
        return Listing(
            f"ListWorkerBlocks:{requester_id}",
            select(worker_blocks).where(wb.requester_id == requester_id),
            (wb.created_at, wb.worker_id),
            lambda r, _now: WorkerBlock(r.worker_id, r.reason, r.created_at),
        )

    # --- messages --------------------------------------------------------------------------------------

    def notify(
        self, requester_id: str, subject: str, text: str, worker_ids: Sequence[str], *, request_id: str
    ) -> list[NotifyFailure]:
        if not 1 <= len(worker_ids) <= MAX_WORKERS:
            raise ParameterError(
                f"WorkerIds must name between 1 and {MAX_WORKERS} workers; {len(worker_ids)} were given.",
                data={"WorkerIds": str(len(worker_ids))},
            )
        if not subject.strip() or len(subject) > MAX_SUBJECT:
            raise ParameterError(
                f"The Subject must be between 1 and {MAX_SUBJECT} characters; it has {len(subject)}.",
                data={"Subject": subject[:MAX_SUBJECT]},
            )
        if not text.strip() or len(text) > MAX_MESSAGE:
            raise ParameterError(
                f"The MessageText must be between 1 and {MAX_MESSAGE} characters; it has {len(text)}.",
                data={"MessageText": text[:80]},
            )
        unique = list(dict.fromkeys(worker_ids))
        failures: list[NotifyFailure] = []
        with self._tx.write() as (conn, now):
            known = set(conn.execute(select(workers.c.id).where(workers.c.id.in_(unique))).scalars())
            worked = set(
                conn.execute(
                    select(assignments.c.worker_id)
                    .where(
                        assignments.c.requester_id == requester_id,
                        assignments.c.worker_id.in_(unique),
                        assignments.c.status.in_(("Approved", "Rejected")),
                    )
                    .distinct()
                ).scalars()
            )
            sent = []
            for worker_id in unique:
                if worker_id not in known:
                    failures.append(
                        NotifyFailure(worker_id, "HardFailure", f"Worker {worker_id} does not exist.")
                    )
                elif worker_id not in worked:
                    failures.append(
                        NotifyFailure(
                            worker_id,
                            "HardFailure",
                            f"Cannot send a message to worker {worker_id}: you have not approved or rejected "
                            "any of their work.",
                        )
                    )
                else:
                    sent.append(worker_id)
            deliver_messages(conn, requester_id, sent, subject, text, now, request_id)
        return failures

    def messages(self, worker_id: str) -> list[Message]:
        """What has arrived for the worker, oldest first."""
        with self._tx.read() as (conn, _now):
            slots.load_worker(conn, worker_id)
            rows = conn.execute(
                select(worker_messages, requesters.c.name.label("requester_name"))
                .join(requesters, requesters.c.id == worker_messages.c.requester_id)
                .where(worker_messages.c.worker_id == worker_id)
                .order_by(worker_messages.c.sent_at, worker_messages.c.id)
            ).all()
        return [
            Message(r.id, r.requester_id, r.requester_name, r.subject, r.message, r.sent_at) for r in rows
        ]
