"""Transactions that see the marketplace as of now.

The clock can jump (``openturk clock advance``) and nothing runs between requests, so before any HIT
or assignment is read or changed, whatever has become due (abandoned assignments, auto-approvals, HIT
expiries and their refunds) is settled first, in a write transaction.  Reads pay for that only when
something is actually due.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from openturk.service import request_tokens, transitions
from openturk.service.clock import MarketClock
from openturk.storage.db import Database


class MarketTransactions:
    def __init__(self, db: Database, clock: MarketClock, token_lifetime: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.token_lifetime = token_lifetime

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

    def claim_token(
        self,
        conn: Connection,
        now: datetime,
        requester_id: str,
        token: str | None,
        operation: str,
        request_id: str,
    ) -> None:
        """Remember a UniqueRequestToken in the caller's transaction (no-op without one)."""
        if token is not None:
            request_tokens.claim(
                conn,
                requester_id=requester_id,
                token=token,
                operation=operation,
                request_id=request_id,
                now=now,
                lifetime=self.token_lifetime,
            )

    def settle_due(self) -> None:
        with self.write():
            pass
