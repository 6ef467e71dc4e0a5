"""Engines and the unit of work.

``Database.write()`` opens a transaction that holds the write lock from its first statement (SQLite
``BEGIN IMMEDIATE``), so two writers never both read a balance and then both fail to upgrade their lock;
on PostgreSQL it is an ordinary READ COMMITTED transaction whose money updates are conditional row updates.
``Database.read()`` is a plain snapshot for queries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry

_WRITE = "openturk_write"
SQLITE_BUSY_TIMEOUT_MS = 60_000


class Database:
    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if self.is_sqlite else nullcontext()
        )
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, pool_size)
        else:
            self.engine = create_engine(url, pool_size=pool_size, max_overflow=32, pool_pre_ping=True)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        # SQLite has one writer at a time anyway; queueing this process's writers on a lock instead of
        # in SQLite's busy handler (which sleeps in growing steps) keeps the latency tail short.
        # Other processes still meet the busy timeout.
        with self._write_lock, self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def in_write(conn: Connection) -> bool:
    """True inside ``Database.write()``: rows read there may be locked (FOR UPDATE on PostgreSQL)."""
    return bool(conn.get_execution_options().get(_WRITE))


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=32,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        # We issue BEGIN ourselves (below), so the driver must not open transactions on its own.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit that returned survives a power cut, which a payment acknowledgement promises.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
