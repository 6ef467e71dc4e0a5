"""The legacy query/XML API's front door until it is built: a clear legacy error, never a 500."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response


def legacy_endpoint() -> Callable[[Request], Awaitable[Response]]:
    async def legacy(request: Request) -> Response:
        request_id = escape(request.state.request_id)
        body = (
            '<?xml version="1.0"?>\n<Response><Errors><Error><Code>AWS.InvalidOperation</Code>'
            "<Message>The legacy query/XML API is not implemented yet by OpenTurk; use the 2017-01-17 "
            "JSON API (boto3, AWS CLI).</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return Response(body, media_type="text/xml")

    return legacy
