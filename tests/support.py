"""Test helpers: a real server process on a free port, real boto3 clients, a real database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openturk.service.accounts import NewRequester
from openturk.service.services import Services, open_services
from openturk.settings import Settings

REGION = "us-east-1"
TARGET = "MTurkRequesterServiceV20170117."
PG_URL_ENV = "OPENTURK_TEST_DB_URL"

# One HTTP client for the tests' own requests: each of httpx's one-shot functions (httpx.get, ...) makes
# a client, and with it an SSL context (~30 ms of loading certificates), even for plain http.
HTTP = httpx.Client(timeout=30)


def on_postgres() -> bool:
    """True on the PostgreSQL run of the suite (``make test`` sets OPENTURK_TEST_DB_URL for it)."""
    return bool(os.environ.get(PG_URL_ENV))


testing_postgres = on_postgres  # the same question (a name pytest would collect if imported into a test)


class PgDatabases:
    """Fresh PostgreSQL databases for tests, each a copy of one migrated template (fast and isolated)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.engine = create_engine(
            self.admin_url.set(drivername="postgresql+psycopg"),
            isolation_level="AUTOCOMMIT",
            pool_pre_ping=True,  # a test may restart the cluster
        )
        self.prefix = f"ot_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_template"
        self._template_ready = False

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def _template_url(self) -> str:
        if not self._template_ready:
            with self.engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
            services = open_services(Settings().with_db(self.url(self.template)))  # runs the migrations
            services.close()
            self._template_ready = True
        return self.template

    def create(self) -> str:
        """A new database at the newest schema, with nothing in it but what the migrations put there."""
        template = self._template_url()
        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return self.url(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        assert name is not None, url
        assert name.startswith(self.prefix), url
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@cache
def pg_databases() -> PgDatabases:
    url = os.environ.get(PG_URL_ENV)
    assert url, f"{PG_URL_ENV} is not set"
    return PgDatabases(url)


def fresh_db_url(folder: Path) -> str:
    """An empty database for one test: a SQLite file in ``folder``, or a PostgreSQL database."""
    if on_postgres():
        return pg_databases().create()
    return f"sqlite:///{folder / 'openturk.sqlite3'}"


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


def signed_post(server: RunningServer, who: NewRequester, target: str | None, body: bytes) -> httpx.Response:
    """A JSON API request as boto3 would sign it, with any body and X-Amz-Target (None: no header)."""
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=server.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(who.access_key_id, who.secret_access_key), "mturk-requester", REGION).add_auth(
        request
    )
    return HTTP.post(server.url + "/", content=body, headers=dict(request.headers.items()))


def openturk_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "openturk", *args]


def start_server(
    db_url: str, *, env: dict[str, str] | None = None, args: tuple[str, ...] = (), timeout: float = 30.0
) -> RunningServer:
    port = free_port()
    process = subprocess.Popen(
        openturk_argv("serve", "--port", str(port), "--db", db_url, *args),
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
    if wait_until_healthy(url, timeout, process):
        services = open_services(Settings().with_db(db_url))
        return RunningServer(url, db_url, process, services, output, reader)
    if process.poll() is None:
        process.kill()
    process.wait()
    reader.join(timeout=10)
    stream.close()
    raise RuntimeError(
        f"server did not become healthy in {timeout}s (exit {process.returncode}):\n{''.join(output)}"
    )


def wait_until_healthy(url: str, timeout: float, process: subprocess.Popen[Any] | None = None) -> bool:
    """True once ``url``/healthz answers 200; False at the deadline or as soon as ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return False


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
