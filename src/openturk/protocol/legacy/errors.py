"""Every failure of a legacy request as the legacy service answered it, mapped here and nowhere else.

HTTP 200 with ``IsValid`` False and ``Errors/Error/Code``, ``Message`` and ``Data`` (only
AWS.ServiceUnavailable is a 503).  Refusals before any operation runs (authentication, an unknown
operation) sit inside ``OperationRequest`` with no result element; the rest inside the operation's result
element, under ``Request``.  MTurk's messages carry an epoch-millisecond stamp, written ``(1447745775170 s)``.
"""

from __future__ import annotations

import time

from openturk.errors import OpenTurkError, ProtocolError, ServiceFault
from openturk.protocol.legacy.xml import Xml, el, escape, text


def error_element(error: OpenTurkError) -> Xml:
    message = error.message
    if error.stamped and not isinstance(error, ProtocolError):
        message = f"{message} ({int(time.time() * 1000)} s)"
    data = [el("Data", text("Key", key), text("Value", value)) for key, value in error.data.items()]
    return el("Errors", el("Error", text("Code", error.legacy_code), text("Message", message), *data))


def error_body(root: str, result_element: str | None, request_id: str, error: OpenTurkError) -> bytes:
    errors = error_element(error)
    request = f"<RequestId>{escape(request_id)}</RequestId>"
    if result_element is None or isinstance(error, (ProtocolError, ServiceFault)):
        return f"<{root}><OperationRequest>{request}{errors}</OperationRequest></{root}>".encode()
    result = el(result_element, el("Request", "<IsValid>False</IsValid>", errors))
    return f"<{root}><OperationRequest>{request}</OperationRequest>{result}</{root}>".encode()


def error_status(error: OpenTurkError) -> int:
    return 503 if isinstance(error, ServiceFault) else 200
