"""Engines, the unit of work, and the one place a unit of work is retried.

``Database.write()`` opens a transaction that holds the write lock from its first statement (SQLite
``BEGIN IMMEDIATE``), so two writers never both read a balance and then both fail to upgrade their lock;
on PostgreSQL it is an ordinary READ COMMITTED transaction whose money updates are conditional row updates
and whose rows are locked (``FOR UPDATE``) before they are changed.  ``Database.read()`` is a plain
snapshot for queries.

Row locks taken in different orders by different operations can deadlock on PostgreSQL, a PostgreSQL
restart drops every connection, and SQLite can answer "database is locked" in the few cases its busy
handler does not wait.  Each of these aborts the whole transaction, so the whole service call is safe to
run again: ``retry_service_calls`` wraps every public method of the services once, and ``retrying`` runs
a call again (with a growing, jittered pause, for up to ``RETRY_SECONDS``) when the failure is one of
those.  Never retried: a failure while COMMIT itself was in flight on a connection that died, where the
transaction may or may not have been committed.  That one reaches the client, which retries with its
UniqueRequestToken.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from contextvars import ContextVar
from pathlib import Path
from types import FunctionType
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from openturk.errors import ParameterError
from openturk.storage.group_commit import WalSync
from openturk.storage.prepared import run_driver_sql
from openturk.storage.writer_lock import WriterLock

_WRITE = "openturk_write"
SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_CACHE_KIB = 16_384  # per connection, filled as pages are used
# How long a service call keeps being retried: long enough to ride out a PostgreSQL restart.
RETRY_SECONDS = 30.0
RETRY_CONFLICTS = 10
_UNKNOWN_OUTCOME = "_openturk_commit_outcome_unknown"
# deadlock_detected, serialization_failure, lock_not_available; unique_violation is a lost
# read-then-insert race (two calls registering one HIT type), which the retry resolves by reading the
# winner's row.
_PG_RETRY_STATES = frozenset({"40P01", "40001", "55P03", "23505"})
# connection_exception (08xxx), admin_shutdown, crash_shutdown, cannot_connect_now: the server went away.
_PG_GONE_STATES = frozenset({"57P01", "57P02", "57P03"})
_PG_TOO_LONG = "22001"  # string_data_right_truncation
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_BEGIN_WRITE, _BEGIN_READ = "BEGIN IMMEDIATE", "BEGIN DEFERRED"

log = logging.getLogger("openturk.db")
P = ParamSpec("P")
R = TypeVar("R")


class Deferred:
    """Commits made (or seen) inside ``Database.deferred_sync()``: the caller awaits their sync itself."""

    __slots__ = ("ticket",)

    def __init__(self) -> None:
        self.ticket = 0


_DEFERRED: ContextVar[Deferred | None] = ContextVar("openturk_deferred_sync", default=None)


class Database:
    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # SQLite has one writer at a time anyway: queue for it here, not in SQLite's busy handler.
        self._writer: WriterLock | None = None
        # A SQLite file's commits are made durable in groups (storage/group_commit.py); PostgreSQL
        # flushes its WAL at commit and groups concurrent flushes itself.
        self._wal: WalSync | None = None
        self._kept = threading.local()
        self._kept_lock = threading.Lock()
        self._all_kept: list[Connection] = []
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, pool_size)
            database = self.engine.url.database
            on_disk = bool(database) and database != ":memory:" and not str(database).startswith("file:")
            if on_disk:
                self._wal = WalSync(Path(f"{database}-wal").resolve())
            self._writer = WriterLock(Path(str(database)).resolve() if on_disk else None)
        else:
            self.engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=32,
                # A connection the server dropped (restart, failover) is noticed at checkout, not used.
                pool_pre_ping=True,
                connect_args={"connect_timeout": 5, "application_name": "openturk"},
            )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        # SQLite writers queue on WriterLock (storage/writer_lock.py), not in SQLite's busy handler.
        queue = self._writer.held() if self._writer is not None else nullcontext()
        with queue, self._connect(write=True) as conn:
            transaction = conn.begin()
            try:
                yield conn
            except BaseException:
                with suppress(Exception):  # a dead connection cannot roll back; the server already did
                    transaction.rollback()
                raise
            try:
                transaction.commit()
            except DBAPIError as error:
                if _commit_may_have_happened(error):
                    setattr(error, _UNKNOWN_OUTCOME, True)
                raise
            ticket = self._wal.committed() if self._wal is not None else 0
        if ticket:
            self._synced(ticket)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._connect(write=False) as conn, conn.begin():
            yield conn
        # What this process committed before the read ended may be in what it saw: whoever is told
        # about it is told after the sync of those commits.
        if self._wal is not None and (ticket := self._wal.pending()):
            self._synced(ticket)

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Connection]:
        """A connection for one transaction.  An event loop running SQLite calls itself (inside
        ``deferred_sync``) keeps one for itself: checking a connection out of the pool and back in
        costs more than most of its statements, and in WAL mode a connection keeps its page cache
        only while nobody else writes.  Anything else, or a nested transaction, uses the pool."""
        if not self.is_sqlite or _DEFERRED.get() is None or getattr(self._kept, "busy", False):
            with self.engine.connect() as conn:
                yield conn.execution_options(**{_WRITE: True}) if write else conn
            return
        kept: Connection | None = getattr(self._kept, "conn", None)
        if kept is None or kept.closed or kept.invalidated:
            kept = self.engine.connect()
            self._kept.conn = kept
            with self._kept_lock:
                self._all_kept.append(kept)
        if bool(kept.get_execution_options().get(_WRITE)) != write:
            kept.execution_options(**{_WRITE: write})
        self._kept.busy = True
        try:
            yield kept
        finally:
            self._kept.busy = False

    @contextmanager
    def deferred_sync(self) -> Iterator[Deferred]:
        """Within this block writes and reads do not wait for the disk; the caller must ``await
        durable(deferred)`` before it tells anyone what happened.  For an event loop running database
        calls itself, which must not block on an fsync."""
        deferred = Deferred()
        token = _DEFERRED.set(deferred)
        try:
            yield deferred
        finally:
            _DEFERRED.reset(token)

    async def durable(self, deferred: Deferred) -> None:
        """Return once every commit made or seen in ``deferred``'s block is on disk (DurabilityError if
        that cannot be known)."""
        if deferred.ticket and self._wal is not None:
            await self._wal.wait_async(deferred.ticket)

    def _synced(self, ticket: int) -> None:
        deferred = _DEFERRED.get()
        if deferred is not None:
            deferred.ticket = max(deferred.ticket, ticket)
        elif self._wal is not None:
            self._wal.wait(ticket)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        with self._kept_lock:
            kept, self._all_kept = self._all_kept, []
        for conn in kept:
            with suppress(Exception):
                conn.close()
        self.engine.dispose()
        if self._writer is not None:
            self._writer.close()


def _commit_may_have_happened(error: DBAPIError) -> bool:
    """A COMMIT that failed with a clean SQL error did not commit; one whose connection died may have."""
    return error.connection_invalidated or getattr(error.orig, "sqlstate", None) is None


def transient_kind(error: BaseException) -> str | None:
    """ "conflict" (lost a race with another transaction), "unavailable" (the database went away or is
    busy) or None: the failure rolled back the whole transaction and running the call again is safe,
    or (None) it is not a failure of that kind."""
    if not isinstance(error, DBAPIError) or getattr(error, _UNKNOWN_OUTCOME, False):
        return None
    orig = error.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return "unavailable" if sqlite_code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED) else None
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        if state in _PG_RETRY_STATES:
            return "conflict"
        return "unavailable" if state in _PG_GONE_STATES or state.startswith("08") else None
    # No SQLSTATE: the connection failed or could not be made (the server is restarting).
    gone = error.connection_invalidated or type(orig).__name__ == "OperationalError"
    return "unavailable" if gone else None


def is_transient(error: BaseException) -> bool:
    return transient_kind(error) is not None


_depth = threading.local()


def retrying(
    call: Callable[P, R], *, seconds: float = RETRY_SECONDS, conflicts: int = RETRY_CONFLICTS
) -> Callable[P, R]:
    """Wrap ``call`` so that a transient failure runs it again: up to ``conflicts`` times after losing
    a race (a real duplicate fails fast), for up to ``seconds`` while the database is unavailable.

    Only the outermost wrapped call retries: a service calling another service is retried as a whole.
    """

    @functools.wraps(call)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if getattr(_depth, "value", 0):
            return call(*args, **kwargs)
        deadline = time.monotonic() + seconds
        lost = 0
        while True:
            _depth.value = 1
            try:
                return call(*args, **kwargs)
            except DBAPIError as error:
                kind = transient_kind(error)
                if kind is None and isinstance(error, DataError) and _holds_nul(error.params):
                    # PostgreSQL stores no U+0000 (SQLite does): a value from a path the API edges do
                    # not check (a worker page's hitId) is the caller's mistake, not a server fault.
                    raise ParameterError(
                        "A value contains the character U+0000, which is not allowed."
                    ) from error
                if kind is None and getattr(error.orig, "sqlstate", None) == _PG_TOO_LONG:
                    # A text longer than its column that no service check caught (those give the
                    # parameter's name and limit): still the caller's mistake, and nothing was written.
                    raise ParameterError("A value is longer than its parameter allows.") from error
                if kind is None or time.monotonic() >= deadline:
                    raise
                if kind == "conflict":
                    lost += 1
                    if lost > conflicts:
                        raise
                    pause = 0.002 * 2**lost
                else:
                    log.warning("database unavailable (%s); running %s again", error.orig, call.__qualname__)
                    pause = 0.1
            finally:
                _depth.value = 0
            time.sleep(pause * (0.5 + random.random()))

    return run


def _holds_nul(params: Any) -> bool:
    if isinstance(params, str):
        return "\x00" in params
    if isinstance(params, Mapping):
        return any(_holds_nul(value) for value in params.values())
    if isinstance(params, list | tuple):
        return any(_holds_nul(value) for value in params)
    return False


def retry_service_calls(service: object) -> None:
    """Make every public method of ``service`` (an instance) retry as a whole; see ``retrying``."""
    cls = type(service)
    for name in dir(cls):
        if not name.startswith("_") and isinstance(inspect.getattr_static(cls, name), FunctionType):
            setattr(service, name, retrying(getattr(service, name)))


def in_write(conn: Connection) -> bool:
    """True inside ``Database.write()``: rows read there may be locked (FOR UPDATE on PostgreSQL)."""
    return bool(conn.get_execution_options().get(_WRITE))


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=32,
        # The connection used last is used next: in WAL mode a connection keeps its page cache only
        # while no other connection has written since its last transaction, and with the event loop
        # running one call at a time that keeps one connection, and its cache, warm.
        pool_use_lifo=True,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        # We issue BEGIN ourselves (below), so the driver must not open transactions on its own.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL: no fsync inside COMMIT.  Database.write syncs the WAL after it (group_commit.py), so an
        # acknowledged commit survives a power cut as it would under FULL.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # SQLite's default page cache is 2 MiB: a token claim lands on a random page of the tokens'
        # b-tree, which outgrows that after some ten thousand bonuses, and each miss is a read of the
        # file.  The cache fills only as pages are used, so a small database costs no more.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        run_driver_sql(conn, _BEGIN_WRITE if conn.get_execution_options().get(_WRITE) else _BEGIN_READ)

    return engine
