"""Legacy request authentication: HMAC-SHA1 signatures and the Timestamp window.

Two forms verify, as on MTurk:
- the documented one, ``Base64(HMAC-SHA1(secret, Service + Operation + Timestamp))``;
- ``SignatureVersion=1`` (boto 2 and other SDKs, often without a Service parameter): HMAC-SHA1 over
  every parameter but Signature, names sorted case-insensitively, each name then its raw value.
The Timestamp is verified exactly as sent (with or without offset or fraction) and must lie within
the window of the server's wall clock, as ``sigv4`` checks X-Amz-Date; comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Generic

from openturk.errors import (
    BadTimestampError,
    IncompleteSignatureError,
    InvalidSignatureError,
    SignatureExpiredError,
    UnrecognizedClientError,
)
from openturk.protocol.sigv4 import K

SERVICE = "AWSMechanicalTurkRequester"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method."
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def documented_signature(secret: str, service: str, operation: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{service}{operation}{timestamp}".encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def version1_signature(secret: str, params: Mapping[str, str]) -> str:
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    for name in sorted((k for k in params if k != "Signature"), key=lambda k: (k.lower(), k)):
        mac.update(name.encode())
        mac.update(params[name].encode())
    return base64.b64encode(mac.digest()).decode()


def parse_timestamp(raw: str) -> datetime:
    """ISO 8601: ``2005-01-31T23:59:59Z``, with milliseconds, with an offset like ``-07:00``; a time
    without a zone is UTC."""
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" and text else text)
        # OverflowError: an offset that moves a time at either end of year 1 to 9999 out of range.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadTimestampError(
            f"Timestamp {raw} is not a valid ISO 8601 time such as 2005-01-31T23:59:59Z."
        ) from None


class LegacyVerifier(Generic[K]):
    """``key_for`` looks up an access key id: its holder (with the secret to verify against), or None."""

    def __init__(
        self,
        key_for: Callable[[str], K | None],
        *,
        window: timedelta = timedelta(minutes=15),
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._key_for = key_for
        self._window = window
        self._now = now

    def verify(self, params: Mapping[str, str]) -> K:
        """Return the key's holder for a correctly signed, current request, else raise."""
        access_key = params.get("AWSAccessKeyId", "")
        signature = params.get("Signature", "")
        if not access_key:
            raise UnrecognizedClientError("Your request is missing the AWSAccessKeyId parameter.")
        if not signature:
            raise IncompleteSignatureError("Your request is missing the Signature parameter.")
        raw_timestamp = params.get("Timestamp")
        if not raw_timestamp:
            raise BadTimestampError("Your request is missing the Timestamp parameter.")
        moment = parse_timestamp(raw_timestamp)
        holder = self._key_for(access_key)
        if holder is None:
            raise UnrecognizedClientError(
                f"The AWS Access Key Id {access_key} you provided does not exist in our records."
            )
        secret = holder.secret_access_key
        version = params.get("SignatureVersion", "0")
        if version == "1":
            expected = version1_signature(secret, params)
        elif version == "0":
            service = params.get("Service", SERVICE)
            expected = documented_signature(secret, service, params.get("Operation", ""), raw_timestamp)
        else:
            raise InvalidSignatureError(
                f"SignatureVersion {version} is not supported; use SignatureVersion 1 or the documented "
                "HMAC-SHA1 of Service, Operation and Timestamp."
            )
        # A '+' sent unencoded in a query string arrives as a space.
        given = signature.replace(" ", "+")
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise InvalidSignatureError(MISMATCH)
        self._check_window(moment, raw_timestamp)
        return holder

    def _check_window(self, moment: datetime, raw: str) -> None:
        now = self._now()
        if abs(now - moment) > self._window:
            minutes = f"{self._window.total_seconds() / 60:g}"
            raise SignatureExpiredError(
                f"Timestamp {raw} must be within {minutes} minutes of the current time "
                f"({now.strftime('%Y-%m-%dT%H:%M:%SZ')})."
            )
