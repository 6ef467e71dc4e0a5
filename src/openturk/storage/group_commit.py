"""Group commit for SQLite in WAL mode: one fsync of the WAL makes many commits durable.

``PRAGMA synchronous=FULL`` in WAL mode is ``NORMAL`` plus one fsync of the WAL file after every commit
(SQLite's documentation of the pragma), done while the writer still holds the database's only write
lock.  So every write waits for the disk alone, one after the other.  Here connections run with
``NORMAL`` and that extra fsync is made by this module instead, outside the write lock: a commit takes a
ticket, and its caller does not answer anyone until a sync that began after the commit has finished.
fsync works on the file, not the descriptor, so one call covers every commit written before it began,
from any connection: while one fsync runs, the commits behind it queue up and the next fsync takes them
all.  An acknowledgement therefore still means "on disk", as with FULL; the disk is simply asked less
often.

What FULL also gave and this does not: under FULL a commit becomes visible to readers only after its
fsync.  Here another request can see a commit a fraction of a millisecond before it is on disk.  Reads
of this process wait for the syncs of this process's commits they might see (``pending``); a reader in
another process can, for that fraction of a millisecond, see a change that a power cut would undo (its
writer was never acknowledged, and a client retrying with its UniqueRequestToken is paid once).

A failed fsync leaves it unknown what reached the disk (Linux may drop the dirty pages and report
success next time), so it is never retried: from then on every wait fails and the server answers
errors until it is restarted, when SQLite recovers the WAL from what is really on disk.
"""

from __future__ import annotations

import asyncio
import os
import threading
from contextlib import suppress
from pathlib import Path

_Waiter = tuple[int, asyncio.AbstractEventLoop, "asyncio.Future[None]"]


# Turns of the event loop without a new commit before the sync starts (see WalSync._sync_on): with
# one, a request whose data had just been read had not yet committed; more than three gained nothing.
_QUIET_TURNS = 3
_MAX_TURNS = 32


class DurabilityError(OSError):
    """The WAL could not be synced: what the last commits wrote may not be on disk."""


class WalSync:
    """Tickets for commits, and one fsync at a time on their behalf, made by whoever waits first.

    No thread of its own: a thread waiting for its ticket makes the sync itself (or waits for the one
    under way), and an event loop makes it in a callback of its own, after the requests that were
    ready with it have had their turn (and added their commits to the same sync).  An fsync of the
    WAL costs a fraction of a millisecond on a local disk; waking another thread and handing it the
    GIL on every commit cost more than that."""

    def __init__(self, wal_path: Path) -> None:
        self._path = wal_path
        self._cond = threading.Condition()
        self._committed = 0  # tickets handed out
        self._synced = 0  # every ticket up to this one is on disk
        self._syncing = False
        self._failure: OSError | None = None
        self._waiters: list[_Waiter] = []
        self._scheduled: set[asyncio.AbstractEventLoop] = set()

    def committed(self) -> int:
        """Called right after a COMMIT returned: the ticket to wait for before acknowledging it."""
        with self._cond:
            self._committed += 1
            return self._committed

    def pending(self) -> int:
        """The newest ticket not yet on disk, else 0 (what a reader of this process may already see)."""
        with self._cond:
            return self._committed if self._committed > self._synced else 0

    def wait(self, ticket: int) -> None:
        """Block until ``ticket`` is on disk."""
        while True:
            with self._cond:
                while True:
                    if self._failure is not None:
                        raise DurabilityError(f"syncing the WAL failed: {self._failure}")
                    if self._synced >= ticket:
                        return
                    target = self._begin()
                    if target is not None:
                        break
                    self._cond.wait()
            self._end(target, self._fsync())

    async def wait_async(self, ticket: int) -> None:
        """``wait`` for an event loop: the sync runs in a callback of the loop, not in the caller."""
        loop = asyncio.get_running_loop()
        with self._cond:
            if self._failure is not None:
                raise DurabilityError(f"syncing the WAL failed: {self._failure}")
            if self._synced >= ticket:
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((ticket, loop, future))
        self._schedule(loop)
        await future

    def _begin(self) -> int | None:
        """Under the condition: claim the next sync, or None if one is under way, none is needed, or
        one has failed (after which nothing is ever reported as synced)."""
        if self._syncing or self._synced >= self._committed or self._failure is not None:
            return None
        self._syncing = True
        return self._committed

    def _end(self, target: int, failure: OSError | None) -> None:
        ready: list[_Waiter] = []
        waiting: list[_Waiter] = []
        with self._cond:
            self._syncing = False
            if failure is None:
                self._synced = max(self._synced, target)
            else:
                self._failure = failure
            for waiter in self._waiters:
                (ready if failure is not None or waiter[0] <= self._synced else waiting).append(waiter)
            self._waiters = waiting
            self._cond.notify_all()
        for _ticket, loop, future in ready:
            _settle_from_anywhere(loop, future, failure)
        # Commits made while this sync ran: their loops make the next one.
        for loop in {waiter[1] for waiter in waiting}:
            self._schedule(loop)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._cond:
            if loop in self._scheduled:
                return
            self._scheduled.add(loop)
        try:
            if _running_loop() is loop:
                loop.call_soon(self._sync_on, loop, self._committed, 0, 0)
            else:
                loop.call_soon_threadsafe(self._sync_on, loop, self._committed, 0, 0)
        except RuntimeError:  # that loop has closed: nobody is waiting on it any more
            with self._cond:
                self._scheduled.discard(loop)

    def _sync_on(self, loop: asyncio.AbstractEventLoop, seen: int, quiet: int, turns: int) -> None:
        # Like PostgreSQL's commit_delay: while the loop's turns keep bringing new commits (other
        # requests that were ready at the same time), let them join before the disk is asked.  A turn
        # of the loop costs microseconds; an fsync for one commit costs a quarter of a millisecond.
        # Under a stream of commits that never pauses, the sync starts after _MAX_TURNS all the same.
        with self._cond:
            committed = self._committed
        quiet = quiet + 1 if committed == seen else 0
        if quiet < _QUIET_TURNS and turns < _MAX_TURNS:
            loop.call_soon(self._sync_on, loop, committed, quiet, turns + 1)
            return
        with self._cond:
            self._scheduled.discard(loop)
            target = self._begin()
        if target is not None:  # else a sync is under way, and its end settles or reschedules us
            self._end(target, self._fsync())

    def _fsync(self) -> OSError | None:
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except FileNotFoundError:
            # No WAL: the last connection checkpointed it into the database file (and synced that)
            # and removed it.  Nothing of ours is left in it to sync.
            return None
        except OSError as error:
            return error
        try:
            _datasync(fd)
        except OSError as error:
            return error
        finally:
            os.close(fd)
        return None


# What SQLite's own sync of the WAL uses on Linux: the data and the metadata needed to read it back
# (the file's size), not its timestamps.
_datasync = getattr(os, "fdatasync", os.fsync)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _settle_from_anywhere(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[None], failure: OSError | None
) -> None:
    if _running_loop() is loop:
        _settle(future, failure)
        return
    with suppress(RuntimeError):  # RuntimeError: that loop has closed, nobody is waiting any more
        loop.call_soon_threadsafe(_settle, future, failure)


def _settle(future: asyncio.Future[None], failure: OSError | None) -> None:
    if future.done():
        return
    if failure is None:
        future.set_result(None)
    else:
        future.set_exception(DurabilityError(f"syncing the WAL failed: {failure}"))
