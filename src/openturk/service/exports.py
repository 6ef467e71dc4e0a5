"""Every money movement, one posting per row, for spreadsheets and accountants."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import aliased

from openturk.money import format_amount
from openturk.storage.db import Database
from openturk.storage.schema import accounts, journal_entries, postings

COLUMNS = (
    "entry_id",
    "time",
    "kind",
    "debit_account",
    "credit_account",
    "amount",
    "requester_id",
    "worker_id",
    "hit_id",
    "assignment_id",
    "request_id",
    "memo",
)


def movements(db: Database) -> Iterator[dict[str, str]]:
    debit, credit = aliased(accounts), aliased(accounts)
    query = (
        select(
            journal_entries.c.id,
            journal_entries.c.created_at,
            journal_entries.c.kind,
            debit.c.code,
            credit.c.code.label("credit_code"),
            postings.c.amount_cents,
            journal_entries.c.requester_id,
            journal_entries.c.worker_id,
            journal_entries.c.hit_id,
            journal_entries.c.assignment_id,
            journal_entries.c.request_id,
            journal_entries.c.memo,
        )
        .join(postings, postings.c.entry_id == journal_entries.c.id)
        .join(debit, debit.c.id == postings.c.debit_account_id)
        .join(credit, credit.c.id == postings.c.credit_account_id)
        .order_by(journal_entries.c.id, postings.c.seq)
    )
    with db.read() as conn:
        for row in conn.execute(query.execution_options(yield_per=1000)):
            yield {
                "entry_id": str(row.id),
                "time": row.created_at.isoformat(),
                "kind": row.kind,
                "debit_account": row.code,
                "credit_account": row.credit_code,
                "amount": format_amount(row.amount_cents),
                "requester_id": row.requester_id or "",
                "worker_id": row.worker_id or "",
                "hit_id": row.hit_id or "",
                "assignment_id": row.assignment_id or "",
                "request_id": row.request_id or "",
                "memo": row.memo or "",
            }


def write_csv(db: Database, out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    count = 0
    for row in movements(db):
        writer.writerow(row)
        count += 1
    return count
