"""The plain-text table, the ratios against the ceiling of the same run, and the JSON document."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.inprocess import Timing
from bench.load import LoadResult


@dataclass(frozen=True, slots=True)
class Ratio:
    name: str
    value: float
    target: str  # information only: nothing is asserted
    meets: bool | None
    how: str
    # The same comparison made with the server's CPU time per request instead of wall-clock figures:
    # what the ratio would be if the server were CPU-bound on a core of its own, whatever else ran.
    by_server_cpu: float | None = None


def _num(value: float | None, digits: int = 2) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}"


def load_table(results: list[LoadResult]) -> str:
    header = (
        "scenario",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "errors",
        "server CPU ms/req",
        "client CPU ms/req",
        "cores busy: server",
        "clients",
        "other",
    )
    rows = [
        (
            r.name,
            str(r.clients),
            f"{r.requests:,}",
            _num(r.rps, 0),
            _num(r.p50_ms),
            _num(r.p90_ms),
            _num(r.p99_ms),
            str(r.errors),
            _num(r.server_cpu_ms_per_request, 3),
            _num(r.client_cpu_ms_per_request, 3),
            _num(r.server_cpu_utilisation),
            _num(r.client_cpu_utilisation),
            _num(r.other_cores_busy),
        )
        for r in results
    ]
    return _table(header, rows)


def timing_table(timings: list[Timing]) -> str:
    header = (
        "measured in-process (no HTTP)",
        "calls",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "mean ms",
        "CPU ms/call",
        "note",
    )
    rows = [
        (
            t.name,
            str(t.count),
            _num(t.p50_ms, 3),
            _num(t.p90_ms, 3),
            _num(t.p99_ms, 3),
            _num(t.mean_ms, 3),
            _num(t.cpu_ms, 3),
            t.note,
        )
        for t in timings
    ]
    return _table(header, rows)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [cell.rjust(width) for cell, width in zip(cells[1:-1], widths[1:-1], strict=True)]
        last = cells[-1].rjust(widths[-1]) if cells[-1][:1].isdigit() or cells[-1] == "-" else cells[-1]
        out.append(last)
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def _cpu_ratio(numerator: LoadResult, denominator: LoadResult) -> float | None:
    top, bottom = numerator.server_cpu_ms_per_request, denominator.server_cpu_ms_per_request
    return None if top is None or not bottom else top / bottom


def ratios(
    by_name: dict[str, LoadResult], ceiling: str, balance: str, send: str, small: str, big: str
) -> list[Ratio]:
    out: list[Ratio] = []
    top = by_name.get(ceiling)
    if top is not None and top.rps > 0:
        for name, target in ((send, 0.25), (balance, 0.5)):
            result = by_name.get(name)
            if result is not None:
                value = result.rps / top.rps
                out.append(
                    Ratio(
                        f"{name} req/s / ceiling req/s",
                        value,
                        f">= {target}",
                        value >= target,
                        f"{result.rps:,.0f} / {top.rps:,.0f}",
                        _cpu_ratio(top, result),
                    )
                )
    low, high = by_name.get(small), by_name.get(big)
    if low is not None and high is not None and low.p50_ms > 0:
        value = high.p50_ms / low.p50_ms
        out.append(
            Ratio(
                f"ListBonusPayments p50: {big.split(' @ ')[-1]} / {small.split(' @ ')[-1]}",
                value,
                "<= 1.5",
                value <= 1.5,
                f"{high.p50_ms:.2f} ms / {low.p50_ms:.2f} ms",
                _cpu_ratio(high, low),
            )
        )
    return out


def ratio_table(items: list[Ratio]) -> str:
    header = ("ratio (same run)", "measured", "issue's target", "", "from", "same, by server CPU/request")
    rows = [
        (
            r.name,
            f"{r.value:.3f}",
            r.target,
            ""
            if r.meets is None
            else ("meets it" if r.meets else "below it" if ">" in r.target else "above it"),
            r.how,
            _num(r.by_server_cpu, 3),
        )
        for r in items
    ]
    return _table(header, rows)


def document(
    environment: dict[str, Any],
    results: list[LoadResult],
    ratio_items: list[Ratio],
    timings: list[Timing],
    extra: dict[str, Any],
) -> dict[str, Any]:
    return {
        "environment": environment,
        "scenarios": [asdict(r) for r in results],
        "ratios": [asdict(r) for r in ratio_items],
        "in_process": [asdict(t) for t in timings],
        **extra,
    }
