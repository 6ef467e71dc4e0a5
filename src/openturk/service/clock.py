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
            conn.execute(
                update(marketplace).values(
                    clock_offset_us=marketplace.c.clock_offset_us + by // timedelta(microseconds=1)
                )
            )
            return self.now(conn)
