"""Reading a request body for the APIs, with a cap: the largest legitimate request (CreateHIT with a
64 KB question, percent-encoded on the legacy API) is a few hundred kilobytes, so a body beyond
``MAX_BODY_BYTES`` is refused as soon as its Content-Length or its bytes say so, before any signature
is checked and without holding more of it in memory."""

from __future__ import annotations

from starlette.types import Receive, Scope

from openturk.errors import RequestTooLargeError

MAX_BODY_BYTES = 1 << 20


def _too_large() -> RequestTooLargeError:
    return RequestTooLargeError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")


async def read_body(scope: Scope, receive: Receive) -> bytes | None:
    """The whole body, or None if the client hung up first; RequestTooLargeError past the cap."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
