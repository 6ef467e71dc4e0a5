"""``python -m bench``: OpenTurk's throughput and latency over real HTTP, against a ceiling measured in
the same run.  Figures and ratios, never pass/fail: the exit status is 0 whatever the numbers are (it
is non-zero only if the benchmark itself could not run).

    python -m bench                  # full run, about 4 minutes
    python -m bench --quick          # shorter windows, 100,000 bonuses; about a minute
    python -m bench --rounds 5       # more interleaved ceiling/GetAccountBalance/SendBonus rounds
    python -m bench --json out.json  # the figures as JSON too
    python -m bench --postgres postgresql://USER@HOST:PORT/DB   # PostgreSQL figures too (1 and 2 processes)

``make bench`` runs it against a throw-away PostgreSQL cluster (tests/pg/cluster.py, fsync on) when one
can be made; the URL must allow CREATE DATABASE.  Without one, the PostgreSQL rows are left out.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.bulk import add_bonuses
from bench.fixtures import Fixture, build, build_at, copy_db, db_url, open_db
from bench.inprocess import (
    Timing,
    balance_cost,
    fsync_cost,
    protocol_costs,
    send_bonus_cost,
)
from bench.load import ClientPool, Job, LoadResult
from bench.report import document, ratios
from bench.rounds import Rounds, interleaved, rounds_table
from bench.scenarios import BALANCE, CEILING, SEND, SEND_ONE
from bench.servers import ServerProcess, start_ceiling, start_openturk
from bench.text import notes, render
from openturk.settings import Settings

SMALL = 1_000
BALANCE_CENTS = 1_000_000_000  # $10,000,000: a million bonuses of up to $1.20 each, and the HTTP ones
PG_URL_ENV = "OPENTURK_TEST_DB_URL"  # what tests/pg/cluster.py hands to the command it runs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 s windows, 0.5 s warm-up, 100,000 bonuses")
    parser.add_argument("--duration", type=float, help="seconds per timed window (default 10, --quick 3)")
    parser.add_argument(
        "--warmup", type=float, help="seconds of warm-up per scenario (default 2, --quick 0.5)"
    )
    parser.add_argument("--clients", type=int, default=4, help="client processes, one connection each (4)")
    parser.add_argument(
        "--bonuses", type=int, help="bonuses on the big HIT (default 1,000,000, --quick 100,000)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="interleaved ceiling/GetAccountBalance/SendBonus rounds for the ratios (default 3, --quick 2)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get(PG_URL_ENV) or None,
        help=f"a PostgreSQL server where the bench may create a database (default: ${PG_URL_ENV})",
    )
    parser.add_argument("--workdir", metavar="DIR", help="where the databases go (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and server logs")
    parser.add_argument(
        "--audit", action="store_true", help="run the ledger audit on the bulk-loaded copy (slow at 1M)"
    )
    return parser


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _filesystem(path: Path) -> str:
    """The mount holding ``path`` as /proc/mounts names it (fsync cost depends on it)."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    resolved = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3 and resolved.startswith(parts[1]) and len(parts[1]) > len(best):
            best, kind = parts[1], f"{parts[2]} on {parts[1]} ({parts[0]})"
    return kind


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    duration = args.duration if args.duration is not None else (3.0 if args.quick else 10.0)
    warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 2.0)
    big = args.bonuses if args.bonuses is not None else (100_000 if args.quick else 1_000_000)
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 3)
    if big < 2 * scenarios.PAGE or duration <= 0 or warmup < 0 or args.clients < 1 or rounds < 0:
        print(
            "bench: need --bonuses >= 200, --duration > 0, --warmup >= 0, --clients >= 1, --rounds >= 0",
            file=sys.stderr,
        )
        return 2
    inprocess_calls = 100 if args.quick else 300
    timing = scenarios.Timing(warmup, duration)
    run_id = f"{int(time.time()) % 0xFFFFFF:x}"
    started = time.perf_counter()

    with ExitStack() as stack:
        if args.workdir:
            workdir = Path(args.workdir)
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(tempfile.mkdtemp(prefix="openturk-bench-"))
            if not args.keep:
                stack.callback(shutil.rmtree, workdir, True)
        main_db, big_db = workdir / f"bench-{run_id}.sqlite3", workdir / f"bench-{run_id}-big.sqlite3"

        _log(f"starting {args.clients} client processes; databases in {workdir}")
        pool = ClientPool(args.clients)
        stack.callback(pool.close)

        _log("building a fresh database through the service layer")
        fixture = build(main_db, BALANCE_CENTS)
        fees = Settings.from_env().fees  # what the server processes will charge
        small_load = add_bonuses(fixture.db_url, fixture.small, SMALL, fees, fast=False)
        copy_db(main_db, big_db)
        big_url = db_url(big_db)
        _log(f"bulk-loading {big:,} bonuses into a copy")
        big_load = add_bonuses(big_url, fixture.big, big, fees, fast=True)
        _log(f"  {big_load.rows:,} rows in {big_load.seconds:.1f} s")
        audit: dict[str, Any] | None = None
        if args.audit:
            audit = _audit(big_url)

        _log("in-process timings")
        timings = _in_process(fixture, workdir, inprocess_calls)
        _log("finding the middle pages")
        small_page = scenarios.walk_to_middle(fixture.db_url, fixture.small, SMALL)
        big_page = scenarios.compute_middle(big_url, fixture.big, big)
        small_name = f"ListBonusPayments @ {SMALL:,}"
        big_name = f"ListBonusPayments @ {big:,}"

        results: list[LoadResult] = []

        def run(server: ServerProcess, job: Job, clients: int | None = None) -> None:
            _log(f"{job.name}: {warmup:g} s warm-up, {duration:g} s timed")
            result = pool.run(job, server.cpu_seconds, clients)
            results.append(result)
            if result.errors:
                _log(f"  {result.errors} errors, e.g. {result.error_samples[0]}")

        with start_ceiling(workdir) as server:
            run(server, scenarios.ceiling(fixture, server.port, timing))
        with start_openturk(fixture.db_url, workdir, "main") as server:
            run(server, scenarios.get_account_balance(fixture, server.port, timing))
            run(server, scenarios.send_bonus(fixture, server.port, timing, name=SEND, run=run_id))
            run(
                server, scenarios.send_bonus(fixture, server.port, timing, name=SEND_ONE, run=run_id + "x"), 1
            )
            scenarios.check_page(fixture, server.port, small_page.hit_id, small_page.token)
            run(
                server,
                scenarios.list_page(
                    fixture,
                    server.port,
                    timing,
                    name=small_name,
                    hit_id=small_page.hit_id,
                    token=small_page.token,
                ),
            )
        with start_openturk(fixture.db_url, workdir, "main-2", workers=2) as server:
            run(
                server,
                scenarios.get_account_balance(fixture, server.port, timing, name=f"{BALANCE}, 2 processes"),
            )
            run(
                server,
                scenarios.send_bonus(
                    fixture, server.port, timing, name=f"{SEND}, 2 processes", run=run_id + "w"
                ),
            )
        postgres_version = "-"
        if args.postgres:
            pg_url, postgres_version = _postgres_database(args.postgres, run_id, stack, keep=args.keep)
            _log(f"building a PostgreSQL database ({postgres_version})")
            pg = build_at(pg_url, BALANCE_CENTS)
            for workers in (1, 2):
                label = f"PostgreSQL, {workers} process{'es' if workers > 1 else ''}"
                with start_openturk(pg.db_url, workdir, f"pg-{workers}", workers=workers) as server:
                    run(
                        server,
                        scenarios.get_account_balance(pg, server.port, timing, name=f"{BALANCE}, {label}"),
                    )
                    run(
                        server,
                        scenarios.send_bonus(
                            pg, server.port, timing, name=f"{SEND}, {label}", run=f"{run_id}p{workers}"
                        ),
                    )

        round_items: list[Rounds] = []
        round_timing = scenarios.Timing(warmup, duration / 2)
        if rounds:
            _log(f"{rounds} interleaved rounds: ceiling, {BALANCE}, {SEND}, {duration / 2:g} s windows")
            with start_ceiling(workdir) as top, start_openturk(fixture.db_url, workdir, "rounds") as server:
                round_items = interleaved(pool, top, server, fixture, round_timing, rounds, run_id)

        with start_openturk(big_url, workdir, "big") as server:
            scenarios.check_page(fixture, server.port, big_page.hit_id, big_page.token)
            run(
                server,
                scenarios.list_page(
                    fixture, server.port, timing, name=big_name, hit_id=big_page.hit_id, token=big_page.token
                ),
            )

        environment = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "sqlite": sqlite3.sqlite_version,
            "postgresql": postgres_version,
            "uvicorn": _version("uvicorn"),
            "starlette": _version("starlette"),
            "sqlalchemy": _version("sqlalchemy"),
            "botocore": _version("botocore"),
            "filesystem": _filesystem(workdir),
            "workdir": str(workdir) if args.keep or args.workdir else None,
            "clients": args.clients,
            "warmup_s": warmup,
            "duration_s": duration,
            "quick": args.quick,
        }
        by_name = {r.name: r for r in results}
        ratio_items = ratios(by_name, CEILING, BALANCE, SEND, small_name, big_name)
        bulk = {"small": asdict(small_load), "big": asdict(big_load)}
        pages = {"small": asdict(small_page), "big": asdict(big_page)}
        shown_rounds = rounds_table(round_items, rounds, duration / 2) if round_items else ""
        text = render(
            environment,
            results,
            ratio_items,
            shown_rounds,
            timings,
            small_load,
            big_load,
            pages,
            audit,
            by_name,
        )
        print(text)
        if args.json:
            extra = {
                "bulk_load": bulk,
                "middle_pages": pages,
                "audit": audit,
                "interleaved_rounds": [asdict(r) for r in round_items],
                "notes": notes(args.clients),
            }
            doc = document(environment, results, ratio_items, timings, extra)
            Path(args.json).write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
            _log(f"figures written to {args.json}")
        if args.keep or args.workdir:
            _log(f"databases and server logs kept in {workdir}")
        _log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


