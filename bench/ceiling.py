"""The ceiling: the same stack as ``openturk serve`` with nothing behind it.

uvicorn with uvloop and httptools, Starlette, OpenTurk's own ``RequestIdMiddleware``; the handler reads
the body and answers a small JSON document (the shape of a GetAccountBalance answer) with the same
content type.  No signature check, no thread-pool hop, no database.  Run as its own process:
``python -m bench.ceiling --port N``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from openturk.app import RequestIdMiddleware

CONTENT_TYPE = "application/x-amz-json-1.1"
BODY = b'{"AvailableBalance":"10000.00","OnHoldBalance":"0.00"}'


def create_ceiling_app() -> ASGIApp:
    async def root(request: Request) -> Response:
        await request.body()
        return Response(BODY, media_type=CONTENT_TYPE)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[Route("/", root, methods=["GET", "POST"]), Route("/healthz", healthz, methods=["GET"])]
    )
    return RequestIdMiddleware(app)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    fast = importlib.util.find_spec("uvloop") is not None and sys.platform != "win32"
    # The same choices as openturk.server.serve.
    uvicorn.run(
        create_ceiling_app(),
        host=args.host,
        port=args.port,
        loop="uvloop" if fast else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        access_log=False,
        log_level="info",
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
