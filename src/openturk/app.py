"""Builds the ASGI application: settings -> storage -> services -> protocol and web."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openturk import ids
from openturk.errors import UnknownOperationError
from openturk.protocol.json_api import JsonApi, error_response, is_json_api
from openturk.protocol.legacy import LegacyApi
from openturk.protocol.model import load_model
from openturk.service.notifications_delivery import DeliveryConfig, DeliveryLoop
from openturk.service.services import Services
from openturk.web.file_downloads import BaseUrlMiddleware, file_routes
from openturk.web.health import healthz_endpoint
from openturk.web.market_pages import market_routes
from openturk.web.sign_in_pages import sign_in_routes
from openturk.web.worker_pages import message_page, worker_routes


class RequestIdMiddleware:
    """Gives every request an id, visible to handlers and sent back as ``x-amzn-RequestId``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ids.request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-amzn-RequestId", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_id)


def _no_page(request: Request) -> str:
    return f"There is no page for {request.method} {request.url.path}."


def create_app(services: Services) -> ASGIApp:
    json_api = JsonApi(services, load_model())
    legacy = LegacyApi(services)

    async def root(request: Request) -> Response:
        if (
            request.method == "HEAD"
        ):  # Starlette routes HEAD to GET; a GetAccountBalance may, a GrantBonus not
            return Response(status_code=405, headers={"Allow": "GET, POST"})
        return await legacy(request)  # boto3's JSON requests never get here (see JsonApiFirst)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if request.url.path.startswith("/mturk/"):  # a worker's browser: a page, not an API error
            page = message_page("Not found" if status == 404 else "Not allowed", _no_page(request), status)
            if isinstance(exc, HTTPException) and exc.headers:
                page.headers.update(exc.headers)  # a 405's Allow
            return page
        error = UnknownOperationError(f"No API at {request.method} {request.url.path}")
        error.http_status = status
        return error_response(error)

    # Notifications leave the event outbox from a background thread of every server process.
    delivery = DeliveryLoop(services.db, DeliveryConfig.from_env())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        delivery.start()
        yield
        delivery.stop()
        services.close()

    app = Starlette(
        routes=[
            Route("/", root, methods=["GET", "POST"]),
            Route("/healthz", healthz_endpoint(services.db), methods=["GET"]),
            *worker_routes(services.workers),
            *market_routes(services),
            *sign_in_routes(services),
            *file_routes(services),
        ],
        exception_handlers={HTTPException: not_found},
        lifespan=lifespan,
    )
    return RequestIdMiddleware(BaseUrlMiddleware(JsonApiFirst(json_api, app)))


class JsonApiFirst:
    """Hands the JSON API's requests to it directly, everything else to the Starlette application."""

    def __init__(self, json_api: ASGIApp, app: ASGIApp) -> None:
        self.json_api = json_api
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_json_api(scope):
            await self.json_api(scope, receive, send)
        else:
            await self.app(scope, receive, send)
