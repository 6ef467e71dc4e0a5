"""GET /healthz: 200 when the database answers, 503 when it does not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from openturk.storage.db import Database


def healthz_endpoint(db: Database) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def healthz(request: Request) -> JSONResponse:
        if await run_in_threadpool(db.ping):
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unreachable"}, status_code=503)

    return healthz
