"""Fixtures shared by every test: a real server process and fresh databases.

The suite runs twice in ``make test``: on SQLite files, then on PostgreSQL when ``OPENTURK_TEST_DB_URL``
names a cluster (``tests/pg/cluster.py`` makes a throw-away one).  On PostgreSQL every ``db_url`` is a
database of its own, copied from a migrated template, so tests stay isolated and fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import RunningServer, fresh_db_url, on_postgres, pg_databases, start_server

if TYPE_CHECKING:
    from tests.boto2_support import Boto2Connections


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): about SQLite itself; skipped on the PostgreSQL run, saying why"
    )
    config.addinivalue_line(
        "markers", "postgres_only: needs PostgreSQL (OPENTURK_TEST_DB_URL); skipped on the SQLite run"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    postgres = on_postgres()
    for item in items:
        sqlite_only = item.get_closest_marker("sqlite_only")
        if postgres and sqlite_only is not None:
            why = sqlite_only.kwargs.get("reason") or (sqlite_only.args[0] if sqlite_only.args else "")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {why}" if why else "SQLite only"))
        if not postgres and item.get_closest_marker("postgres_only") is not None:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only: runs when OPENTURK_TEST_DB_URL is set"))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server process for the session, on a real SQLite file or a PostgreSQL database."""
    running = start_server(fresh_db_url(tmp_path_factory.mktemp("server")))
    yield running
    running.stop()


@pytest.fixture
def boto2(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Boto2Connections]:
    """boto 2 connections to the session's server (skips where boto 2 does not import); proxies from the
    environment are ignored, the server is on loopback."""
    from tests.boto2_support import Boto2Connections as Connections

    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    made = Connections(server)
    yield made
    made.close()


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty (migrated on PostgreSQL, created on first use on SQLite) database for one test."""
    url = fresh_db_url(tmp_path)
    yield url
    if on_postgres():
        pg_databases().drop(url)
