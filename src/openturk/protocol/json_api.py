"""The 2017-01-17 JSON API: ``X-Amz-Target`` dispatch, SigV4, shape validation, one service call.

Errors are mapped to bodies here and nowhere else: AWS-level ones as ``{"__type", "message"}``, MTurk's
``RequestError``/``ServiceFault`` as ``{"__type", "Message", "TurkErrorCode"}`` with MTurk's epoch-ms stamp.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from openturk.errors import NotImplementedYetError, OpenTurkError, ProtocolError, ServiceFault
from openturk.protocol.bodies import read_body
from openturk.protocol.handlers import HANDLERS, Call
from openturk.protocol.model import ShapeModel
from openturk.protocol.sigv4 import HttpRequest, SigV4Verifier
from openturk.service.services import Services
from openturk.storage.group_commit import DurabilityError

log = logging.getLogger("openturk.json_api")
CONTENT_TYPE = "application/x-amz-json-1.1"
_CONTENT_TYPE_HEADER = (b"content-type", CONTENT_TYPE.encode())
_UNEXPECTED = "We encountered an unexpected error. Please try again."


def is_json_api(scope: Scope) -> bool:
    """What boto3 sends: POST / with an X-Amz-Target header (everything else is the legacy API or a page)."""
    if scope["method"] != "POST" or scope["path"] != "/":
        return False
    return any(name.lower() == b"x-amz-target" for name, _value in scope["headers"])


class JsonApi:
    """A plain ASGI endpoint: boto3's requests are the server's hot path, so they are read and answered
    here directly rather than through a router, request object and response class."""

    def __init__(self, services: Services, model: ShapeModel) -> None:
        self._services = services
        self._model = model
        self._verifier = SigV4Verifier(
            services.accounts.authenticate, max_skew=services.settings.signature_max_skew
        )
        self._inline = services.db.is_sqlite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id: str = scope["state"]["request_id"]
        try:
            body = await read_body(scope, receive)
            if body is None:
                return  # the client hung up before sending its request: nobody to answer
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
            http = HttpRequest(
                method=scope["method"],
                path=scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0],
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=body,
            )
            target = next((v for k, v in headers if k.lower() == "x-amz-target"), None)
            if self._inline:
                result = await self._handle_inline(target, http, request_id)
            else:
                result = await run_in_threadpool(self._handle, target, http, request_id)
        except OpenTurkError as error:
            status, content = error.http_status, _dumps(error_body(error))
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            fault = ServiceFault(_UNEXPECTED)
            status, content = fault.http_status, _dumps(error_body(fault))
        else:
            status, content = 200, _dumps(result)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", str(len(content)).encode()), _CONTENT_TYPE_HEADER],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def _handle_inline(self, target: str | None, http: HttpRequest, request_id: str) -> dict[str, Any]:
        """On SQLite the call runs on the event loop itself: its statements take microseconds on a local
        file, less than the hand-off to a pool thread and back and the GIL contention that brings.
        Commits do not wait for the disk here (the loop would stall on every fsync); the answer waits
        for the group sync that covers them instead (storage/group_commit.py).  The price: while one
        call runs (including waiting for another process's write lock) this process serves no one."""
        db = self._services.db
        with db.deferred_sync() as deferred:
            try:
                return self._handle(target, http, request_id)
            finally:
                try:
                    await db.durable(deferred)  # an error answer, too, is sent only after its commits
                except DurabilityError:
                    log.exception("request %s: its commits may not be on disk", request_id)
                    raise ServiceFault(_UNEXPECTED) from None

    def _handle(self, target: str | None, http: HttpRequest, request_id: str) -> dict[str, Any]:
        identity = self._verifier.verify(http)  # AWS authenticates before it looks at the operation
        operation = self._model.operation_for_target(target)
        params = self._model.parse_input(operation, http.body)
        handler = HANDLERS.get(operation)
        if handler is None:
            raise NotImplementedYetError(operation)
        result = handler(Call(self._services, identity.requester_id, request_id), params)
        return self._model.serialize_output(operation, result)


def error_body(error: OpenTurkError) -> dict[str, str]:
    if isinstance(error, ProtocolError):
        return {"__type": error.wire_type, "message": error.message}
    message = f"{error.message} ({int(time.time() * 1000)})" if error.stamped else error.message
    return {"__type": error.wire_type, "Message": message, "TurkErrorCode": error.turk_code}


def error_response(error: OpenTurkError) -> Response:
    return Response(_dumps(error_body(error)), status_code=error.http_status, media_type=CONTENT_TYPE)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