def _postgres_database(admin_url: str, run_id: str, stack: ExitStack, *, keep: bool) -> tuple[str, str]:
    """A new database on the PostgreSQL server at ``admin_url`` (dropped afterwards unless ``keep``)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from openturk.settings import normalize_db_url

    name = f"openturk_bench_{run_id}"
    admin = create_engine(normalize_db_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one())
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    if not keep:
        stack.callback(drop)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), version


def _json_default(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def _audit(url: str) -> dict[str, Any]:
    from openturk.service.audit import run_audit

    _log("auditing the ledger of the copy")
    services = open_db(url)
    try:
        t0 = time.perf_counter()
        report = run_audit(services.db)
        seconds = time.perf_counter() - t0
    finally:
        services.close()
    return {
        "ok": report.ok,
        "seconds": seconds,
        "entries": report.entries,
        "problems": list(report.problems[:5]),
    }


def _in_process(fixture: Fixture, workdir: Path, calls: int) -> list[Timing]:
    timings = protocol_costs(fixture.access_key, fixture.secret, fixture.send, calls)
    services = open_db(fixture.db_url)
    try:
        timings.append(send_bonus_cost(services, fixture.send, calls, synced=True))
        timings.append(balance_cost(services, fixture.requester_id, calls))
        timings.append(send_bonus_cost(services, fixture.send, calls, synced=False))
    finally:
        services.close()
    timings.append(fsync_cost(workdir, min(calls, 100)))
    return timings


if __name__ == "__main__":
    raise SystemExit(main())
