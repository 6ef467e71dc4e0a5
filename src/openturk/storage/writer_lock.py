"""One writer at a time on a SQLite file, queued without SQLite's busy handler.

SQLite admits one writer.  A second one that finds the write lock taken sleeps in SQLite's busy
handler, in steps of 1, 2, 5, 10... ms, however briefly the lock is held (a SendBonus holds it for a
fifth of a millisecond), and an event loop running SQLite calls itself serves no one while it sleeps.
So every OpenTurk writer takes this lock before ``BEGIN IMMEDIATE``: the threads of a process queue on a
``threading.Lock``, and processes (``serve --workers N``, the CLI next to a running server) on an
advisory ``flock`` of ``<database>-writer.lock``.  Either way the next writer wakes the moment the one
ahead commits, and the kernel releases a process's ``flock`` if the process dies.  Writers that are
not OpenTurk (the sqlite3 shell) still meet SQLite's busy timeout, as before.

The lock is taken before SQLite's and released after, by every OpenTurk writer, so no two writers can
each hold one and wait for the other.  It only orders the queue: SQLite's own lock still admits one
writer at a time, so a lock file deleted under running processes costs speed, never correctness.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; processes queue in SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("openturk.db")


class WriterLock:
    def __init__(self, database: Path | None) -> None:
        """``database``: the SQLite file, or None (in memory: this process is its only writer)."""
        self._threads = threading.Lock()
        self._path = None if database is None or fcntl is None else Path(f"{database}-writer.lock")
        self._fd: int | None = None

    @property
    def path(self) -> Path | None:
        return self._path

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _file(self) -> int | None:
        """The lock file, opened at the first write (a process that only reads never creates it)."""
        if self._fd is None and self._path is not None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as error:
                # Where the lock file cannot be made, processes queue in SQLite's busy handler instead.
                log.warning("no writer lock file (%s); queueing in SQLite's busy handler", error)
                self._path = None
        return self._fd
