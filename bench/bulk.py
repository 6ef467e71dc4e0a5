"""Bonuses in bulk, straight into the tables with SQLAlchemy Core, keeping the ledger consistent.

Each bonus is what ``BonusService.send`` writes: the ``bonuses`` row, its ``bonus`` journal entry and
two postings (requester -> worker for the bonus, requester -> fees for the fee); the accounts' cached
totals are moved by the sums at the end, in the same transaction, so ``openturk ledger audit`` still
balances.  Bonuses are granted one millisecond apart, before the load started, with the fee the server
would charge.  A bonus is keyed by its entry's id, as the server keys it, and the paging index
(hit_id, granted_at, entry_id) is filled in order.  The INSERT statements are SQLAlchemy Core's,
compiled once from the tables, and run through the driver's executemany with plain tuples (per-row
parameter processing in SQLAlchemy would double the load time).

With ``fast`` (the throw-away copy only, no other connection open) the load runs with
``synchronous=OFF``, an in-memory rollback journal and foreign-key checks off; WAL comes back at the end.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from openturk.service.pricing import bonus_fee
from openturk.service.slots import FEES_ACCOUNT
from openturk.settings import Fees
from openturk.storage.schema import accounts, bonuses, journal_entries, postings, requesters, workers
from openturk.storage.types import to_micros

BATCH = 20_000
REASON = "bench: bulk-loaded bonus"


@dataclass(frozen=True, slots=True)
class Target:
    """Where the bonuses go: one submitted assignment of one HIT."""

    requester_id: str
    worker_id: str
    hit_id: str
    assignment_id: str


@dataclass(frozen=True, slots=True)
class BulkResult:
    bonuses: int
    rows: int  # bonuses + journal entries + postings
    seconds: float
    cents: int  # bonuses + fees, debited from the requester


def _engine(db_url: str, *, fast: bool) -> Engine:
    engine = create_engine(db_url, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # BEGIN is ours, as in openturk.storage.db
        cursor = dbapi_conn.cursor()
        if fast:
            cursor.execute("PRAGMA journal_mode=MEMORY")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1048576")  # 1 GiB of page cache
            cursor.execute("PRAGMA temp_store=MEMORY")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


ENTRY_COLUMNS = (
    "id",
    "kind",
    "created_at",
    "request_id",
    "requester_id",
    "worker_id",
    "hit_id",
    "assignment_id",
    "memo",
)
POSTING_COLUMNS = ("entry_id", "seq", "debit_account_id", "credit_account_id", "amount_cents")
BONUS_COLUMNS = (
    "entry_id",
    "requester_id",
    "worker_id",
    "assignment_id",
    "hit_id",
    "amount_cents",
    "fee_cents",
    "reason",
    "granted_at",
    "request_id",
    "unique_request_token",
)


def _statement(conn: Connection, table: Table, columns: tuple[str, ...]) -> str:
    """The table's INSERT as SQLAlchemy Core compiles it for this dialect, for the driver's executemany
    with plain tuples: per-row parameter processing in SQLAlchemy would cost more than SQLite's work."""
    compiled = (
        insert(table)
        .values({table.c[name]: bindparam(name) for name in columns})
        .compile(dialect=conn.dialect)
    )
    if tuple(compiled.positiontup or ()) != columns:
        raise RuntimeError(f"unexpected parameter order for {table.name}: {compiled.positiontup}")
    return str(compiled)


def add_bonuses(db_url: str, target: Target, count: int, fees: Fees, *, fast: bool) -> BulkResult:
    engine = _engine(db_url, fast=fast)
    started = time.perf_counter()
    fee_of = {cents: bonus_fee(fees, cents) for cents in range(1, 101)}
    total_amount = total_fee = posted = 0
    try:
        with engine.connect() as conn, conn.begin():
            payer = conn.execute(
                select(requesters.c.account_id).where(requesters.c.id == target.requester_id)
            ).scalar_one()
            payee = conn.execute(
                select(workers.c.account_id).where(workers.c.id == target.worker_id)
            ).scalar_one()
            fees_account = conn.execute(
                select(accounts.c.id).where(accounts.c.code == FEES_ACCOUNT)
            ).scalar_one()
            first_entry = int(conn.execute(select(func.max(journal_entries.c.id))).scalar_one() or 0) + 1
            entry_sql = _statement(conn, journal_entries, ENTRY_COLUMNS)
            posting_sql = _statement(conn, postings, POSTING_COLUMNS)
            bonus_sql = _statement(conn, bonuses, BONUS_COLUMNS)
            first_micros = to_micros(datetime.now(UTC)) - (count + 60_000) * 1000
            requester, worker = target.requester_id, target.worker_id
            hit, assignment = target.hit_id, target.assignment_id
            for offset in range(0, count, BATCH):
                size = min(BATCH, count - offset)
                entry_rows: list[tuple[Any, ...]] = []
                posting_rows: list[tuple[Any, ...]] = []
                bonus_rows: list[tuple[Any, ...]] = []
                for number in range(offset, offset + size):
                    amount = 1 + number % 100
                    fee = fee_of[amount]
                    total_amount += amount
                    total_fee += fee
                    entry = first_entry + number
                    at = first_micros + number * 1000  # UtcTimestamp's stored form
                    request_id = str(uuid.UUID(bytes=os.urandom(16), version=4))
                    entry_rows.append(
                        (entry, "bonus", at, request_id, requester, worker, hit, assignment, REASON)
                    )
                    posting_rows.append((entry, 1, payer, payee, amount))
                    if fee:
                        posting_rows.append((entry, 2, payer, fees_account, fee))
                    bonus_rows.append(
                        (
                            entry,
                            requester,
                            worker,
                            assignment,
                            hit,
                            amount,
                            fee,
                            REASON,
                            at,
                            request_id,
                            None,
                        )
                    )
                posted += len(posting_rows)
                conn.exec_driver_sql(entry_sql, entry_rows)
                conn.exec_driver_sql(posting_sql, posting_rows)
                conn.exec_driver_sql(bonus_sql, bonus_rows)
            # The cached totals, moved like ledger.post moves them (the requester's CHECK still holds).
            total = total_amount + total_fee
            conn.execute(
                update(accounts)
                .where(accounts.c.id == payer)
                .values(debits_posted=accounts.c.debits_posted + total)
            )
            conn.execute(
                update(accounts)
                .where(accounts.c.id == payee)
                .values(credits_posted=accounts.c.credits_posted + total_amount)
            )
            if total_fee:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.id == fees_account)
                    .values(credits_posted=accounts.c.credits_posted + total_fee)
                )
        if fast:  # outside any transaction, which SQLAlchemy's Connection would begin for us
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.close()
            finally:
                raw.close()
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    return BulkResult(count, count * 2 + posted, seconds, total_amount + total_fee)
