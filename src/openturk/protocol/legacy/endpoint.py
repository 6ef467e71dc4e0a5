"""The legacy query/XML API's front door: collect the parameters, authenticate, parse, one service call,
compact XML.  Every failure becomes a legacy error body here (``legacy.errors``), never a 500."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openturk.errors import OpenTurkError, ParameterError, ServiceFault, UnknownOperationError
from openturk.protocol.bodies import read_body
from openturk.protocol.legacy import (
    operations_assignments,
    operations_hits,
    operations_money,
    operations_qualifications,
    operations_reviews,
    operations_statistics,
    operations_workers,
)
from openturk.protocol.legacy.base import Context, Operation
from openturk.protocol.legacy.errors import error_body, error_status
from openturk.protocol.legacy.params import Params, decode_pairs
from openturk.protocol.legacy.signature import SERVICE, LegacyVerifier
from openturk.protocol.legacy.xml import request_valid, response
from openturk.service.services import Services

log = logging.getLogger("openturk.legacy_api")
MEDIA_TYPE = "text/xml"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")

OPERATIONS: Mapping[str, Operation] = {
    **operations_money.OPERATIONS,
    **operations_hits.OPERATIONS,
    **operations_assignments.OPERATIONS,
    **operations_qualifications.OPERATIONS,
    **operations_workers.OPERATIONS,
    **operations_reviews.OPERATIONS,
    **operations_statistics.OPERATIONS,
}


def collect_params(query: str, body: bytes, content_type: str) -> dict[str, str]:
    """The query string's parameters and a form body's; a name given twice is refused, because a
    signature covers one value per name."""
    pairs = decode_pairs(query)
    if body:
        if content_type and "application/x-www-form-urlencoded" not in content_type.lower():
            raise ParameterError(
                f"A legacy request body must be application/x-www-form-urlencoded, not {content_type}."
            )
        try:
            pairs += decode_pairs(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise ParameterError("The request body is not valid UTF-8.") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:  # no MTurk value holds one, and PostgreSQL cannot store one
            shown = name.replace("\x00", "\\0")
            raise ParameterError(
                f"The parameter {shown} contains the character U+0000, which is not allowed.",
                data={"Parameter": shown},
            )
        if name in params:
            raise ParameterError(f"The parameter {name} appears more than once.", data={"Parameter": name})
        params[name] = value
    return params


class LegacyApi:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._verifier = LegacyVerifier(
            services.accounts.authenticate, window=services.settings.legacy_timestamp_window
        )

    async def __call__(self, request: Request) -> Response:
        request_id: str = request.state.request_id
        try:
            body = await read_body(request.scope, request.receive)
            if body is None:
                return Response(status_code=400)  # the client hung up: nobody reads this
            params = collect_params(
                request.scope.get("query_string", b"").decode("latin-1"),
                body,
                request.headers.get("content-type", ""),
            )
        except OpenTurkError as error:
            return Response(error_body("Response", None, request_id, error), 200, media_type=MEDIA_TYPE)
        status, content = await run_in_threadpool(self._handle, params, request_id)
        return Response(content, status, media_type=MEDIA_TYPE)

    def _handle(self, params: dict[str, str], request_id: str) -> tuple[int, bytes]:
        name = params.get("Operation", "")
        root = f"{name}Response" if _NAME.fullmatch(name) else "Response"
        operation = OPERATIONS.get(name)
        result_element = operation.result_element if operation is not None else None
        try:
            return 200, self._run(operation, name, params, request_id, root)
        except OpenTurkError as error:
            return error_status(error), error_body(root, result_element, request_id, error)
        except Exception:
            log.exception("unhandled error in legacy request %s", request_id)
            fault = ServiceFault("We encountered an unexpected error. Please try again.")
            return error_status(fault), error_body(root, result_element, request_id, fault)

    def _run(
        self, operation: Operation | None, name: str, params: dict[str, str], request_id: str, root: str
    ) -> bytes:
        service = params.get("Service")
        if service is not None and service != SERVICE:
            raise UnknownOperationError(
                f"The service {service} is not offered here; use Service={SERVICE}.",
                data={"Service": service},
            )
        identity = self._verifier.verify(params)  # authentication comes before the operation
        if operation is None:
            shown = name or "(none)"
            raise UnknownOperationError(
                f"The operation {shown} is not supported by OpenTurk's legacy API. Supported operations: "
                f"{', '.join(sorted(OPERATIONS))}.",
                data={"Operation": shown},
            )
        parsed = Params(params)
        runner = operation.parse(parsed)
        groups = frozenset(parsed.indexed("ResponseGroup"))
        children = ""
        if not parsed.boolean("Validate"):
            children = runner(Context(self._services, identity.requester_id, request_id, groups))
        element = operation.result_element
        return response(root, request_id, f"<{element}>{request_valid()}{children}</{element}>")
