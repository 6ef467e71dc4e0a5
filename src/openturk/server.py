"""``openturk serve``: uvicorn with uvloop and httptools in front of the Starlette app.

With ``--workers N`` (N > 1) uvicorn's supervisor binds the port once and runs N worker processes that
share it (the kernel spreads connections between them), restarting any that dies.  The schema upgrade
and the first-run bootstrap (the first requester and its banner) happen once, here, before any worker
starts; each worker then only opens the database (already at head) and serves.  Every process is
stateless: all shared state, the marketplace clock included, is in the database, so the same holds for
several ``openturk serve`` on several machines behind a load balancer.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from openturk.app import create_app
from openturk.money import formatted_price
from openturk.service.accounts import NewRequester
from openturk.service.services import open_services
from openturk.settings import WORKER_SIGN_IN_ENV, Settings

# How the supervisor tells its workers which database to open (they re-read the rest of the settings,
# the fee rates, from the same inherited environment).
_WORKER_DB_ENV = "OPENTURK_DB"


def serve(settings: Settings, *, host: str, port: int, access_log: bool, workers: int = 1) -> int:
    if workers < 1:
        print("openturk: --workers must be at least 1", file=sys.stderr)
        return 2
    settings = settings.serving_on(host)
    # The worker processes of --workers N read their settings from the environment they inherit.
    os.environ[WORKER_SIGN_IN_ENV] = "required" if settings.worker_sign_in else "off"
    services = open_services(settings)
    created = services.accounts.ensure_first_requester("default", settings.bootstrap_balance_cents)
    endpoint = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    if created is not None:
        print(welcome(created, endpoint), flush=True)
    processes = f", {workers} worker processes" if workers > 1 else ""
    print(
        f"OpenTurk serving the MTurk Requester API at {endpoint} (database {settings.db_url}{processes})",
        flush=True,
    )
    if settings.worker_sign_in:
        print(
            "Worker pages require a sign-in: `openturk worker sign-in-link WORKER_ID` gives a worker theirs.",
            flush=True,
        )
    fast = importlib.util.find_spec("uvloop") is not None and sys.platform != "win32"
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": "uvloop" if fast else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "access_log": access_log,
        "log_level": "info",
        "server_header": False,
        # uvicorn's default 5 s drops idle keep-alive connections under clients that wait longer between
        # calls (the JavaScript SDK then sees "socket hang up"); AWS endpoints keep them far longer.
        "timeout_keep_alive": 75,
    }
    if workers == 1:
        uvicorn.run(create_app(services), **options)
        return 0
    services.close()  # the workers open their own connections
    os.environ[_WORKER_DB_ENV] = settings.db_url
    uvicorn.run("openturk.server:worker_app", factory=True, workers=workers, **options)
    return 0


def worker_app() -> ASGIApp:
    """One worker process of ``serve --workers N``: the schema is at head and bootstrap is done."""
    return create_app(open_services(Settings.from_env()))


def welcome(created: NewRequester, endpoint: str) -> str:
    """The first-run banner: the only time this requester's secret is ever shown."""
    return f"""
No requester existed, so OpenTurk created one with {formatted_price(created.balance_cents)}.
Its secret is shown only now; keep it (more requesters: `openturk requester create NAME`).

  AWS_ACCESS_KEY_ID={created.access_key_id}
  AWS_SECRET_ACCESS_KEY={created.secret_access_key}

Paste into Python:

import boto3
mturk = boto3.client(
    "mturk",
    endpoint_url="{endpoint}",
    region_name="us-east-1",
    aws_access_key_id="{created.access_key_id}",
    aws_secret_access_key="{created.secret_access_key}",
)
print(mturk.get_account_balance())
"""
