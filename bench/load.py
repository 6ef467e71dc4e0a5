"""The HTTP load generator: client processes, each with one keep-alive connection, in a closed loop.

Processes rather than threads, so no client waits for another's GIL and a latency is the server's answer
time plus the client's own parsing.  They are started once (spawn) and reused by every scenario.  Each
scenario runs in three steps in every client:

1. warm-up for a fixed time, signing each request as it goes;
2. pre-signing for the timed window: botocore's SigV4 costs about 0.15 ms of client CPU per request,
   as much as a fast server answer, so it is kept out of the window.  A request whose body never changes
   (GetAccountBalance, one ListBonusPayments page) comes from a pool of distinct signed requests used
   in turn (the server keeps no replay cache; a signature is good for 5 minutes).  A request that must be
   unique (SendBonus with its own UniqueRequestToken) is signed once each: the pace of the warm-up's
   second half says how many the window needs, three times over (at least 1,000), and any beyond that are
   signed inline and counted;
3. all clients (and the coordinator, which samples the server's CPU time) meet at a barrier, then send
   for a fixed duration.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import multiprocessing
import os
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from typing import Any

from bench.servers import HOST, machine_cpu
from bench.signing import Prepared, Signer

_BARRIER_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    port: int
    operation: str
    params: dict[str, Any]
    access_key: str
    secret: str
    warmup_s: float
    duration_s: float
    # Every request gets its own UniqueRequestToken ``<prefix>-<client>-<n>`` (at most 64 characters).
    unique_token_prefix: str | None = None
    # Requests that may be sent more than once: this many pre-signed per client, used in turn.
    pool_size: int = 256


@dataclass(frozen=True, slots=True)
class ClientResult:
    latencies: bytes  # array('d') of seconds, one per request of the timed window
    errors: int
    error_samples: tuple[str, ...]
    started: float  # time.monotonic(): one clock for every process on Linux
    ended: float
    cpu_seconds: float  # this client's CPU time during the timed window
    warmup_requests: int
    presigned: int
    signed_inline: int


@dataclass(frozen=True, slots=True)
class LoadResult:
    name: str
    operation: str
    clients: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int
    error_samples: tuple[str, ...]
    server_cpu_ms_per_request: float | None
    server_cpu_utilisation: float | None  # CPU seconds per wall second (1.0 = one core busy)
    client_cpu_ms_per_request: float
    client_cpu_utilisation: float
    # Cores kept busy by anything else on the machine during the window (other users, the kernel).
    other_cores_busy: float | None
    warmup_requests: int
    presigned: int
    signed_inline: int


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


class ClientPool:
    """``clients`` long-lived client processes and a barrier they share with the coordinator."""

    def __init__(self, clients: int) -> None:
        if clients < 1:
            raise ValueError("at least one client")
        ctx = multiprocessing.get_context("spawn")
        self.clients = clients
        self._barrier = ctx.Barrier(clients + 1)
        self._pipes: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []
        for index in range(clients):
            ours, theirs = ctx.Pipe()
            process = ctx.Process(
                target=_client_main, args=(index, theirs, self._barrier), name=f"bench-client-{index}"
            )
            process.daemon = True
            process.start()
            theirs.close()
            self._pipes.append(ours)
            self._processes.append(process)

    def run(self, job: Job, cpu_probe: Callable[[], float | None], clients: int | None = None) -> LoadResult:
        """Run ``job`` on the first ``clients`` clients (default all); the others sit at the barrier."""
        active = self.clients if clients is None else clients
        for index, pipe in enumerate(self._pipes):
            pipe.send(job if index < active else _Idle())
        try:
            self._barrier.wait(timeout=_BARRIER_TIMEOUT_S)
        except threading.BrokenBarrierError:
            failures = [str(pipe.recv()) for pipe in self._pipes]
            raise RuntimeError(
                f"{job.name}: a client failed before the timed window:\n" + "\n".join(failures)
            ) from None
        cpu_before, machine_before = cpu_probe(), machine_cpu()
        replies = [pipe.recv() for pipe in self._pipes]
        cpu_after, machine_after = cpu_probe(), machine_cpu()
        failures = [reply for reply in replies if isinstance(reply, str)]
        if failures:
            raise RuntimeError(f"{job.name}: a client failed:\n" + "\n".join(failures))
        results = [reply for reply in replies if isinstance(reply, ClientResult)]
        server_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
        machine = None
        if machine_before is not None and machine_after is not None:
            busy, total = (
                after - before for after, before in zip(machine_after, machine_before, strict=True)
            )
            machine = busy / total * (os.cpu_count() or 1) if total > 0 else None
        return summarize(job, results, server_cpu, machine)

    def close(self) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
        for pipe in self._pipes:
            pipe.close()


def summarize(
    job: Job, results: list[ClientResult], server_cpu: float | None, machine_cores: float | None
) -> LoadResult:
    """``server_cpu``: the server's CPU seconds in the window; ``machine_cores``: cores busy machine-wide."""
    latencies: list[float] = []
    for result in results:
        values = array("d")
        values.frombytes(result.latencies)
        latencies.extend(values)
    latencies.sort()
    count = len(latencies)
    seconds = max(r.ended for r in results) - min(r.started for r in results)
    samples: list[str] = []
    for result in results:
        samples.extend(s for s in result.error_samples if s not in samples)
    client_cpu = sum(r.cpu_seconds for r in results)
    other = None
    if machine_cores is not None and server_cpu is not None and seconds > 0:
        other = max(0.0, machine_cores - (server_cpu + client_cpu) / seconds)
    return LoadResult(
        name=job.name,
        operation=job.operation,
        clients=len(results),
        requests=count,
        seconds=seconds,
        rps=count / seconds if seconds > 0 else math.nan,
        p50_ms=percentile(latencies, 50) * 1000,
        p90_ms=percentile(latencies, 90) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        mean_ms=(sum(latencies) / count * 1000) if count else math.nan,
        max_ms=(latencies[-1] * 1000) if count else math.nan,
        errors=sum(r.errors for r in results),
        error_samples=tuple(samples[:5]),
        server_cpu_ms_per_request=(server_cpu / count * 1000) if server_cpu is not None and count else None,
        server_cpu_utilisation=(server_cpu / seconds) if server_cpu is not None and seconds > 0 else None,
        client_cpu_ms_per_request=(client_cpu / count * 1000) if count else math.nan,
        client_cpu_utilisation=client_cpu / seconds if seconds > 0 else math.nan,
        other_cores_busy=other,
        warmup_requests=sum(r.warmup_requests for r in results),
        presigned=sum(r.presigned for r in results),
        signed_inline=sum(r.signed_inline for r in results),
    )


