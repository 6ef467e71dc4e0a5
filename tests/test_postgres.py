"""Running on PostgreSQL and as several processes: the throw-away cluster script, the one place a unit
of work is retried, ``serve --workers N`` and a bootstrap that happens once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from openturk.service.services import open_services
from openturk.settings import Settings, normalize_db_url
from openturk.storage import db as storage_db
from openturk.storage.schema import accounts, requesters
from tests.pg import cluster
from tests.support import mturk_client, on_postgres, run_cli
from tests.workload import ServerSlot, child_pids, healthy

# --- the cluster script -----------------------------------------------------------------------------


def test_install_runs_apt_get_as_root_or_through_sudo_and_keeps_the_system_cluster_off() -> None:
    as_root = cluster.install_commands(is_root=True, have_sudo=False)
    assert as_root[0][-2:] == ["update", "-q"]
    assert all(step[0] == "env" for step in as_root if "apt-get" in step)
    assert any("create_main_cluster = false" in " ".join(step) for step in as_root)
    assert as_root[-1][-1] == "postgresql"
    assert "--no-install-recommends" in as_root[-1]
    assert all(step[:2] == ["sudo", "-n"] for step in cluster.install_commands(is_root=False, have_sudo=True))
    with pytest.raises(cluster.ClusterError, match="needs root or password-less sudo"):
        cluster.install_commands(is_root=False, have_sudo=False)


def test_binaries_are_found_from_the_environment_first(tmp_path: Path) -> None:
    for tool in ("initdb", "pg_ctl"):
        (tmp_path / tool).write_text("#!/bin/sh\n")
    assert cluster.find_bin_dir({cluster.BIN_ENV: str(tmp_path), "PATH": ""}) == tmp_path
    half = tmp_path / "half"
    half.mkdir()
    (half / "initdb").write_text("")
    found = cluster.find_bin_dir({cluster.BIN_ENV: str(half), "PATH": ""})
    assert found != half  # a folder without pg_ctl is no PostgreSQL


def test_cluster_state_round_trips(tmp_path: Path) -> None:
    made = cluster.Cluster("/bin", "/data", 5433, "nobody", "/log")
    made.save(tmp_path / "c.json")
    assert cluster.Cluster.load(tmp_path / "c.json") == made
    assert made.url == "postgresql://postgres@127.0.0.1:5433/postgres"


@pytest.mark.slow
@pytest.mark.skipif(cluster.find_bin_dir() is None, reason="no PostgreSQL server binaries on this machine")
def test_run_gives_the_command_a_cluster_and_removes_it_afterwards(tmp_path: Path) -> None:
    probe = (
        "import json, os, sys; from sqlalchemy import create_engine, text; "
        "url = os.environ['OPENTURK_TEST_DB_URL'].replace('postgresql://', 'postgresql+psycopg://'); "
        "e = create_engine(url); c = e.connect(); "
        "print(json.dumps({'state': os.environ['OPENTURK_TEST_PG_STATE'], "
        "'fsync': c.execute(text('SHOW fsync')).scalar()})); sys.exit(7)"
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.pg.cluster", "run", "--", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 7, result.stderr  # the command's own exit status
    seen = json.loads(result.stdout)
    assert seen["fsync"] == "off"
    assert not Path(seen["state"]).parent.exists()  # the folder, data and all, is gone


# --- retrying a whole unit of work ------------------------------------------------------------------


class _FakeDriverError(Exception):
    def __init__(self, sqlstate: str | None = None, sqlite_errorcode: int | None = None) -> None:
        super().__init__("fake")
        if sqlstate is not None:
            self.sqlstate = sqlstate
        if sqlite_errorcode is not None:
            self.sqlite_errorcode = sqlite_errorcode


def _db_error(**kwargs: Any) -> OperationalError:
    return OperationalError("SELECT 1", {}, _FakeDriverError(**kwargs))


def test_what_is_retried_and_what_is_not() -> None:
    kind = storage_db.transient_kind
    assert kind(_db_error(sqlstate="40P01")) == "conflict"  # deadlock
    assert kind(_db_error(sqlstate="40001")) == "conflict"  # serialization failure
    assert kind(_db_error(sqlstate="57P01")) == "unavailable"  # the server is shutting down
    assert kind(_db_error(sqlstate="08006")) == "unavailable"  # connection failure
    assert kind(_db_error(sqlite_errorcode=5)) == "unavailable"  # SQLITE_BUSY
    assert kind(_db_error(sqlite_errorcode=517)) == "unavailable"  # SQLITE_BUSY_SNAPSHOT
    assert kind(_db_error(sqlstate="23514")) is None  # a CHECK constraint: a bug, never retried
    assert kind(_db_error(sqlite_errorcode=19)) is None
    assert kind(ValueError("no")) is None
    unknown = _db_error(sqlstate="08006")
    setattr(unknown, storage_db._UNKNOWN_OUTCOME, True)  # the connection died during COMMIT
    assert kind(unknown) is None


def test_a_lost_race_is_run_again_a_bounded_number_of_times() -> None:
    calls: list[int] = []

    def flaky(fail: int) -> str:
        calls.append(1)
        if len(calls) <= fail:
            raise _db_error(sqlstate="40P01")
        return "done"

    assert storage_db.retrying(flaky)(3) == "done"
    assert len(calls) == 4
    calls.clear()
    with pytest.raises(OperationalError):
        storage_db.retrying(flaky, conflicts=2)(10)
    assert len(calls) == 3


def test_only_the_outermost_call_retries() -> None:
    inner_calls: list[int] = []

    def inner() -> None:
        inner_calls.append(1)
        if len(inner_calls) == 1:
            raise _db_error(sqlstate="40001")

    inner_retrying = storage_db.retrying(inner)
    outer = storage_db.retrying(lambda: inner_retrying())
    outer()
    assert len(inner_calls) == 2  # the outer call ran again, the inner one did not loop on its own


@pytest.mark.postgres_only
def test_a_deadlock_between_two_calls_is_resolved_by_running_the_loser_again(db_url: str) -> None:
    services = open_services(Settings().with_db(db_url))
    try:
        ids = [
            services.accounts.create_requester(name).requester.id for name in ("a", "b")
        ]  # two accounts to lock in opposite orders
        with services.db.read() as conn:
            account_ids = [
                conn.execute(select(requesters.c.account_id).where(requesters.c.id == r)).scalar_one()
                for r in ids
            ]
        barrier = threading.Barrier(2)
        attempts: list[int] = []

        def transfer(first: int, second: int) -> None:
            attempts.append(first)
            with services.db.write() as conn:
                conn.execute(update(accounts).where(accounts.c.id == first).values(kind="requester"))
                if len(attempts) <= 2:
                    barrier.wait(timeout=10)  # both hold their first lock: a deadlock follows
                conn.execute(update(accounts).where(accounts.c.id == second).values(kind="requester"))

        run = storage_db.retrying(transfer)
        threads = [
            threading.Thread(target=run, args=pair)
            for pair in ((account_ids[0], account_ids[1]), (account_ids[1], account_ids[0]))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(attempts) == 3  # PostgreSQL chose one victim, which ran again and succeeded
    finally:
        services.close()


# --- URLs, bootstrap once, several workers ----------------------------------------------------------


def test_postgres_urls_mean_psycopg_3() -> None:
    assert normalize_db_url("postgresql://u:p@h:5432/d") == "postgresql+psycopg://u:p@h:5432/d"
    assert normalize_db_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_db_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"


@pytest.mark.postgres_only
def test_the_cli_takes_a_postgres_url_in_every_spelling(db_url: str) -> None:
    short = db_url.replace("postgresql://", "postgres://", 1)
    created = json.loads(
        run_cli("requester", "create", "lab", "--balance", "5", "--json", "--db", short).stdout
    )
    env = {**os.environ, "OPENTURK_DB": db_url}
    listed = json.loads(run_cli("requester", "list", "--json", env=env).stdout)
    assert [r["access_key_ids"] for r in listed["requesters"]] == [[created["access_key_id"]]]


@pytest.mark.slow
def test_servers_starting_together_on_an_empty_database_create_one_requester(
    db_url: str, tmp_path: Path
) -> None:
    slots = [ServerSlot(db_url, tmp_path) for _ in range(3)]
    starters = [threading.Thread(target=s.start) for s in slots]
    try:
        for t in starters:
            t.start()
        for t in starters:
            t.join(timeout=120)
        for s in slots:
            healthy(s.url)
        assert sum(s.log_text().count("No requester existed") for s in slots) == 1
    finally:
        for s in slots:
            s.stop()
    listed = json.loads(run_cli("requester", "list", "--json", "--db", db_url).stdout)
    assert len(listed["requesters"]) == 1


@pytest.mark.slow
def test_serve_with_workers_runs_that_many_processes_on_one_port(db_url: str, tmp_path: Path) -> None:
    slot = ServerSlot(db_url, tmp_path, workers=2)
    slot.start()
    try:
        assert slot.process is not None
        workers = [
            p
            for p in child_pids(slot.process.pid)
            if "multiprocessing" in Path(f"/proc/{p}/cmdline").read_text()
        ]
        assert len([p for p in workers if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]) == 2
        log = slot.log_text()
        assert log.count("No requester existed") == 1  # bootstrap and its banner once, in the supervisor
        assert "2 worker processes" in log
        services = open_services(Settings().with_db(db_url))
        try:
            lab = services.accounts.create_requester("lab", balance_cents=1_234)
        finally:
            services.close()
        client = mturk_client(slot.url, lab.access_key_id, lab.secret_access_key)
        assert {client.get_account_balance()["AvailableBalance"] for _ in range(20)} == {"12.34"}
        assert httpx.get(f"{slot.url}/healthz").status_code == 200
    finally:
        slot.stop()
    assert slot.process.returncode in (0, -signal.SIGTERM)


@pytest.mark.postgres_only
def test_the_test_databases_are_real_postgresql(db_url: str) -> None:
    assert on_postgres()
    services = open_services(Settings().with_db(db_url))
    try:
        with services.db.read() as conn:
            assert conn.dialect.name == "postgresql"
            assert "PostgreSQL" in conn.execute(text("SELECT version()")).scalar_one()
    finally:
        services.close()
