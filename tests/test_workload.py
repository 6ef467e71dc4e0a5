"""The bank-style workload (tests/workload.py) under faults, on PostgreSQL and on one shared SQLite file.

Several server processes serve one database while client threads fund, create HITs, work, review and pay
bonuses with tokens, retrying after every error or timeout.  Meanwhile a server is killed with SIGKILL and
started again, clients hang up mid-request, and (PostgreSQL) the database server restarts.  Afterwards
the books must hold: the audit passes, everything acknowledged is there exactly once, nothing is
negative, the money held is the money deposited.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from openturk.service.services import Services, open_services
from openturk.settings import Settings
from openturk.storage.schema import bonuses
from tests.pg.cluster import STATE_ENV, Cluster
from tests.support import fresh_db_url, on_postgres, pg_databases
from tests.workload import Lab, ServerSlot, Workload, check_books, half_sent_send_bonus, healthy

pytestmark = pytest.mark.slow

THREADS = 8
SECONDS = 24.0
START_CENTS = 2_000


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    url = fresh_db_url(tmp_path)
    opened = open_services(Settings().with_db(url))
    yield opened
    opened.close()
    if on_postgres():
        pg_databases().drop(url)


def _setup(services: Services, servers: list[ServerSlot]) -> Workload:
    labs = []
    for n in range(3):
        created = services.accounts.create_requester(f"lab{n}", balance_cents=START_CENTS)
        labs.append(Lab(created.requester.id, created.access_key_id, created.secret_access_key))
    workers = [services.workers.create(f"w{n}", "US").id for n in range(6)]
    return Workload(services, servers, labs, workers)


def _run(
    services: Services,
    tmp_path: Path,
    server_workers: list[int],
    faults: Callable[[Workload], list[tuple[float, Callable[[], None]]]],
) -> Workload:
    servers = [ServerSlot(services.settings.db_url, tmp_path, workers=n) for n in server_workers]
    try:
        for server in servers:
            server.start()
        workload = _setup(services, servers)
        workload.run(THREADS, SECONDS, faults(workload))
        for server in servers:
            healthy(server.url)
        # After recovery every server answers again and the books hold.
        for lab in workload.labs:
            workload.call(lab, "get_account_balance")
        # The first server to start on the empty database created the default requester; no other did.
        banners = sum(s.log_text().count("No requester existed") for s in servers)
        assert banners == 1, banners
    except BaseException:
        for server in servers:
            print(f"--- server {server.port}\n{server.log_text()[-3000:]}")
        raise
    finally:
        for server in servers:
            server.stop()
    initial = 3 * START_CENTS + services.settings.bootstrap_balance_cents
    check_books(services, services.settings.db_url, workload.book, workload.labs, initial)
    ops = workload.book.operations
    retried = sum(s.log_text().count("database unavailable") for s in servers)
    print(f"operations {dict(ops)}; errors seen by clients {dict(workload.book.errors)}; ")
    print(f"calls the servers ran again after losing the database: {retried}")
    assert ops["bonus"] > 20, ops
    assert ops["create_hit"] > 10, ops
    assert workload.book.bonus_requests, "no bonus was ever paid"
    return workload


def _kill_and_restart(server: ServerSlot) -> Callable[[], None]:
    def fault() -> None:
        server.kill()
        time.sleep(0.5)
        server.start()

    return fault


def _hang_up(workload: Workload) -> Callable[[], None]:
    def fault() -> None:
        with workload._lock:
            pool = list(workload.reviewed or workload.submitted)
        if not pool:
            return
        lab, assignment, worker = pool[0]
        token = uuid.uuid4().hex
        for server in workload.servers:
            half_sent_send_bonus(server.url, lab, worker, assignment, token)
        # The half-sent requests paid nothing: the token is still free, and a full retry pays once.
        time.sleep(0.2)
        with workload.services.db.read() as conn:
            paid = conn.execute(
                select(bonuses.c.entry_id).where(bonuses.c.unique_request_token == token)
            ).all()
        assert paid == []
        try:
            answer = workload.call(
                lab,
                "send_bonus",
                WorkerId=worker,
                AssignmentId=assignment,
                BonusAmount="0.50",
                Reason="cut",
                UniqueRequestToken=token,
            )
        except ClientError as error:
            assert "insufficient funds" in str(error)  # noqa: PT017 (the other threads spent it)
            return
        with workload.book.lock:
            workload.book.bonus_requests.add(answer["ResponseMetadata"]["RequestId"])
            workload.book.bonus_tokens[(lab.requester_id, token)] = answer["ResponseMetadata"]["RequestId"]

    return fault


@pytest.mark.postgres_only
def test_postgres_workload_survives_kill_9_a_database_restart_and_hang_ups(
    services: Services, tmp_path: Path
) -> None:
    cluster = Cluster.load(os.environ[STATE_ENV])

    def faults(w: Workload) -> list[tuple[float, Callable[[], None]]]:
        multi = w.servers[2]
        return [
            (3.0, _hang_up(w)),
            (5.0, _kill_and_restart(w.servers[0])),
            (9.0, lambda: cluster.restart("fast")),
            (13.0, multi.kill_one_worker),
            (16.0, lambda: cluster.restart("immediate")),  # a crash, as far as the servers can tell
            (20.0, _hang_up(w)),
        ]

    workload = _run(services, tmp_path, [1, 1, 2], faults)
    assert workload.servers[0].starts == 2


@pytest.mark.sqlite_only(reason="several processes sharing one SQLite file; the PostgreSQL run has its own")
def test_sqlite_workload_with_several_processes_on_one_file(services: Services, tmp_path: Path) -> None:
    def faults(w: Workload) -> list[tuple[float, Callable[[], None]]]:
        return [
            (3.0, _hang_up(w)),
            (6.0, _kill_and_restart(w.servers[1])),
            (14.0, _kill_and_restart(w.servers[0])),
            (18.0, _hang_up(w)),
        ]

    workload = _run(services, tmp_path, [1, 1, 1], faults)
    seen = " ".join(workload.book.error_samples)
    assert "locked" not in seen, seen
    assert not any("ServiceFault" in kind for kind in workload.book.errors), workload.book.error_samples