# --- inside a client process ---------------------------------------------------------------------


class _Idle:
    """Tells a client to sit this scenario out (it still meets the others at the barrier)."""


def _client_main(index: int, pipe: Connection, barrier: Barrier) -> None:
    while True:
        job = pipe.recv()
        if job is None:
            pipe.close()
            return
        if isinstance(job, _Idle):
            try:
                barrier.wait(timeout=_BARRIER_TIMEOUT_S)
            except threading.BrokenBarrierError:
                pipe.send("an idle client saw the barrier break")
                continue
            pipe.send(None)
            continue
        try:
            pipe.send(_run(index, job, barrier))
        except BaseException as error:
            barrier.abort()
            pipe.send(f"client {index}: {type(error).__name__}: {error}")


class _Requests:
    def __init__(self, index: int, job: Job) -> None:
        self._signer = Signer(job.access_key, job.secret, HOST, job.port)
        self._job = job
        self._index = index
        self._sequence = 0

    def sign(self) -> Prepared:
        params = self._job.params
        if self._job.unique_token_prefix is not None:
            self._sequence += 1
            token = f"{self._job.unique_token_prefix}-{self._index}-{self._sequence}"
            params = {**params, "UniqueRequestToken": token}
        return self._signer.prepare(self._job.operation, params)


def _send(conn: http.client.HTTPConnection, request: Prepared) -> tuple[int, bytes]:
    conn.request("POST", "/", body=request.body, headers=request.headers)
    response = conn.getresponse()
    return response.status, response.read()


def _attempt(conn: http.client.HTTPConnection, request: Prepared) -> str | None:
    """Send one request; None if it answered 200, else what went wrong."""
    try:
        status, body = _send(conn, request)
    except (OSError, http.client.HTTPException) as error:
        conn.close()  # http.client reconnects on the next request
        return f"{type(error).__name__}: {error}"
    if status != 200:
        return f"HTTP {status}: {body[:300].decode(errors='replace')}"
    return None


def _run(index: int, job: Job, barrier: Barrier) -> ClientResult:
    requests = _Requests(index, job)
    conn = http.client.HTTPConnection(HOST, job.port, timeout=60)
    errors = 0
    samples: list[str] = []

    def note(problem: str | None) -> None:
        nonlocal errors
        if problem is not None:
            errors += 1
            if len(samples) < 5:
                samples.append(problem)

    warm_start = time.monotonic()
    warm_end = warm_start + job.warmup_s
    halfway = warm_start + job.warmup_s / 2
    warmup = late = 0
    while (now := time.monotonic()) < warm_end:
        note(_attempt(conn, requests.sign()))
        warmup += 1
        late += now >= halfway
    # The second half of the warm-up gives the pace (a fresh server starts slow).
    pace = late / max(job.warmup_s / 2, 1e-9)
    errors, samples = 0, []  # errors in the warm-up are not the window's: start counting afresh
    unique = job.unique_token_prefix is not None
    # Three times that pace, and at least 1,000: signing ahead costs ~0.1 ms a request.
    wanted = max(math.ceil(pace * job.duration_s * 3), 1000) if unique else job.pool_size
    prepared = [requests.sign() for _ in range(wanted)]

    barrier.wait(timeout=_BARRIER_TIMEOUT_S)
    cpu_start = time.process_time()
    started = time.monotonic()
    deadline = started + job.duration_s
    latencies = array("d")
    inline = 0
    sent = 0
    clock = time.perf_counter
    while time.monotonic() < deadline:
        if sent < len(prepared):
            request = prepared[sent]
        elif unique:
            request = requests.sign()
            inline += 1
        else:
            request = prepared[sent % len(prepared)]
        sent += 1
        t0 = clock()
        problem = _attempt(conn, request)
        latencies.append(clock() - t0)
        note(problem)
    ended = time.monotonic()
    cpu = time.process_time() - cpu_start
    conn.close()
    return ClientResult(
        latencies=latencies.tobytes(),
        errors=errors,
        error_samples=tuple(samples),
        started=started,
        ended=ended,
        cpu_seconds=cpu,
        warmup_requests=warmup,
        presigned=len(prepared),
        signed_inline=inline,
    )
