"""``openturk serve``: uvicorn with uvloop and httptools in front of the Starlette app."""

from __future__ import annotations

import importlib.util
import sys

import uvicorn

from openturk.app import create_app
from openturk.money import formatted_price
from openturk.service.accounts import NewRequester
from openturk.service.services import open_services
from openturk.settings import Settings


def serve(settings: Settings, *, host: str, port: int, access_log: bool) -> int:
    services = open_services(settings)
    created = services.accounts.ensure_first_requester("default", settings.bootstrap_balance_cents)
    endpoint = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    if created is not None:
        print(welcome(created, endpoint), flush=True)
    print(f"OpenTurk serving the MTurk Requester API at {endpoint} (database {settings.db_url})", flush=True)
    fast = importlib.util.find_spec("uvloop") is not None and sys.platform != "win32"
    uvicorn.run(
        create_app(services),
        host=host,
        port=port,
        loop="uvloop" if fast else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        access_log=access_log,
        log_level="info",
        server_header=False,
    )
    return 0


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
