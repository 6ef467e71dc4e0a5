"""The double-entry journal.

A money movement is one journal entry made of postings; each posting names the account debited and the
account credited and a positive amount, so it balances by construction.  ``post`` runs inside the
caller's transaction, together with whatever state change the money belongs to, and updates the cached
totals on ``accounts`` with conditional statements: an account marked no-overdraft is debited only if it
holds the money, which is how "insufficient funds" is decided without a read-then-write race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from openturk.errors import InsufficientFundsError
from openturk.storage.schema import accounts, journal_entries, postings


@dataclass(frozen=True, slots=True)
class Posting:
    debit_account: int
    credit_account: int
    cents: int


@dataclass(frozen=True, slots=True)
class EntryRefs:
    requester_id: str | None = None
    worker_id: str | None = None
    hit_id: str | None = None
    assignment_id: str | None = None
    memo: str | None = None


class LedgerInvariantError(AssertionError):
    """A posting that would break the books; always a bug in the caller, never user input."""


def open_account(conn: Connection, code: str, kind: str, *, no_overdraft: bool) -> int:
    result = conn.execute(
        insert(accounts).values(
            code=code, kind=kind, no_overdraft=no_overdraft, debits_posted=0, credits_posted=0
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def account_id(conn: Connection, code: str) -> int:
    return int(conn.execute(select(accounts.c.id).where(accounts.c.code == code)).scalar_one())


def balance(conn: Connection, account: int) -> int:
    """Credits minus debits: what a credit-normal account (a requester's, a worker's) holds."""
    row = conn.execute(
        select(accounts.c.credits_posted, accounts.c.debits_posted).where(accounts.c.id == account)
    ).one()
    return int(row.credits_posted) - int(row.debits_posted)


def post(
    conn: Connection,
    kind: str,
    entries: Sequence[Posting],
    *,
    at: datetime,
    request_id: str | None,
    refs: EntryRefs = EntryRefs(),
) -> int:
    """Record one balanced entry and move the money; raise InsufficientFundsError and move nothing
    (the caller's transaction rolls back) if a no-overdraft account cannot cover its debit."""
    if not entries:
        raise LedgerInvariantError("an entry needs at least one posting")
    for p in entries:
        if p.cents <= 0 or p.debit_account == p.credit_account:
            raise LedgerInvariantError(f"bad posting {p}")
    entry = conn.execute(
        insert(journal_entries).values(
            kind=kind,
            created_at=at,
            request_id=request_id,
            requester_id=refs.requester_id,
            worker_id=refs.worker_id,
            hit_id=refs.hit_id,
            assignment_id=refs.assignment_id,
            memo=refs.memo,
        )
    ).inserted_primary_key
    assert entry is not None
    entry_id = int(entry[0])
    for p in entries:
        _debit(conn, p.debit_account, p.cents)
        conn.execute(
            update(accounts)
            .where(accounts.c.id == p.credit_account)
            .values(credits_posted=accounts.c.credits_posted + p.cents)
        )
    conn.execute(
        insert(postings),
        [
            {
                "entry_id": entry_id,
                "debit_account_id": p.debit_account,
                "credit_account_id": p.credit_account,
                "amount_cents": p.cents,
            }
            for p in entries
        ],
    )
    return entry_id


def _debit(conn: Connection, account: int, cents: int) -> None:
    covered = (~accounts.c.no_overdraft) | (accounts.c.credits_posted - accounts.c.debits_posted >= cents)
    result = conn.execute(
        update(accounts)
        .where(accounts.c.id == account, covered)
        .values(debits_posted=accounts.c.debits_posted + cents)
    )
    if result.rowcount != 1:
        raise InsufficientFundsError()
