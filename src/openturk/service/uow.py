"""Transactions that see the marketplace as of now.

The clock can jump (``openturk clock advance``) and nothing runs between requests, so before any HIT
or assignment is read or changed, whatever has become due (abandoned assignments, auto-approvals, HIT
expiries and their refunds) is settled first, in a write transaction.  Reads pay for that only when
something is actually due.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.engine import Connection

from openturk.service import transitions
from openturk.service.clock import MarketClock
from openturk.storage.db import Database


class MarketTransactions:
    def __init__(self, db: Database, clock: MarketClock) -> None:
        self.db = db
        self.clock = clock

    @contextmanager
    def write(self) -> Iterator[tuple[Connection, datetime]]:
        with self.db.write() as conn:
            now = self.clock.now(conn)
            transitions.settle_due(conn, now)
            yield conn, now

    @contextmanager
    def read(self) -> Iterator[tuple[Connection, datetime]]:
        with self.db.read() as conn:
            now = self.clock.now(conn)
            if not transitions.anything_due(conn, now):
                yield conn, now
                return
        with self.write():
            pass
        with self.db.read() as conn:
            yield conn, self.clock.now(conn)

    def settle_due(self) -> None:
        with self.write():
            pass
