"""The mechanics every HIT change shares: loading with ownership, escrow movements, state and expiry.

A HIT's escrow account holds ``reward + fee`` for every slot not yet settled; a slot is settled when its
assignment is approved (paid out), rejected (refunded) or when the HIT expires or is deleted with the slot
unused (released, refunded).  So at all times ``escrow == (reward + fee) * (max - approved - rejected -
released)``, which ``ledger audit`` checks.  Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Row

from openturk.errors import HITDoesNotExistError, WorkerDoesNotExistError
from openturk.service import events, ledger
from openturk.storage.db import in_write
from openturk.storage.prepared import Prepared
from openturk.storage.schema import hit_types, hits, requesters, workers

FEES_ACCOUNT = "fees"


def load_worker(conn: Connection, worker_id: str) -> Row[Any]:
    """The worker's row; an unknown id does not exist."""
    row = conn.execute(select(workers).where(workers.c.id == worker_id)).first()
    if row is None:
        raise WorkerDoesNotExistError(worker_id)
    return row


def load_hit(conn: Connection, hit_id: str, requester_id: str | None = None) -> Row[Any]:
    """The HIT (locked for the rest of a write transaction); another requester's HIT does not exist."""
    query = select(hits).where(hits.c.id == hit_id)
    if in_write(conn):
        query = query.with_for_update()
    if requester_id is not None:
        query = query.where(hits.c.requester_id == requester_id)
    row = conn.execute(query).first()
    if row is None:
        raise HITDoesNotExistError(hit_id)
    return row


def load_hit_type(conn: Connection, hit: Row[Any]) -> Row[Any]:
    """The HIT type row of a HIT already loaded (it always exists: HITs reference their type)."""
    return conn.execute(select(hit_types).where(hit_types.c.id == hit.hit_type_id)).one()


def unsettled_slots(hit: Row[Any]) -> int:
    return int(hit.max_assignments - hit.num_approved - hit.num_rejected - hit.num_released)


def unused_slots(counts: Row[Any] | dict[str, Any]) -> int:
    c = counts if isinstance(counts, dict) else counts._mapping
    return int(
        c["max_assignments"]
        - c["num_pending"]
        - c["num_submitted"]
        - c["num_approved"]
        - c["num_rejected"]
        - c["num_released"]
    )


def derive_status(c: dict[str, Any], now: datetime) -> str:
    """MTurk's HITStatus from the counts and the clock."""
    if c["status"] == "Disposed":
        return "Disposed"
    if c["reviewing"]:
        return "Reviewing"
    expired = c["expires_at"] <= now
    done = c["num_submitted"] + c["num_approved"] + c["num_rejected"]
    if c["num_pending"] == 0 and (expired or done + c["num_released"] >= c["max_assignments"]):
        return "Reviewable"
    if not expired and unused_slots(c) > 0:
        return "Assignable"
    return "Unassignable"


def settle(conn: Connection, hit_id: str, now: datetime, request_id: str | None = None) -> Row[Any]:
    """Bring a HIT's stored status up to date and release the reserve of slots that can no longer be
    used because the HIT has expired.  Call after every change to a HIT or its assignments."""
    hit = load_hit(conn, hit_id)
    if hit.status == "Disposed":
        return hit
    state = dict(hit._mapping)
    if hit.expires_at <= now:
        state["expiry_settled"] = True
        unused = unused_slots(state)
        if unused > 0:
            release(conn, hit, unused, at=now, request_id=request_id)
            state["num_released"] += unused
    if state["reviewing"] and derive_status({**state, "reviewing": False}, now) == "Assignable":
        # Extended (more assignments, a later expiry): MTurk puts a Reviewing HIT back on the market.
        state["reviewing"] = False
    state["status"] = derive_status(state, now)
    changed = {k: v for k, v in state.items() if v != hit._mapping[k]}
    if not changed:
        return hit
    conn.execute(update(hits).where(hits.c.id == hit_id).values(**changed))
    events.hit_settled(conn, hit, changed, now, request_id)  # notifications, the HIT review policy
    return load_hit(conn, hit_id)


