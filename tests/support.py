"""Test helpers: a real server process on a free port, real boto3 clients, a real database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
from botocore.config import Config

from openturk.service.accounts import NewRequester
from openturk.service.services import Services, open_services
from openturk.settings import Settings

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mturk_client(url: str, key: str, secret: str, *, validate: bool = True) -> Any:
    return boto3.client(
        "mturk",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, parameter_validation=validate),
    )


@dataclass
class RunningServer:
    url: str
    db_url: str
    process: subprocess.Popen[str]
    services: Services
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def requester(self, name: str = "lab", balance_cents: int = 1_000_000) -> NewRequester:
        return self.services.accounts.create_requester(name, balance_cents=balance_cents)

    def client(self, who: NewRequester, *, validate: bool = True) -> Any:
        return mturk_client(self.url, who.access_key_id, who.secret_access_key, validate=validate)

    def text(self) -> str:
        return "".join(self.output)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.services.close()


def openturk_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "openturk", *args]


def start_server(db_url: str, *, env: dict[str, str] | None = None, timeout: float = 30.0) -> RunningServer:
    port = free_port()
    process = subprocess.Popen(
        openturk_argv("serve", "--port", str(port), "--db", db_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    output: list[str] = []
    assert process.stdout is not None
    stream = process.stdout
    reader = threading.Thread(target=lambda: output.extend(iter(stream.readline, "")), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{''.join(output)}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                services = open_services(Settings().with_db(db_url))
                return RunningServer(url, db_url, process, services, output, reader)
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"server did not become healthy in {timeout}s:\n{''.join(output)}")


def run_cli(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``env`` replaces the environment when given (as subprocess's own ``env``)."""
    result = subprocess.run(
        openturk_argv(*args), capture_output=True, text=True, timeout=60, check=False, env=env
    )
    if check and result.returncode != 0:
        raise AssertionError(f"openturk {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result
