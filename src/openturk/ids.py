"""MTurk-shaped identifiers.

Real HIT and assignment ids are 30 upper-case alphanumerics, worker ids an ``A`` and 12-13 more; clients
build idempotency tokens like ``<workerId>_<assignmentId>`` that must fit in 64 characters, so the lengths
matter.  Ids come from ``secrets`` so they cannot be guessed across requesters.
"""

from __future__ import annotations

import secrets
import string
import uuid

_ALPHABET = string.ascii_uppercase + string.digits


def _random(length: int, alphabet: str = _ALPHABET) -> str:
    # Random bytes mapped onto the alphabet, dropping the few byte values above the largest multiple of
    # its size so that every character stays equally likely (as with ``secrets.choice`` per character,
    # at a fraction of its cost: an id is made on every bonus and every request).
    base = len(alphabet)
    limit = 256 - 256 % base
    chars: list[str] = []
    while len(chars) < length:
        chars += [alphabet[byte % base] for byte in secrets.token_bytes(length + 8) if byte < limit]
    return "".join(chars[:length])


def entity_id() -> str:
    """A HIT, HIT type or assignment id: 30 characters of [A-Z0-9]."""
    return _random(30)


def worker_id() -> str:
    """``A`` plus 13 characters, matching the model's CustomerId pattern ^A[A-Z0-9]+$."""
    return "A" + _random(13)


def access_key_id() -> str:
    """20 characters starting ``AKIA`` like an AWS access key, so tools that sniff the prefix are happy."""
    return "AKIA" + _random(16)


def secret_access_key() -> str:
    """40 characters from the alphabet AWS secrets use."""
    return _random(40, string.ascii_letters + string.digits + "+/")


def request_id() -> str:
    """The per-request id sent back as ``x-amzn-RequestId``."""
    return str(uuid.uuid4())