_REQUESTER_ACCOUNT = Prepared(select(requesters.c.account_id).where(requesters.c.id == bindparam("id")))
_WORKER_ACCOUNT = Prepared(select(workers.c.account_id).where(workers.c.id == bindparam("id")))


def requester_account(conn: Connection, requester_id: str) -> int:
    known = ledger.remembered(conn, "requester", requester_id)
    if known is not None:
        return known
    found = int(_REQUESTER_ACCOUNT.execute(conn, {"id": requester_id}).scalar_one())
    return ledger.remember(conn, "requester", requester_id, found)


def worker_account(conn: Connection, worker_id: str) -> int:
    known = ledger.remembered(conn, "worker", worker_id)
    if known is not None:
        return known
    found = int(_WORKER_ACCOUNT.execute(conn, {"id": worker_id}).scalar_one())
    return ledger.remember(conn, "worker", worker_id, found)


def reserve(
    conn: Connection,
    hit: Row[Any],
    slots: int,
    *,
    at: datetime,
    request_id: str | None,
    kind: str = "hit_reserve",
    unit_cents: int | None = None,
) -> None:
    """Move ``slots`` times the slot price (or ``unit_cents``) from the requester into the HIT's escrow,
    or fail whole."""
    cents = slots * (hit.reward_cents + hit.fee_cents if unit_cents is None else unit_cents)
    if cents > 0:
        ledger.post(
            conn,
            kind,
            [ledger.Posting(requester_account(conn, hit.requester_id), hit.escrow_account_id, cents)],
            at=at,
            request_id=request_id,
            refs=ledger.EntryRefs(requester_id=hit.requester_id, hit_id=hit.id),
        )


def release(
    conn: Connection,
    hit: Row[Any],
    slots: int,
    *,
    at: datetime,
    request_id: str | None,
    kind: str = "hit_release",
    assignment_id: str | None = None,
    unit_cents: int | None = None,
) -> None:
    """Return ``slots`` slot prices (or ``unit_cents``) from the HIT's escrow to the requester."""
    cents = slots * (hit.reward_cents + hit.fee_cents if unit_cents is None else unit_cents)
    if cents > 0:
        ledger.post(
            conn,
            kind,
            [ledger.Posting(hit.escrow_account_id, requester_account(conn, hit.requester_id), cents)],
            at=at,
            request_id=request_id,
            refs=ledger.EntryRefs(requester_id=hit.requester_id, hit_id=hit.id, assignment_id=assignment_id),
        )


def pay_reward(
    conn: Connection,
    hit: Row[Any],
    assignment_id: str,
    worker_id: str,
    *,
    at: datetime,
    request_id: str | None,
    reserve_first: bool = False,
) -> None:
    """Pay one slot out of escrow: the reward to the worker, the fee to the marketplace.  With
    ``reserve_first`` (approving a rejected assignment, whose slot was refunded) the slot is reserved
    again from the requester in the same entry, so the escrow rule above keeps holding."""
    postings: list[ledger.Posting] = []
    unit = hit.reward_cents + hit.fee_cents
    if reserve_first and unit:
        postings.append(
            ledger.Posting(requester_account(conn, hit.requester_id), hit.escrow_account_id, unit)
        )
    if hit.reward_cents:
        postings.append(
            ledger.Posting(hit.escrow_account_id, worker_account(conn, worker_id), hit.reward_cents)
        )
    if hit.fee_cents:
        postings.append(
            ledger.Posting(hit.escrow_account_id, ledger.account_id(conn, FEES_ACCOUNT), hit.fee_cents)
        )
    if postings:
        ledger.post(
            conn,
            "reward",
            postings,
            at=at,
            request_id=request_id,
            refs=ledger.EntryRefs(
                requester_id=hit.requester_id, worker_id=worker_id, hit_id=hit.id, assignment_id=assignment_id
            ),
        )
