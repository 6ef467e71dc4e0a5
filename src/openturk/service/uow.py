"""Transactions that see the marketplace as of now.

The clock can jump (``openturk clock advance``) and nothing runs between requests, so before any HIT
or assignment is read or changed, whatever has become due (abandoned assignments, auto-approvals, HIT
expiries and their refunds) is settled first, in a write transaction.  Every call pays one statement for
that: the clock's offset and "is anything due?" are read together; settling itself runs only when
something is actually due.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from openturk.service import request_tokens, transitions
from openturk.service.clock import MarketClock
from openturk.service.limits import check_length
from openturk.storage.db import Database
from openturk.storage.prepared import Prepared
from openturk.storage.schema import marketplace
from openturk.storage.types import UtcTimestamp

# "Now" is the wall clock plus the offset, and the offset is what this statement reads: it is asked with
# the offset this process saw last and asked again in the (rare) case the offset has moved since.
_PROBE = Prepared(
    select(
        marketplace.c.clock_offset_us,
        transitions.anything_due(bindparam("now", type_=UtcTimestamp)).label("due"),
    )
)


class MarketTransactions:
    def __init__(self, db: Database, clock: MarketClock, token_lifetime: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.token_lifetime = token_lifetime
        self._offset_us = 0

    @contextmanager
    def write(self) -> Iterator[tuple[Connection, datetime]]:
        with self.db.write() as conn:
            now, due = self._now_and_due(conn)
            if due:
                transitions.settle_due(conn, now)
            yield conn, now

    @contextmanager
    def read(self) -> Iterator[tuple[Connection, datetime]]:
        with self.db.read() as conn:
            now, due = self._now_and_due(conn)
            if not due:
                yield conn, now
                return
        with self.write():
            pass
        with self.db.read() as conn:
            yield conn, self._now_and_due(conn)[0]

    def _now_and_due(self, conn: Connection) -> tuple[datetime, bool]:
        wall = self.clock.wall()
        guess = self._offset_us
        row = _PROBE.execute(conn, {"now": wall + timedelta(microseconds=guess)}).one()
        offset = int(row.clock_offset_us)
        if offset == guess:
            return wall + timedelta(microseconds=guess), bool(row.due)
        self._offset_us = offset  # the clock was advanced: ask again as of the new "now"
        now = wall + timedelta(microseconds=offset)
        return now, bool(_PROBE.execute(conn, {"now": now}).one().due)

    def claim_token(
        self,
        conn: Connection,
        now: datetime,
        requester_id: str,
        token: str | None,
        operation: str,
        request_id: str,
        result_id: str | None = None,
    ) -> None:
        """Remember a UniqueRequestToken in the caller's transaction (no-op without one)."""
        if token is not None:
            check_length("UniqueRequestToken", token)
            request_tokens.claim(
                conn,
                requester_id=requester_id,
                token=token,
                operation=operation,
                request_id=request_id,
                now=now,
                lifetime=self.token_lifetime,
                result_id=result_id,
            )

    def settle_due(self) -> None:
        with self.write():
            pass
