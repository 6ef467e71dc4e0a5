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
from bench.bulk import BulkResult, add_bonuses
from bench.fixtures import Fixture, build, build_at, copy_db, db_url, open_db
from bench.inprocess import (
    SYNCED,
    UNSYNCED,
    Timing,
    balance_cost,
    fsync_cost,
    protocol_costs,
    send_bonus_cost,
)
from bench.load import ClientPool, Job, LoadResult
from bench.report import document, load_table, ratio_table, ratios, timing_table
from bench.rounds import Rounds, interleaved, rounds_table
from bench.servers import ServerProcess, start_ceiling, start_openturk
from openturk.settings import Settings

SMALL = 1_000
BALANCE_CENTS = 1_000_000_000  # $10,000,000: a million bonuses of up to $1.20 each, and the HTTP ones
CEILING = "ceiling (bare handler)"
BALANCE = "GetAccountBalance"
SEND = "SendBonus"
SEND_ONE = "SendBonus, 1 client"
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
        text = _render(
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
                "notes": _notes(args.clients),
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


def _notes(clients: int) -> list[str]:
    cpus = os.cpu_count() or 0
    return [
        f"The server (one uvicorn process) and the {clients} client processes share {cpus} CPU cores: "
        "every req/s here is what one machine does with both sides on it. 'cores busy' is CPU seconds per "
        "wall second in the timed window: the server's, the clients' (http.client sending and parsing, "
        "not available to the server) and everything else on the machine ('other': other processes, "
        "kernel work not charged to a process). The ratios are also given by server CPU per request, "
        "which does not depend on what else was running.",
        "Clients use keep-alive connections (http.client, one per process, closed loop) and requests "
        "signed with botocore's SigV4Auth. Signing is client CPU and is done before each timed window: "
        "repeatable requests come from a pool of pre-signed ones; every SendBonus is signed once, with "
        "its own UniqueRequestToken.",
        "The ceiling receives the same signed GetAccountBalance requests and answers a fixed body from the "
        "same stack (uvicorn + uvloop + httptools, Starlette, RequestIdMiddleware) with no signature check, "
        "thread-pool hop or database.",
        "Writes are durable: no answer leaves before the WAL holding its commit has been synced "
        "(synchronous=NORMAL plus one fdatasync of the WAL per group of commits, "
        "openturk/storage/group_commit.py: what synchronous=FULL guarantees, with one sync per group "
        "instead of one per commit); the in-process rows show a call waiting for a sync of its own and "
        "the transaction alone.",
        "'N processes' rows run `openturk serve --workers N` (N uvicorn worker processes on one port; "
        "'server CPU' adds them up). PostgreSQL rows: a local server with fsync and synchronous_commit on "
        "(as durable as an acknowledged SQLite commit), READ COMMITTED, row locks and conditional updates; "
        "the PostgreSQL backends' own CPU is not in 'server CPU' but is in 'other'. `make bench` makes a "
        "throw-away cluster for them; without one they are left out.",
        "The big ListBonusPayments figure is served from a copy of the database into which the bonuses were "
        "bulk-loaded with SQLAlchemy Core as consistent ledger rows (bonus + journal entry + 2 postings "
        "each, cached account totals moved), with synchronous=OFF and foreign-key checks off during the "
        "load only; --audit re-checks the books.",
    ]


def _render(
    environment: dict[str, Any],
    results: list[LoadResult],
    ratio_items: list[Any],
    shown_rounds: str,
    timings: list[Timing],
    small_load: BulkResult,
    big_load: BulkResult,
    pages: dict[str, dict[str, Any]],
    audit: dict[str, Any] | None,
    by_name: dict[str, LoadResult],
) -> str:
    env = environment
    lines = [
        "",
        "OpenTurk benchmark (figures, not pass/fail)",
        f"  {env['cpus']} CPUs, Python {env['python']}, SQLite {env['sqlite']}, "
        f"PostgreSQL {env['postgresql']}, uvicorn {env['uvicorn']}, "
        f"Starlette {env['starlette']}, SQLAlchemy {env['sqlalchemy']}",
        f"  database filesystem: {env['filesystem']}",
        f"  {env['clients']} client processes x 1 keep-alive connection; warm-up {env['warmup_s']:g} s, "
        f"timed window {env['duration_s']:g} s per scenario",
        "",
        load_table(results),
        "",
        ratio_table(ratio_items),
        "  (targets are the issue's, printed for information; nothing here fails a build)",
        "",
        *([shown_rounds, ""] if shown_rounds else []),
        timing_table(timings),
        "",
    ]
    lines += _where_time_goes(by_name, timings)
    lines += [
        "",
        "Data:",
        f"  {small_load.bonuses:,} bonuses on the small HIT, {small_load.rows:,} rows in "
        f"{small_load.seconds:.2f} s (one ordinary WAL transaction with synchronous=FULL)",
        f"  {big_load.bonuses:,} bonuses on the big HIT, in a copy of the database: {big_load.rows:,} rows "
        f"(bonuses, journal entries, postings) in {big_load.seconds:.1f} s "
        f"({big_load.rows / big_load.seconds:,.0f} rows/s, synchronous=OFF for the load)",
        "  middle pages timed: rows {small_rows} and {big_rows}; the small one reached by walking NextToken "
        "in-process ({small_pages} pages, {small_s:.2f} s), the big one's NextToken computed and checked "
        "against a one-page walk ({big_s:.2f} s): a full walk costs O(pages x depth) today".format(
            small_rows=_rows(pages["small"]),
            big_rows=_rows(pages["big"]),
            small_pages=pages["small"]["pages_walked"],
            small_s=pages["small"]["seconds"],
            big_s=pages["big"]["seconds"],
        ),
    ]
    if audit is not None:
        verdict = "ok" if audit["ok"] else "PROBLEMS " + "; ".join(audit["problems"])
        lines.append(
            f"  ledger audit of the copy: {verdict} ({audit['entries']:,} entries, {audit['seconds']:.1f} s)"
        )
    failed = [r for r in results if r.errors]
    if failed:
        lines += ["", "ERRORS (there should be none):"]
        for r in failed:
            lines.append(f"  {r.name}: {r.errors} errors")
            lines += [f"    {sample}" for sample in r.error_samples]
    busy = [r for r in results if r.other_cores_busy is not None and r.other_cores_busy > 0.25]
    if busy:
        names = ", ".join(f"{r.name} ({r.other_cores_busy:.2f})" for r in busy)
        lines.append(
            f"  note: other work kept cores busy during {names}: the wall-clock figures of those are "
            "perturbed; the ratios by server CPU per request are not"
        )
    inline = [r for r in results if r.signed_inline]
    for r in inline:
        lines.append(f"  note: {r.name} ran out of pre-signed requests; {r.signed_inline} were signed inline")
    lines += ["", "Notes:"]
    lines += [f"  - {note}" for note in _notes(int(env["clients"]))]
    return "\n".join(lines)


def _rows(page: dict[str, Any]) -> str:
    first = int(page["rows_before"]) + 1
    return f"{first:,}-{first + scenarios.PAGE - 1:,} of {int(page['bonuses']):,}"


def _balance_breakdown(
    by_name: dict[str, LoadResult], read: Timing | None, verify: Timing | None
) -> list[str]:
    balance, top = by_name.get(BALANCE), by_name.get(CEILING)
    if balance is None or top is None or read is None or verify is None:
        return []
    server, bare = balance.server_cpu_ms_per_request, top.server_cpu_ms_per_request
    if server is None or bare is None:
        return []
    rest = server - bare - read.cpu_ms - verify.cpu_ms
    return [
        "Where a GetAccountBalance spends the server's CPU (per request):",
        f"  {server:.3f} ms over HTTP = the bare stack {bare:.3f} ms + the read transaction "
        f"{read.cpu_ms:.3f} ms + SigV4 verification {verify.cpu_ms:.3f} ms + {rest:.3f} ms of the rest "
        "(the JSON endpoint and its model validation and JSON, uvicorn's request and response objects "
        "beyond the bare handler's, a bigger process's cache misses)",
    ]


def _where_time_goes(by_name: dict[str, LoadResult], timings: list[Timing]) -> list[str]:
    found: dict[str, Timing] = {t.name: t for t in timings}

    def get(prefix: str) -> Timing | None:
        return next((t for name, t in found.items() if name.startswith(prefix)), None)

    one = by_name.get(SEND_ONE)
    full = get(f"service: SendBonus, {SYNCED}")
    normal = get(f"service: SendBonus, {UNSYNCED}")
    disk = get("disk:")
    sign = get("client: botocore")
    lines = ["Where a SendBonus spends its time (p50):"]
    if one is not None and full is not None:
        lines.append(
            f"  over HTTP, one client at a time: {one.p50_ms:.2f} ms; the service call with its own sync: "
            f"{full.p50_ms:.2f} ms (mean {full.mean_ms:.2f} ms, CPU {full.cpu_ms:.2f} ms a call); so HTTP + "
            f"SigV4 check + model ~ {one.p50_ms - full.p50_ms:.2f} ms"
        )
    if full is not None and normal is not None:
        lines.append(
            f"  with its own sync vs the transaction alone: {full.p50_ms:.2f} vs {normal.p50_ms:.2f} ms "
            f"(means {full.mean_ms:.2f} vs {normal.mean_ms:.2f}): ~{full.p50_ms - normal.p50_ms:.2f} ms is "
            "the sync of the WAL, which concurrent requests share"
            + (f" (a bare 4 KiB write + fdatasync here: {disk.p50_ms:.2f} ms)" if disk is not None else "")
        )
    send = by_name.get(SEND)
    if send is not None and normal is not None and normal.mean_ms > 0:
        lines.append(
            f"  writes are serialised (BEGIN IMMEDIATE): one at a time the transaction alone allows "
            f"~{1000 / normal.mean_ms:,.0f}/s; over HTTP with {send.clients} clients: {send.rps:,.0f}/s"
        )
    lines += _balance_breakdown(by_name, get("service: GetAccountBalance"), get("server: SigV4"))
    if sign is not None:
        lines.append(
            f"  client-side botocore signing: {sign.p50_ms:.3f} ms per request (outside the timed windows)"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
