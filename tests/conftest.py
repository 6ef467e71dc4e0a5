from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RunningServer, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server process for the session, on a real SQLite file."""
    db = tmp_path_factory.mktemp("server") / "openturk.sqlite3"
    running = start_server(f"sqlite:///{db}")
    yield running
    running.stop()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'openturk.sqlite3'}"
