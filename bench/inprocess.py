"""Where the time goes, measured in this process with no HTTP: signing, verifying, the model, the
service layer's transaction, and what one fsync costs on the disk the database is on."""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bulk import Target
from bench.load import percentile
from bench.signing import Signer
from openturk.protocol.model import load_model
from openturk.protocol.sigv4 import HttpRequest, SigV4Verifier
from openturk.service.accounts import Identity
from openturk.service.services import Services


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    cpu_ms: float  # this process's CPU time per call (all threads; only the caller's is busy)
    note: str = ""


def time_calls(name: str, call: Callable[[int], object], count: int, *, note: str = "") -> Timing:
    samples: list[float] = []
    clock = time.perf_counter
    cpu_start = time.process_time()
    for number in range(count):
        t0 = clock()
        call(number)
        samples.append(clock() - t0)
    cpu = time.process_time() - cpu_start
    samples.sort()
    return Timing(
        name,
        count,
        percentile(samples, 50) * 1000,
        percentile(samples, 90) * 1000,
        percentile(samples, 99) * 1000,
        sum(samples) / len(samples) * 1000 if samples else math.nan,
        cpu / count * 1000 if count else math.nan,
        note,
    )


def bonus_params(target: Target, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "WorkerId": target.worker_id,
        "AssignmentId": target.assignment_id,
        "BonusAmount": "0.01",
        "Reason": "bench",
    }
    if token is not None:
        params["UniqueRequestToken"] = token
    return params


def protocol_costs(key: str, secret: str, target: Target, count: int) -> list[Timing]:
    """Client signing, server verification and input validation for one SendBonus request."""
    signer = Signer(key, secret, "127.0.0.1", 8000)
    signed = [signer.prepare("SendBonus", bonus_params(target, f"p-{n}")) for n in range(count)]
    holder = Identity("bench", key, secret)
    verifier = SigV4Verifier(lambda access_key: holder if access_key == key else None)
    received = [
        HttpRequest(
            method="POST",
            path="/",
            query="",
            headers=[*p.headers.items(), ("Content-Length", str(len(p.body)))],
            body=p.body,
        )
        for p in signed
    ]
    model = load_model()
    return [
        time_calls(
            "client: botocore SigV4 signing",
            lambda n: signer.prepare("SendBonus", bonus_params(target, f"s-{n}")),
            count,
            note="client CPU, kept out of the timed windows by pre-signing",
        ),
        time_calls(
            "server: SigV4 verification",
            lambda n: verifier.verify(received[n]),
            count,
            note="SigV4Verifier.verify, secret lookup excluded",
        ),
        time_calls(
            "server: model validation of the input",
            lambda n: model.parse_input("SendBonus", signed[n].body),
            count,
        ),
    ]


_DISK_NOTE = "CPU below the wall time is waiting (for the disk)"
SYNCED = "its own sync"
UNSYNCED = "sync left to the group"


def send_bonus_cost(services: Services, target: Target, count: int, *, synced: bool) -> Timing:
    """BonusService.send one call after another (with a token).  ``synced``: each call waits for a sync
    of the WAL of its own, as a lone caller does; else inside ``deferred_sync``, as the event loop runs
    it, the sync being shared by the group of commits it belongs to (made once, after the timing)."""
    bonuses = services.bonuses
    label = SYNCED if synced else UNSYNCED
    stamp = f"{time.time_ns() % 10**12:x}"

    def once(n: int) -> None:
        bonuses.send(
            target.requester_id,
            target.worker_id,
            target.assignment_id,
            1,
            "bench",
            f"i{stamp}-{int(synced)}-{n}",
            request_id=f"bench-inprocess-{n}",
        )

    if synced:
        return time_calls(f"service: SendBonus, {label}", once, count, note=_DISK_NOTE)
    with services.db.deferred_sync() as deferred:
        timing = time_calls(f"service: SendBonus, {label}", once, count, note="the transaction alone")
    asyncio.run(services.db.durable(deferred))
    return timing


def balance_cost(services: Services, requester_id: str, count: int) -> Timing:
    accounts = services.accounts
    return time_calls("service: GetAccountBalance read", lambda n: accounts.balance(requester_id), count)


_datasync = getattr(os, "fdatasync", os.fsync)


def fsync_cost(directory: Path, count: int) -> Timing:
    """Append 4 KiB and fdatasync it (what a sync of the WAL does), in the database's directory."""
    path = directory / "fsync-probe.bin"
    block = os.urandom(4096)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:

        def once(_: int) -> None:
            os.write(fd, block)
            _datasync(fd)

        return time_calls("disk: write 4 KiB + fdatasync", once, count, note=str(directory))
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
