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
from starlette.requests import Request
from starlette.responses import Response

from openturk.errors import NotImplementedYetError, OpenTurkError, ProtocolError, ServiceFault
from openturk.protocol.handlers import HANDLERS, Call
from openturk.protocol.model import ShapeModel
from openturk.protocol.sigv4 import HttpRequest, SigV4Verifier
from openturk.service.services import Services

log = logging.getLogger("openturk.json_api")
CONTENT_TYPE = "application/x-amz-json-1.1"


class JsonApi:
    def __init__(self, services: Services, model: ShapeModel) -> None:
        self._services = services
        self._model = model
        self._verifier = SigV4Verifier(self._secret_for, max_skew=services.settings.signature_max_skew)
        self._inline_reads = services.db.is_sqlite

    async def __call__(self, request: Request) -> Response:
        request_id: str = request.state.request_id
        try:
            body = await request.body()
            http = HttpRequest(
                method=request.method,
                path=request.scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0],
                query=request.scope.get("query_string", b"").decode("latin-1"),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
                body=body,
            )
            target = request.headers.get("x-amz-target")
            if self._inline_reads and _is_read(target):
                # A read on SQLite is a few tens of microseconds of work on a local file: doing it here
                # costs less than the hop to a pool thread and back (and the GIL hand-offs it brings).
                # The price: a read that finds clock-driven work due settles it first, a short write
                # (and a wait for another process's write lock) during which this loop serves no one.
                result = self._handle(target, http, request_id)
            else:
                result = await run_in_threadpool(self._handle, target, http, request_id)
        except OpenTurkError as error:
            return error_response(error)
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            return error_response(ServiceFault("We encountered an unexpected error. Please try again."))
        return Response(_dumps(result), media_type=CONTENT_TYPE)

    def _handle(self, target: str | None, http: HttpRequest, request_id: str) -> dict[str, Any]:
        access_key = self._verifier.verify(http)  # AWS authenticates before it looks at the operation
        operation = self._model.operation_for_target(target)
        identity = self._services.accounts.authenticate(access_key)
        if identity is None:  # the key vanished between signature check and now
            raise ServiceFault("The credentials could not be loaded. Please try again.")
        params = self._model.parse_input(operation, http.body)
        handler = HANDLERS.get(operation)
        if handler is None:
            raise NotImplementedYetError(operation)
        result = handler(Call(self._services, identity[0], request_id), params)
        return self._model.serialize_output(operation, result)

    def _secret_for(self, access_key: str) -> str | None:
        identity = self._services.accounts.authenticate(access_key)
        return None if identity is None else identity[1]


def _is_read(target: str | None) -> bool:
    operation = (target or "").rpartition(".")[2]
    return operation.startswith(("Get", "List"))


def error_body(error: OpenTurkError) -> dict[str, str]:
    if isinstance(error, ProtocolError):
        return {"__type": error.wire_type, "message": error.message}
    message = f"{error.message} ({int(time.time() * 1000)})" if error.stamped else error.message
    return {"__type": error.wire_type, "Message": message, "TurkErrorCode": error.turk_code}


def error_response(error: OpenTurkError) -> Response:
    return Response(_dumps(error_body(error)), status_code=error.http_status, media_type=CONTENT_TYPE)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
