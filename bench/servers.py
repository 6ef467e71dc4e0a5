"""Server processes on free loopback ports: the ceiling app and real ``openturk serve`` processes."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process (all its threads) so far, from /proc; None where there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def child_pids(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def machine_cpu() -> tuple[int, int] | None:
    """(busy, total) clock ticks of the whole machine so far, from /proc/stat; None where there is none."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is already inside user)
    ticks = [int(value) for value in first[1:9]]
    total = sum(ticks)
    return total - ticks[3] - ticks[4], total


@dataclass
class ServerProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float | None:
        """The server's CPU: with ``--workers N``, its supervisor's and every worker's."""
        own = process_cpu_seconds(self.pid)
        if own is None:
            return None
        return own + sum(process_cpu_seconds(child) or 0.0 for child in child_pids(self.pid))

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _start(name: str, argv: list[str], log_path: Path, port: int, timeout: float = 30.0) -> ServerProcess:
    log = log_path.open("wb")
    try:
        # From the repository root, so ``-m bench.ceiling`` resolves wherever the bench was started.
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    finally:
        log.close()
    server = ServerProcess(name, port, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{server.log_tail()}")
        if _healthy(port):
            return server
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{name} did not become healthy in {timeout:g}s:\n{server.log_tail()}")


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=2.0)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def start_ceiling(workdir: Path) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "bench.ceiling", "--host", HOST, "--port", str(port)]
    return _start("ceiling", argv, workdir / "ceiling.log", port)


def start_openturk(db_url: str, workdir: Path, label: str, workers: int = 1) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "openturk", "serve", "--host", HOST, "--port", str(port), "--db", db_url]
    argv += ["--workers", str(workers)]
    return _start(f"openturk ({label})", argv, workdir / f"openturk-{label}.log", port)
