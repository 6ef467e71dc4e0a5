"""Group commit (storage/group_commit.py): no acknowledgement before an fsync that began after the
commit, many commits per fsync, and a failed fsync fails every wait from then on.

The syncs are real fsyncs of a real file; ``CountingSync`` only counts them (and can make one fail)."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from openturk.storage import migrate
from openturk.storage.db import Database
from openturk.storage.group_commit import DurabilityError, WalSync
from openturk.storage.schema import marketplace

pytestmark = pytest.mark.sqlite_only("group commit is how SQLite files are synced")


class CountingSync(WalSync):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.syncs: list[int] = []  # the newest ticket handed out when each sync began
        self.fail_next = False
        self.gate = threading.Event()
        self.gate.set()

    def _fsync(self) -> OSError | None:
        self.syncs.append(self._committed)
        self.gate.wait(5)
        if self.fail_next:
            return OSError(5, "Input/output error")
        return super()._fsync()


@pytest.fixture
def wal(tmp_path: Path) -> CountingSync:
    path = tmp_path / "db-wal"
    path.write_bytes(b"x" * 4096)
    return CountingSync(path)


def test_a_wait_returns_after_a_sync_that_began_after_the_commit(wal: CountingSync) -> None:
    first = wal.committed()
    wal.wait(first)
    assert wal.syncs == [1]
    assert wal.pending() == 0
    wal.wait(first)  # already on disk: no second sync
    assert wal.syncs == [1]
    second = wal.committed()
    assert wal.pending() == second
    wal.wait(second)
    assert wal.syncs == [1, 2]


def test_commits_made_while_a_sync_runs_share_the_next_one(wal: CountingSync) -> None:
    first = wal.committed()
    wal.gate.clear()  # the first sync is held on the "disk"
    runner = threading.Thread(target=wal.wait, args=(first,))
    runner.start()
    while not wal.syncs:
        threading.Event().wait(0.001)
    later = [wal.committed() for _ in range(20)]
    waiters = [threading.Thread(target=wal.wait, args=(ticket,)) for ticket in later]
    for waiter in waiters:
        waiter.start()
    wal.gate.set()
    runner.join(5)
    for waiter in waiters:
        waiter.join(5)
    assert not any(w.is_alive() for w in [runner, *waiters])
    # The sync under way could not cover commits made after it began; one more covered all twenty.
    assert wal.syncs == [1, 21]


def test_event_loop_waiters_are_settled_in_groups(wal: CountingSync) -> None:
    async def request() -> None:
        ticket = wal.committed()
        await asyncio.sleep(0)
        await wal.wait_async(ticket)

    async def many() -> None:
        await asyncio.gather(*(request() for _ in range(50)))

    asyncio.run(many())
    assert wal.pending() == 0
    assert 1 <= len(wal.syncs) < 50


def test_a_stream_of_commits_that_never_pauses_does_not_hold_a_sync_back(wal: CountingSync) -> None:
    async def scenario() -> int:
        stop = asyncio.Event()

        async def committer() -> int:
            turns = 0
            while not stop.is_set():
                wal.committed()  # a new commit on every turn of the loop
                turns += 1
                await asyncio.sleep(0)
            return turns

        running = asyncio.ensure_future(committer())
        await asyncio.sleep(0)
        try:
            await asyncio.wait_for(wal.wait_async(wal.committed()), 5)
        finally:
            stop.set()
        return await running

    assert asyncio.run(scenario()) < 100


def test_a_thread_and_an_event_loop_share_syncs(wal: CountingSync) -> None:
    async def scenario() -> None:
        wal.gate.clear()
        first = wal.committed()
        thread = threading.Thread(target=wal.wait, args=(first,))
        thread.start()
        while not wal.syncs:
            await asyncio.sleep(0.001)
        second = wal.committed()  # after the thread's sync began: needs another
        waiting = asyncio.ensure_future(wal.wait_async(second))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        wal.gate.set()
        await asyncio.wait_for(waiting, 5)
        await asyncio.to_thread(thread.join, 5)

    asyncio.run(scenario())
    assert wal.syncs == [1, 2]


def test_a_failed_sync_fails_every_wait_from_then_on(wal: CountingSync) -> None:
    wal.fail_next = True
    ticket = wal.committed()
    with pytest.raises(DurabilityError):
        wal.wait(ticket)
    wal.fail_next = False
    later = wal.committed()
    with pytest.raises(DurabilityError):
        wal.wait(later)  # never retried: what reached the disk is unknown

    async def waiting() -> None:
        await wal.wait_async(wal.committed())

    with pytest.raises(DurabilityError):
        asyncio.run(waiting())


def test_no_wal_file_means_nothing_left_to_sync(tmp_path: Path) -> None:
    wal = WalSync(tmp_path / "never-created-wal")
    wal.wait(wal.committed())
    assert wal.pending() == 0


def test_database_writes_wait_for_the_disk_unless_deferred(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        migrate.upgrade(db)
        wal_path = tmp_path / "db.sqlite3-wal"
        assert wal_path.exists()
        with db.write() as conn:
            conn.execute(select(marketplace.c.id)).all()
        # Not deferred: the write returned after its sync.
        assert db._wal is not None
        assert db._wal.pending() == 0

        async def deferred() -> int:
            with db.deferred_sync() as pending:
                with db.write() as conn:
                    conn.execute(select(marketplace.c.id)).all()
                assert db._wal is not None
                assert db._wal.pending() == pending.ticket > 0
                with db.read() as conn:  # sees the unsynced commit: the same ticket is owed
                    conn.execute(select(marketplace.c.id)).all()
            await db.durable(pending)
            return pending.ticket

        assert asyncio.run(deferred()) > 0
        assert db._wal.pending() == 0
        assert os.path.getsize(wal_path) > 0
    finally:
        db.dispose()
