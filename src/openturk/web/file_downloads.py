"""``GET /mturk/files/<key>?requester=..&expires=..&signature=..``: the temporary URL of an uploaded file
(GetFileUploadURL), and the middleware that lets that operation name this server as the client
reached it."""

from __future__ import annotations

from contextvars import ContextVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from openturk.service.file_uploads import DOWNLOAD_PATH, Download, FileDownloadError
from openturk.service.services import Services
from openturk.settings import public_url

_DEFAULT_BASE_URL = "http://127.0.0.1:8000"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCOPE: ContextVar[Scope | None] = ContextVar("openturk_request_scope", default=None)


def base_url() -> str:
    """This server's address as the current request reached it (for URLs handed to clients), unless
    OPENTURK_PUBLIC_URL says otherwise."""
    configured = public_url()
    scope = _SCOPE.get()
    if configured is not None or scope is None:
        return configured or _DEFAULT_BASE_URL
    url = Request(scope).base_url
    server = scope.get("server")
    # boto 2 sends its Host header without the port it connected to; a URL on the scheme's default port
    # would not reach this server.  (A proxy forwarding such a Host needs OPENTURK_PUBLIC_URL.)
    if url.port is None and server and server[1] != _DEFAULT_PORTS.get(url.scheme):
        url = url.replace(port=server[1])
    return str(url).rstrip("/")


class BaseUrlMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = _SCOPE.set(scope)  # the URL is worked out only by the few requests that need it
            try:
                await self.app(scope, receive, send)
            finally:
                _SCOPE.reset(token)
            return
        await self.app(scope, receive, send)


def _filename(download: Download) -> str:
    name = (download.filename or "upload").replace("\\", "_").replace('"', "_").replace("/", "_")
    return "".join(c if 32 <= ord(c) < 127 else "_" for c in name) or "upload"


def file_routes(services: Services) -> list[Route]:
    files = services.files

    async def download(request: Request) -> Response:
        params = request.query_params
        try:
            found: Download = await run_in_threadpool(
                files.download,
                request.path_params["file_id"],
                params.get("requester", ""),
                params.get("expires", ""),
                params.get("signature", ""),
            )
        except FileDownloadError as error:
            return PlainTextResponse(
                error.message, status_code=error.status, headers={"Cache-Control": "no-store"}
            )
        headers = {
            "Content-Disposition": f'attachment; filename="{_filename(found)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        # Served as opaque bytes: a worker's upload never runs as a page on this origin.
        return Response(found.content, media_type="application/octet-stream", headers=headers)

    return [Route(DOWNLOAD_PATH + "/{file_id}", download, methods=["GET"])]
