"""The marketplace clock: wall-clock UTC plus an offset every process reads from the database.

``openturk clock advance 3d`` moves the offset, so a test in another process sees HITs expire,
assignments auto-approve and request tokens lapse without waiting.  The offset is read inside the
caller's transaction, so a request sees one consistent "now".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from openturk.storage.db import Database
from openturk.storage.schema import marketplace

# How far ahead of the real clock the marketplace may run: far enough for any test (tokens, expiries,
# auto-approvals are days to a year), and far from year 9999, past which no date can be written and a
# clock that only moves forward would leave the database unusable.
MAX_AHEAD = timedelta(days=100 * 365)


def system_now() -> datetime:
    return datetime.now(UTC)


class MarketClock:
    def __init__(self, db: Database, wall: Callable[[], datetime] = system_now) -> None:
        self._db = db
        self._wall = wall

    def now(self, conn: Connection) -> datetime:
        offset = conn.execute(select(marketplace.c.clock_offset_us)).scalar_one()
        return self._wall() + timedelta(microseconds=offset)

    def wall(self) -> datetime:
        """The machine's UTC time, without the marketplace offset."""
        return self._wall()

    def offset(self) -> timedelta:
        with self._db.read() as conn:
            return timedelta(microseconds=conn.execute(select(marketplace.c.clock_offset_us)).scalar_one())

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ValueError("the marketplace clock only moves forward")
        with self._db.write() as conn:
            ahead = timedelta(microseconds=conn.execute(select(marketplace.c.clock_offset_us)).scalar_one())
            if ahead + by > MAX_AHEAD:
                raise ValueError(
                    f"the marketplace clock runs at most {MAX_AHEAD.days} days ahead of the real one; it is "
                    f"{ahead.days} days ahead now"
                )
            conn.execute(
                update(marketplace).values(
                    clock_offset_us=marketplace.c.clock_offset_us + by // timedelta(microseconds=1)
                )
            )
            return self.now(conn)
