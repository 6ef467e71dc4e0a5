"""SQLite writers queue on WriterLock (storage/writer_lock.py): across processes on a flock of
``<database>-writer.lock``, which the kernel releases when its holder dies; reads never queue."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, update

from openturk.storage import migrate
from openturk.storage.db import Database
from openturk.storage.schema import marketplace

pytestmark = [
    pytest.mark.sqlite_only("the writer lock is how SQLite writers queue"),
    pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows"),
]

# Another process holding the lock: takes it, says so, and keeps it until told to go (or killed).
_HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate.upgrade(database)
    yield database
    database.dispose()


def lock_path(tmp_path: Path) -> Path:
    return (tmp_path / "db.sqlite3-writer.lock").resolve()


@contextmanager
def lock_held_elsewhere(path: Path) -> Iterator[subprocess.Popen[str]]:
    argv = [sys.executable, "-c", _HOLDER, str(path)]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            yield holder
        finally:
            holder.kill()


def write_in_thread(db: Database) -> threading.Event:
    done = threading.Event()

    def write() -> None:
        with db.write() as conn:
            conn.execute(update(marketplace).values(clock_offset_us=marketplace.c.clock_offset_us + 1))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done


def offset(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(marketplace.c.clock_offset_us)).scalar_one())


def test_a_write_waits_for_another_process_holding_the_lock_and_reads_do_not(
    db: Database, tmp_path: Path
) -> None:
    with lock_held_elsewhere(lock_path(tmp_path)) as holder:
        done = write_in_thread(db)
        assert not done.wait(0.5), "the write went ahead while another process held the writer lock"
        assert offset(db) == 0  # a read is not queued behind the writers
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert done.wait(10), "the write did not go ahead once the lock was released"
    assert offset(db) == 1


def test_a_lock_holder_that_dies_releases_it(db: Database, tmp_path: Path) -> None:
    with lock_held_elsewhere(lock_path(tmp_path)) as holder:
        done = write_in_thread(db)
        assert not done.wait(0.3)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert done.wait(10), "a killed holder's lock was never released"
    assert offset(db) == 1


def test_the_lock_file_is_made_by_the_first_write_only(db: Database, tmp_path: Path) -> None:
    db.dispose()  # the fixture's migration wrote, and made the file
    lock_path(tmp_path).unlink()
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        assert offset(database) == 0
        assert not lock_path(tmp_path).exists()
        with database.write() as conn:
            conn.execute(update(marketplace).values(clock_offset_us=5))
        assert lock_path(tmp_path).exists()
    finally:
        database.dispose()
