"""Re-add the whole journal and check every invariant the books must hold.

The cached totals on ``accounts`` are what the hot path trusts; this recomputes them from the postings,
so a bug that moved a cached total without a posting (or the reverse) cannot hide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from openturk.storage.db import Database
from openturk.storage.schema import (
    accounts,
    bonuses,
    hits,
    journal_entries,
    postings,
    request_tokens,
    workers,
)


@dataclass(frozen=True, slots=True)
class AuditReport:
    ok: bool
    entries: int
    postings: int
    accounts: int
    total_cents: int
    deposited_cents: int
    problems: tuple[str, ...] = field(default=())


def run_audit(db: Database) -> AuditReport:
    with db.read() as conn:
        problems: list[str] = []
        problems += _entries_without_postings(conn)
        recomputed = _recomputed_totals(conn)
        rows = conn.execute(
            select(
                accounts.c.id,
                accounts.c.code,
                accounts.c.kind,
                accounts.c.no_overdraft,
                accounts.c.debits_posted,
                accounts.c.credits_posted,
            )
        ).all()
        deposited = held = 0
        for row in rows:
            debits, credits = recomputed.get(row.id, (0, 0))
            if (debits, credits) != (row.debits_posted, row.credits_posted):
                problems.append(
                    f"account {row.code}: cached debits/credits {row.debits_posted}/{row.credits_posted} "
                    f"but its postings add up to {debits}/{credits}"
                )
            if row.no_overdraft and debits > credits:
                problems.append(f"account {row.code} is overdrawn by {debits - credits} cents")
            # Conservation is checked on the cached totals, the ones balances are read from: the
            # recomputed totals balance by construction.
            if row.kind == "funding":
                deposited += row.debits_posted - row.credits_posted
            else:
                held += row.credits_posted - row.debits_posted
        if held != deposited:
            problems.append(f"accounts hold {held} cents but {deposited} cents were deposited")
        problems += _escrow_mismatches(conn)
        problems += _bonus_mismatches(conn)
        entry_count = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
        posting_count = conn.execute(select(func.count()).select_from(postings)).scalar_one()
    return AuditReport(
        ok=not problems,
        entries=int(entry_count),
        postings=int(posting_count),
        accounts=len(rows),
        total_cents=held,
        deposited_cents=deposited,
        problems=tuple(problems),
    )


def _entries_without_postings(conn: Connection) -> list[str]:
    orphans = conn.execute(
        select(journal_entries.c.id)
        .outerjoin(postings, postings.c.entry_id == journal_entries.c.id)
        .where(postings.c.entry_id.is_(None))
    ).scalars()
    return [f"journal entry {entry} has no postings" for entry in orphans]


def _recomputed_totals(conn: Connection) -> dict[int, tuple[int, int]]:
    totals: dict[int, list[int]] = {}
    for account, cents in conn.execute(
        select(postings.c.debit_account_id, func.sum(postings.c.amount_cents)).group_by(
            postings.c.debit_account_id
        )
    ):
        totals.setdefault(account, [0, 0])[0] = int(cents)
    for account, cents in conn.execute(
        select(postings.c.credit_account_id, func.sum(postings.c.amount_cents)).group_by(
            postings.c.credit_account_id
        )
    ):
        totals.setdefault(account, [0, 0])[1] = int(cents)
    return {account: (d, c) for account, (d, c) in totals.items()}


def _escrow_mismatches(conn: Connection) -> list[str]:
    """A HIT's escrow holds the price of exactly its unsettled slots (see service.slots)."""
    rows = conn.execute(
        select(
            hits.c.id,
            hits.c.reward_cents,
            hits.c.fee_cents,
            hits.c.max_assignments,
            hits.c.num_approved,
            hits.c.num_rejected,
            hits.c.num_released,
            accounts.c.credits_posted,
            accounts.c.debits_posted,
        ).join(accounts, accounts.c.id == hits.c.escrow_account_id)
    )
    problems = []
    for r in rows:
        unsettled = r.max_assignments - r.num_approved - r.num_rejected - r.num_released
        expected = unsettled * (r.reward_cents + r.fee_cents)
        held = r.credits_posted - r.debits_posted
        if held != expected:
            problems.append(
                f"HIT {r.id}: escrow holds {held} cents, its {unsettled} open slots need {expected}"
            )
    return problems


def _bonus_mismatches(conn: Connection) -> list[str]:
    """Every bonus has exactly one journal entry of kind bonus that pays exactly it (and its fee), every
    bonus entry has its bonus row, and every remembered SendBonus token's request paid a bonus."""
    problems: list[str] = []
    paid = (
        select(
            bonuses.c.entry_id,
            bonuses.c.amount_cents,
            bonuses.c.fee_cents,
            journal_entries.c.kind,
            func.sum(postings.c.amount_cents).filter(postings.c.credit_account_id == workers.c.account_id),
            func.sum(postings.c.amount_cents).filter(postings.c.credit_account_id != workers.c.account_id),
        )
        .join(journal_entries, journal_entries.c.id == bonuses.c.entry_id)
        .join(workers, workers.c.id == bonuses.c.worker_id)
        .outerjoin(postings, postings.c.entry_id == journal_entries.c.id)
        .group_by(bonuses.c.entry_id, bonuses.c.amount_cents, bonuses.c.fee_cents, journal_entries.c.kind)
    )
    for bonus_id, amount, fee, kind, to_worker, to_fees in conn.execute(paid):
        if kind != "bonus" or (to_worker or 0) != amount or (to_fees or 0) != fee:
            problems.append(
                f"bonus {bonus_id} of {amount}+{fee} cents has a {kind} entry paying {to_worker}+{to_fees}"
            )
    orphans = conn.execute(
        select(journal_entries.c.id)
        .outerjoin(bonuses, bonuses.c.entry_id == journal_entries.c.id)
        .where(journal_entries.c.kind == "bonus", bonuses.c.entry_id.is_(None))
    ).scalars()
    problems += [f"journal entry {entry} is a bonus without a bonus row" for entry in orphans]
    # The bonus row keeps the request id of the call that paid it, which is its token's request id.  An
    # outer join, not NOT IN: PostgreSQL runs NOT IN over a subquery bigger than work_mem row by row.
    dangling = conn.execute(
        select(request_tokens.c.token)
        .outerjoin(bonuses, bonuses.c.request_id == request_tokens.c.request_id)
        .where(request_tokens.c.operation == "SendBonus", bonuses.c.entry_id.is_(None))
    ).scalars()
    problems += [f"request token {token!r} is remembered without its bonus" for token in dangling]
    return problems
