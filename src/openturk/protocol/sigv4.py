"""Server-side AWS Signature Version 4 verification (the ``Authorization`` header form).

botocore's own signer rebuilds the canonical request, the string to sign and the signature; this module
feeds it the request exactly as it arrived (see ``_ReceivedRequestAuth``) and decides what to accept.
Every refusal is one of the AWS-level errors in ``openturk.errors``, worded as AWS JSON services word it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote, unquote_to_bytes

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from openturk.errors import (
    IncompleteSignatureError,
    InvalidSignatureError,
    MissingAuthenticationTokenError,
    SignatureExpiredError,
    UnrecognizedClientError,
)

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
CONTENT_SHA256_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed."
_BASIC_ISO8601 = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_PARAM_SEPARATORS = re.compile(r"[,\s]+")


class SigningKey(Protocol):
    """What a verifier needs of whoever holds an access key (``AccountService.authenticate``'s answer)."""

    @property
    def secret_access_key(self) -> str: ...


K = TypeVar("K", bound=SigningKey)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str  # "POST"
    path: str  # raw path as received on the wire, e.g. "/"
    query: str  # raw query string without "?", "" if none
    headers: Sequence[tuple[str, str]]  # as received; names in any case; a name may repeat
    body: bytes


@functools.lru_cache(maxsize=1024)
def _signing_key(access_key: str, secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning for one (key, secret, day, region, service); the secret is part of the cache key, so a
    rotated or wrong secret never meets a key derived from another one. ``access_key`` only keys the cache."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class _ReceivedRequestAuth(SigV4Auth):  # type: ignore[misc]  # botocore is untyped
    """botocore's SigV4 signer, pointed at a request as received rather than one about to be sent.

    Left alone, botocore picks the headers itself (all but a blacklist: user-agent, expect,
    x-amzn-trace-id...; plus a Host made up from the URL) and may hash 'UNSIGNED-PAYLOAD'. A verifier
    must use exactly the headers the client named in SignedHeaders, as received, and the body received.
    """

    def __init__(self, credentials: Any, service: str, region: str, headers: Any, body: bytes) -> None:
        super().__init__(credentials, service, region)
        self._received_headers = headers
        self._body = body

    def headers_to_sign(self, request: Any) -> Any:
        return self._received_headers

    def payload(self, request: Any) -> str:
        # botocore itself prefers a (signed, hence present) X-Amz-Content-SHA256 over this.
        return hashlib.sha256(self._body).hexdigest()

    def signature(self, string_to_sign: str, request: Any) -> str:
        key = _signing_key(
            self.credentials.access_key,
            self.credentials.secret_key,
            request.context["timestamp"][:8],
            self._region_name,
            self._service_name,
        )
        return str(self._sign(key, string_to_sign, hex=True))


class _ReceivedHeaders:
    """The signed headers as received, in the shape botocore's signer reads (its ``HTTPHeaders`` is an
    ``email.message.Message``, several times dearer to fill and read): names case-insensitive, a
    repeated name keeps every value in order."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[str, list[str]] = {}

    def add(self, lower_name: str, value: str) -> None:
        self._values.setdefault(lower_name, []).append(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()][0]

    def get_all(self, name: str, failobj: Any = None) -> list[str] | Any:
        return self._values.get(name.lower(), failobj)


def _canonical_query(query: str) -> str:
    """Each name and value percent-encoded the one canonical way (wire encoding undone, then RFC 3986
    unreserved kept); botocore sorts the pairs. Bytes-level, so '%FF' survives as '%FF'."""
    pairs = (pair.partition("=") for pair in query.split("&") if pair)
    return "&".join(f"{_percent(name)}={_percent(value)}" for name, _, value in pairs)


def _percent(part: str) -> str:
    return quote(unquote_to_bytes(part), safe="-_.~")


def _botocore_view(
    request: HttpRequest, signed_headers: Sequence[str], *, region: str, service: str, credentials: Any
) -> tuple[_ReceivedRequestAuth, Any]:
    wanted = {name.lower() for name in signed_headers}
    headers = _ReceivedHeaders()
    for name, value in request.headers:
        if (lower := name.lower()) in wanted:
            headers.add(lower, value)
    path = request.path if request.path.startswith("/") else f"/{request.path}"
    query = _canonical_query(request.query)
    aws = AWSRequest(
        method=request.method, url=f"http://openturk.invalid{path}" + (f"?{query}" if query else "")
    )
    aws.headers = headers  # botocore reads X-Amz-Content-SHA256 from here: present only if signed
    return _ReceivedRequestAuth(credentials, service, region, headers, request.body), aws


def canonical_request(request: HttpRequest, signed_headers: Sequence[str]) -> str:
    """The canonical request over ``signed_headers`` (names in any case) as received."""
    signer, aws = _botocore_view(request, signed_headers, region="", service="", credentials=None)
    return str(signer.canonical_request(aws))


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    """``scope`` is the credential scope without the key: ``<yyyymmdd>/<region>/<service>/aws4_request``."""
    date, region, service, _ = scope.split("/")
    if date != amz_date[:8]:
        raise ValueError(f"scope date {date!r} is not the date of {amz_date!r}")
    aws = AWSRequest()
    aws.context["timestamp"] = amz_date
    return str(SigV4Auth(None, service, region).string_to_sign(aws, canonical))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime(SIGV4_TIMESTAMP)


def _parse_authorization(value: str, has_date: bool) -> dict[str, str]:
    algorithm, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    if algorithm == ALGORITHM:
        for token in filter(None, _PARAM_SEPARATORS.split(rest)):
            name, equals, param = token.partition("=")
            if not equals:
                raise IncompleteSignatureError(
                    f"'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: "
                    f"'{value}'."
                )
            if name in params:  # AWS's wording for this is unknown; ambiguity is refused all the same
                raise IncompleteSignatureError(
                    f"Authorization header repeats the '{name}' parameter. Authorization={value}"
                )
            params[name] = param
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if not has_date:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise IncompleteSignatureError(" ".join([*missing, f"Authorization={value}"]))
    return params


def _request_time(amz_dates: list[str], dates: list[str]) -> tuple[datetime, str]:
    """The signing time and its basic ISO 8601 form: X-Amz-Date if present, else Date (RFC 1123)."""
    if amz_dates:
        raw = ",".join(amz_dates).strip()
        if _BASIC_ISO8601.fullmatch(raw):
            try:
                # Sliced by hand (the pattern fixed the layout): strptime costs more than the rest of this.
                year, month, day = int(raw[0:4]), int(raw[4:6]), int(raw[6:8])
                hour, minute, second = int(raw[9:11]), int(raw[11:13]), int(raw[13:15])
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC), raw
            except ValueError:
                pass
        raise IncompleteSignatureError(
            f"Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )
    raw = ",".join(dates).strip()
    try:
        parsed = parsedate_to_datetime(raw)
        moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        return moment, _stamp(moment)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise IncompleteSignatureError(f"Date must be in RFC 1123 format. Got '{raw}'.") from None


def _utf8_safe(texts: Sequence[str]) -> bool:
    try:
        for text in texts:
            text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class SigV4Verifier(Generic[K]):
    """``key_for`` looks up an access key id: its holder (with the secret to verify against), or None."""

    def __init__(
        self,
        key_for: Callable[[str], K | None],
        *,
        service: str = "mturk-requester",
        region: str = "us-east-1",
        max_skew: timedelta = timedelta(minutes=5),
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._key_for = key_for
        self._service = service
        self._region = region
        self._max_skew = max_skew
        self._now = now

    def verify(self, request: HttpRequest) -> K:
        """Return the key's holder for a correctly signed request, else raise one of the errors."""
        headers = [(name.lower(), value) for name, value in request.headers]
        authorization = [value for name, value in headers if name == "authorization"]
        if not authorization:
            raise MissingAuthenticationTokenError()
        texts = [request.method, request.path, request.query, *(part for pair in headers for part in pair)]
        if not _utf8_safe(texts):  # nothing a client could have signed; only reachable by garbage
            raise InvalidSignatureError(MISMATCH)
        amz_dates = [value for name, value in headers if name == "x-amz-date"]
        dates = [value for name, value in headers if name == "date"]
        params = _parse_authorization(",".join(authorization), bool(amz_dates or dates))
        moment, amz_date = _request_time(amz_dates, dates)

        credential = params["Credential"]
        parts = credential.split("/")
        if len(parts) != 5:
            raise IncompleteSignatureError(
                "Credential must have exactly 5 slash-delimited elements, "
                f"e.g. keyid/date/region/service/term, got '{credential}'"
            )
        access_key, scope_date, region, service, terminator = parts
        if terminator != TERMINATOR:
            raise InvalidSignatureError(
                f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'. "
            )
        if region != self._region:
            raise InvalidSignatureError(f"Credential should be scoped to a valid region, not '{region}'. ")
        if service != self._service:
            raise InvalidSignatureError(
                f"Credential should be scoped to correct service: '{self._service}'. "
            )
        if scope_date != amz_date[:8]:
            raise InvalidSignatureError(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        signed_headers = [name.lower() for name in params["SignedHeaders"].split(";")]
        if "host" not in signed_headers:
            raise InvalidSignatureError(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )

        holder = self._key_for(access_key) if access_key else None
        if holder is None:
            raise UnrecognizedClientError()
        self._check_skew(moment, amz_date)

        signer, aws = _botocore_view(
            request,
            signed_headers,
            region=self._region,
            service=self._service,
            credentials=Credentials(access_key, holder.secret_access_key),
        )
        aws.context["timestamp"] = amz_date
        expected = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
        if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
            raise InvalidSignatureError(MISMATCH)
        declared = aws.headers.get_all("x-amz-content-sha256")
        if declared is not None and declared != [hashlib.sha256(request.body).hexdigest()]:
            raise InvalidSignatureError(CONTENT_SHA256_MISMATCH)
        return holder

    def _check_skew(self, moment: datetime, amz_date: str) -> None:
        now = self._now()
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
        minutes = f"{self._max_skew.total_seconds() / 60:g} min."
        if moment < now - self._max_skew:
            raise SignatureExpiredError(
                f"Signature expired: {amz_date} is now earlier than {_stamp(now - self._max_skew)} "
                f"({_stamp(now)} - {minutes})"
            )
        if moment > now + self._max_skew:
            raise SignatureExpiredError(
                f"Signature not yet current: {amz_date} is still later than {_stamp(now + self._max_skew)} "
                f"({_stamp(now)} + {minutes})"
            )
