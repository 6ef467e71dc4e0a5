"""The double-entry journal.

A money movement is one journal entry made of postings; each posting names the account debited and the
account credited and a positive amount, so it balances by construction.  ``post`` runs inside the
caller's transaction, together with whatever state change the money belongs to, and updates the cached
totals on ``accounts`` with conditional statements: an account marked no-overdraft is debited only if it
holds the money, which is how "insufficient funds" is decided without a read-then-write race.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    bindparam,
    case,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from openturk.errors import InsufficientFundsError
from openturk.storage.prepared import Prepared, binds
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


# An account's id never changes once its row exists, nor does the account a requester or worker owns:
# such look-ups are remembered per database (engine), for as long as the engine lives.
_KNOWN: WeakKeyDictionary[Engine, dict[tuple[str, str], int]] = WeakKeyDictionary()


def remembered(conn: Connection, kind: str, key: str) -> int | None:
    known = _KNOWN.get(conn.engine)
    return None if known is None else known.get((kind, key))


def remember(conn: Connection, kind: str, key: str, account: int) -> int:
    _KNOWN.setdefault(conn.engine, {})[(kind, key)] = account
    return account


_TOTALS = Prepared(
    select(accounts.c.credits_posted, accounts.c.debits_posted).where(accounts.c.id == bindparam("account"))
)
_BY_CODE = Prepared(select(accounts.c.id).where(accounts.c.code == bindparam("code")))


def account_id(conn: Connection, code: str) -> int:
    known = remembered(conn, "code", code)
    if known is not None:
        return known
    return remember(conn, "code", code, int(_BY_CODE.execute(conn, {"code": code}).scalar_one()))


def balance(conn: Connection, account: int) -> int:
    """Credits minus debits: what a credit-normal account (a requester's, a worker's) holds."""
    row = _TOTALS.execute(conn, {"account": account}).one()
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
    entry_id = _NEW_ENTRY.execute(
        conn,
        {
            "kind": kind,
            "created_at": at,
            "request_id": request_id,
            "requester_id": refs.requester_id,
            "worker_id": refs.worker_id,
            "hit_id": refs.hit_id,
            "assignment_id": refs.assignment_id,
            "memo": refs.memo,
        },
    ).scalar_one()
    # Every account the entry touches moves in one conditional UPDATE, debits and credits together: a
    # no-overdraft account must cover what the entry takes from it net of what it brings (a bonus and
    # its fee are covered together or not at all), and a row that cannot is not updated, so fewer rows
    # than accounts means insufficient funds (and the caller's transaction rolls back).
    moves: dict[int, list[int]] = {}
    for p in entries:
        moves.setdefault(p.debit_account, [0, 0])[0] += p.cents
        moves.setdefault(p.credit_account, [0, 0])[1] += p.cents
    for batch in _batches(list(moves.items())):
        params: dict[str, int] = {}
        for n, (account, (debit, credit)) in enumerate(batch):
            params[f"account{n}"], params[f"debit{n}"], params[f"credit{n}"] = account, debit, credit
        if _MOVES[len(batch)].execute(conn, params).rowcount != len(batch):
            raise InsufficientFundsError()
    _NEW_POSTING.executemany(
        conn,
        [
            {
                "entry_id": entry_id,
                "seq": seq,
                "debit_account_id": p.debit_account,
                "credit_account_id": p.credit_account,
                "amount_cents": p.cents,
            }
            for seq, p in enumerate(entries, start=1)
        ],
    )
    return int(entry_id)


_NEW_ENTRY = Prepared(
    insert(journal_entries)
    .values(binds(c.name for c in journal_entries.columns if not c.primary_key))
    .returning(journal_entries.c.id)
)
_NEW_POSTING = Prepared(insert(postings).values(binds(c.name for c in postings.columns)))


def _moves(count: int) -> Prepared:
    """UPDATE ``count`` accounts: ``account<n>`` gets ``debit<n>`` and ``credit<n>`` added."""
    ids = [bindparam(f"account{n}", type_=BigInteger) for n in range(count)]

    def by_account(kind: str) -> ColumnElement[int]:
        whens = {ids[n]: bindparam(f"{kind}{n}", type_=BigInteger) for n in range(count)}
        return case(whens, value=accounts.c.id, else_=0)

    debit, credit = by_account("debit"), by_account("credit")
    return Prepared(
        update(accounts)
        .where(
            accounts.c.id.in_(ids),
            (~accounts.c.no_overdraft)
            | (accounts.c.credits_posted + credit - accounts.c.debits_posted - debit >= 0),
        )
        .values(
            debits_posted=accounts.c.debits_posted + debit, credits_posted=accounts.c.credits_posted + credit
        )
    )


_MOVES = {count: _moves(count) for count in range(1, 5)}


def _batches(moves: list[tuple[int, list[int]]]) -> Iterator[list[tuple[int, list[int]]]]:
    for start in range(0, len(moves), len(_MOVES)):
        yield moves[start : start + len(_MOVES)]
