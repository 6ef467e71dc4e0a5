"""The benchmark's plain-text report: the tables, where the time goes, the data and the notes."""

from __future__ import annotations

import os
from typing import Any

from bench import scenarios
from bench.bulk import BulkResult
from bench.inprocess import SYNCED, UNSYNCED, Timing
from bench.load import LoadResult
from bench.report import load_table, ratio_table, timing_table
from bench.scenarios import BALANCE, CEILING, SEND, SEND_ONE


def notes(clients: int) -> list[str]:
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


def render(
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
    lines += [f"  - {note}" for note in notes(int(env["clients"]))]
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
