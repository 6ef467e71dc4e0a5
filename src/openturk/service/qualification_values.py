"""A worker's Qualification values, as requirements compare them: those granted to the worker, and
the system types computed from the worker's record.

Approval rate and HITs approved come from the worker's assignments, locale from the worker's profile
(US when the profile names no country).  MTurk's convention for new workers holds: until a worker has
submitted 100 assignments the approval rate is 100.  After that it is the share of the worker's reviewed
assignments (approved + rejected) that were approved, rounded down, so 94.9% never passes
``GreaterThanOrEqualTo 95``.  An administrator may pin either value for a worker (``openturk worker
set``); Masters, sandbox Masters and adult are held only when granted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from openturk.service import slots
from openturk.storage.schema import assignments
from openturk.storage.schema_qualifications import worker_qualifications

APPROVAL_RATE = "000000000000000000L0"
HITS_APPROVED = "00000000000000000040"
LOCALE = "00000000000000000071"
ADULT = "00000000000000000060"
MASTERS = "2F1QJWKUDD8XADTFD2Q0G6UTO95ALH"
SANDBOX_MASTERS = "2ARFPLSP75KLA8M8DH1HTEQVJT3SY6"
COMPUTED = frozenset({APPROVAL_RATE, HITS_APPROVED, LOCALE})
SYSTEM_IDS = frozenset({APPROVAL_RATE, HITS_APPROVED, LOCALE, ADULT, MASTERS, SANDBOX_MASTERS})
NEW_WORKER_SUBMISSIONS = 100  # below this many submitted assignments the approval rate is 100
DEFAULT_COUNTRY = "US"


@dataclass(frozen=True, slots=True)
class Value:
    """A worker's Qualification value: an integer, or a locale for Worker_Locale."""

    integer: int | None = None
    country: str | None = None
    subdivision: str | None = None


def history(conn: Connection, worker_id: str) -> tuple[int, int, int]:
    """(submitted, approved, rejected) assignments of the worker, over every requester."""
    status = assignments.c.status
    row = conn.execute(
        select(
            func.coalesce(func.sum(case((status.in_(("Submitted", "Approved", "Rejected")), 1), else_=0)), 0),
            func.coalesce(func.sum(case((status == "Approved", 1), else_=0)), 0),
            func.coalesce(func.sum(case((status == "Rejected", 1), else_=0)), 0),
        ).where(assignments.c.worker_id == worker_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def approval_rate(submitted: int, approved: int, rejected: int) -> int:
    if submitted < NEW_WORKER_SUBMISSIONS or approved + rejected == 0:
        return 100
    return approved * 100 // (approved + rejected)


def worker_values(conn: Connection, worker_id: str, type_ids: Iterable[str]) -> dict[str, Value | None]:
    """The worker's value for each of ``type_ids`` (None where the worker holds no Qualification)."""
    wanted = set(type_ids)
    worker = slots.load_worker(conn, worker_id)
    stored = {
        row.qualification_type_id: row.integer_value
        for row in conn.execute(
            select(
                worker_qualifications.c.qualification_type_id, worker_qualifications.c.integer_value
            ).where(
                worker_qualifications.c.worker_id == worker_id,
                worker_qualifications.c.status == "Granted",
                worker_qualifications.c.qualification_type_id.in_(wanted),
            )
        )
    }
    values: dict[str, Value | None] = {
        type_id: None if stored.get(type_id) is None else Value(integer=int(stored[type_id]))
        for type_id in wanted
    }
    if LOCALE in wanted:
        values[LOCALE] = Value(
            country=(worker.country or DEFAULT_COUNTRY).upper(), subdivision=worker.subdivision
        )
    computed = [t for t in (APPROVAL_RATE, HITS_APPROVED) if t in wanted and t not in stored]
    if computed:
        submitted, approved, rejected = history(conn, worker_id)
        if APPROVAL_RATE in computed:
            values[APPROVAL_RATE] = Value(integer=approval_rate(submitted, approved, rejected))
        if HITS_APPROVED in computed:
            values[HITS_APPROVED] = Value(integer=approved)
    return values
