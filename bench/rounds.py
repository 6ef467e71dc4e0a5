"""Interleaved rounds for the two ratios against the ceiling.

The main table runs each scenario once, one after the other, so a ratio compares windows taken a minute
apart; on a shared machine whose speed drifts (a VM's neighbours) that drift lands in the ratio.  Here
the ceiling, GetAccountBalance and SendBonus take turns, several rounds, both servers up all along; each
round gives its own ratios, and the median is reported with the spread.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench import scenarios
from bench.fixtures import Fixture
from bench.load import ClientPool
from bench.servers import ServerProcess


@dataclass(frozen=True, slots=True)
class Rounds:
    name: str  # "SendBonus req/s / ceiling req/s"
    target: float  # the (at least), for information
    values: tuple[float, ...]  # one ratio per round, in order

    @property
    def median(self) -> float:
        return statistics.median(self.values)


def interleaved(
    pool: ClientPool,
    ceiling: ServerProcess,
    openturk: ServerProcess,
    fixture: Fixture,
    timing: scenarios.Timing,
    rounds: int,
    run_id: str,
) -> list[Rounds]:
    balance: list[float] = []
    send: list[float] = []
    for number in range(rounds):
        top = pool.run(scenarios.ceiling(fixture, ceiling.port, timing), ceiling.cpu_seconds, None).rps
        read = pool.run(
            scenarios.get_account_balance(fixture, openturk.port, timing), openturk.cpu_seconds, None
        )
        job = scenarios.send_bonus(
            fixture, openturk.port, timing, name=scenarios.SEND, run=f"{run_id}r{number}"
        )
        write = pool.run(job, openturk.cpu_seconds, None)
        if top > 0 and not read.errors and not write.errors:
            balance.append(read.rps / top)
            send.append(write.rps / top)
    return [
        Rounds(f"{scenarios.SEND} req/s / ceiling req/s", 0.25, tuple(send)),
        Rounds(f"{scenarios.BALANCE} req/s / ceiling req/s", 0.5, tuple(balance)),
    ]


def rounds_table(items: list[Rounds], rounds: int, window_s: float) -> str:
    windows = f"{window_s:g} s windows: ceiling, GetAccountBalance, SendBonus"
    lines = [f"ratio, {rounds} interleaved rounds ({windows})"]
    for item in items:
        if not item.values:
            lines.append(f"  {item.name}: no round without errors")
            continue
        verdict = "meets it" if item.median >= item.target else "below it"
        shown = ", ".join(f"{v:.3f}" for v in item.values)
        lines.append(
            f"  {item.name}: median {item.median:.3f} (target >= {item.target}: {verdict}); "
            f"rounds {shown}; spread {min(item.values):.3f}-{max(item.values):.3f}"
        )
    return "\n".join(lines)
