"""Unit tests for ``openturk.protocol.sigv4``: no server, requests signed by botocore or by hand."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openturk.errors import (
    IncompleteSignatureError,
    InvalidSignatureError,
    MissingAuthenticationTokenError,
    OpenTurkError,
    SignatureExpiredError,
    UnrecognizedClientError,
)
from openturk.protocol import sigv4
from openturk.protocol.sigv4 import CONTENT_SHA256_MISMATCH, MISMATCH, HttpRequest, SigV4Verifier
from openturk.service.accounts import Identity

KEY = "AKIDOPENTURKEXAMPLE"
SECRET = "openturk/EXAMPLE+secret/0123456789abcdefghij"
NOW = datetime(2024, 5, 17, 13, 1, 30, tzinfo=UTC)
AMZ_DATE = "20240517T130130Z"
AWS_HOST = "mturk-requester.us-east-1.amazonaws.com"
TARGET = "MTurkRequesterServiceV20170117.GetAccountBalance"
JSON = "application/x-amz-json-1.1"
BODY = b"{}"
HAND_SIGNED = ("content-type", "host", "x-amz-date", "x-amz-target")


def make_verifier(
    secrets: dict[str, str] | None = None, now: datetime = NOW, **kwargs: Any
) -> SigV4Verifier[Identity]:
    table = {KEY: SECRET} if secrets is None else secrets

    def key_for(key: str) -> Identity | None:
        return Identity("REQUESTER", key, table[key]) if key in table else None

    return SigV4Verifier(key_for, now=lambda: now, **kwargs)


def botocore_signed(
    body: bytes = BODY,
    *,
    secret: str = SECRET,
    region: str = "us-east-1",
    service: str = "mturk-requester",
    url: str = "http://localhost:8080/",
    at: datetime = NOW,
) -> HttpRequest:
    """Signed the way boto3 signs an mturk call, then received with what the HTTP client adds."""
    aws = AWSRequest(
        method="POST", url=url, data=body, headers={"X-Amz-Target": TARGET, "Content-Type": JSON}
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        SigV4Auth(Credentials(KEY, secret), service, region).add_auth(aws)
    headers = [("Host", urlsplit(url).netloc), *aws.headers.items()]
    headers += [("User-Agent", "Boto3/1.34 md/Botocore#1.34"), ("Content-Length", str(len(body)))]
    return HttpRequest(method="POST", path="/", query="", headers=headers, body=body)


def hand_signed(
    body: bytes = BODY,
    *,
    secret: str = SECRET,
    date_header: tuple[str, str] = ("X-Amz-Date", AMZ_DATE),
    amz_date: str = AMZ_DATE,
    signed: Sequence[str] = HAND_SIGNED,
    extra: Sequence[tuple[str, str]] = (),
    scope: str = f"{AMZ_DATE[:8]}/us-east-1/mturk-requester/aws4_request",
) -> HttpRequest:
    """Signed by a minimal client written straight from the SigV4 documentation (no botocore)."""
    headers = [("Content-Type", JSON), ("Host", AWS_HOST), date_header, ("X-Amz-Target", TARGET), *extra]
    values = {name.lower(): value.strip() for name, value in headers}
    payload = values.get("x-amz-content-sha256", "") if "x-amz-content-sha256" in signed else ""
    lines = ["POST", "/", "", *(f"{name}:{values[name]}" for name in signed), "", ";".join(signed)]
    canonical = "\n".join([*lines, payload or hashlib.sha256(body).hexdigest()])
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{digest}"
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={KEY}/{scope}, SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    return HttpRequest("POST", "/", "", [*headers, ("Authorization", authorization)], body)


def replace_header(request: HttpRequest, name: str, value: str | None) -> HttpRequest:
    headers = [(n, v) for n, v in request.headers if n.lower() != name.lower()]
    if value is not None:
        headers.append((name, value))
    return HttpRequest(request.method, request.path, request.query, headers, request.body)


def authorization_of(request: HttpRequest) -> str:
    return next(value for name, value in request.headers if name.lower() == "authorization")


def assert_refused(
    request: HttpRequest,
    error: type[OpenTurkError],
    message: str,
    verifier: SigV4Verifier[Identity] | None = None,
) -> None:
    with pytest.raises(error) as raised:
        (verifier or make_verifier()).verify(request)
    assert type(raised.value) is error
    assert raised.value.message == message


# --- accepted -------------------------------------------------------------------------------------


def test_botocore_signed_request_verifies() -> None:
    assert make_verifier().verify(botocore_signed()).access_key_id == KEY


def test_a_real_boto3_mturk_call_verifies() -> None:
    """The request boto3 actually sends, caught just before it would leave."""

    class CapturedError(Exception):
        pass

    sent: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append(request)
        raise CapturedError

    client = boto3.client(
        "mturk",
        endpoint_url="http://127.0.0.1:9/",
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )
    client.meta.events.register("before-send.mturk.*", capture)
    with pytest.raises(CapturedError):
        client.get_account_balance()
    prepared = sent[0]
    headers = [
        ("Host", "127.0.0.1:9"),
        *((k, v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()),
    ]
    request = HttpRequest("POST", "/", "", headers, prepared.body)
    signed_at = datetime.strptime(dict(headers)["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert make_verifier(now=signed_at).verify(request).access_key_id == KEY


def test_hand_signed_with_four_headers_and_the_aws_host_verifies() -> None:
    # Unsigned headers are ignored, an unsigned x-amz-content-sha256 included: the body is hashed.
    extra = [("User-Agent", "curl/8"), ("Content-Length", "2"), ("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")]
    assert make_verifier().verify(hand_signed(extra=extra)).access_key_id == KEY


def test_headers_botocore_never_signs_still_verify_when_a_client_signs_them() -> None:
    extra = [("User-Agent", "hand/1.0"), ("Expect", "100-continue"), ("X-Amzn-Trace-Id", "Root=1-abc")]
    signed = ("content-type", "expect", "host", "user-agent", "x-amz-date", "x-amz-target", "x-amzn-trace-id")
    assert make_verifier().verify(hand_signed(extra=extra, signed=signed)).access_key_id == KEY


def test_signed_x_amz_content_sha256_matching_the_body_verifies() -> None:
    extra = [("X-Amz-Content-SHA256", hashlib.sha256(BODY).hexdigest())]
    signed = ("content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-target")
    assert make_verifier().verify(hand_signed(extra=extra, signed=signed)).access_key_id == KEY


def test_date_header_instead_of_x_amz_date_verifies() -> None:
    request = hand_signed(
        date_header=("Date", "Fri, 17 May 2024 13:01:30 GMT"),
        signed=("content-type", "date", "host", "x-amz-target"),
    )
    assert make_verifier().verify(request).access_key_id == KEY


def test_header_names_in_any_case_verify() -> None:
    request = botocore_signed()
    shouted = [(name.upper(), value) for name, value in request.headers]
    assert make_verifier().verify(HttpRequest("POST", "/", "", shouted, BODY)).access_key_id == KEY


# --- refused: the request was changed, or the key is wrong -----------------------------------------


def test_tampered_body() -> None:
    request = botocore_signed(b'{"a":1}')
    assert_refused(HttpRequest("POST", "/", "", request.headers, b'{"a":2}'), InvalidSignatureError, MISMATCH)


def test_tampered_signed_header() -> None:
    request = replace_header(botocore_signed(), "X-Amz-Target", "MTurkRequesterServiceV20170117.ListHITs")
    assert_refused(request, InvalidSignatureError, MISMATCH)


def test_tampered_host() -> None:
    assert_refused(replace_header(hand_signed(), "Host", "localhost:8080"), InvalidSignatureError, MISMATCH)


def test_wrong_secret() -> None:
    assert_refused(botocore_signed(secret="not-the-secret"), InvalidSignatureError, MISMATCH)


def test_unknown_access_key() -> None:
    assert_refused(
        botocore_signed(),
        UnrecognizedClientError,
        "The security token included in the request is invalid.",
        make_verifier(secrets={}),
    )


def test_rotated_secret_does_not_verify_from_the_signing_key_cache() -> None:
    secrets = {KEY: SECRET}
    verifier = make_verifier(secrets)
    request = botocore_signed()
    hits = sigv4._signing_key.cache_info().hits
    assert verifier.verify(request).access_key_id == KEY
    assert verifier.verify(request).access_key_id == KEY
    assert sigv4._signing_key.cache_info().hits > hits  # the second one reused the derived key
    secrets[KEY] = "rotated-secret"
    assert_refused(request, InvalidSignatureError, MISMATCH, verifier)
    assert verifier.verify(botocore_signed(secret="rotated-secret")).access_key_id == KEY


def test_signed_x_amz_content_sha256_not_matching_the_body() -> None:
    signed = ("content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-target")
    for declared in (hashlib.sha256(b"other").hexdigest(), "UNSIGNED-PAYLOAD"):
        request = hand_signed(extra=[("X-Amz-Content-SHA256", declared)], signed=signed)
        assert_refused(request, InvalidSignatureError, CONTENT_SHA256_MISMATCH)


# --- refused: missing or malformed authentication ---------------------------------------------------


def test_missing_authorization() -> None:
    request = replace_header(botocore_signed(), "Authorization", None)
    assert_refused(request, MissingAuthenticationTokenError, "Request is missing Authentication Token")


def test_missing_date() -> None:
    request = replace_header(botocore_signed(), "X-Amz-Date", None)
    assert_refused(
        request,
        IncompleteSignatureError,
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        f"Authorization={authorization_of(request)}",
    )


GOOD_CREDENTIAL = f"Credential={KEY}/20240517/us-east-1/mturk-requester/aws4_request"
MALFORMED = [
    (
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
        "parameter. Authorization header requires 'SignedHeaders' parameter. "
        "Authorization=Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
    ),
    (
        f"AWS4-HMAC-SHA256 {GOOD_CREDENTIAL}, SignedHeaders=host;x-amz-date",
        "Authorization header requires 'Signature' parameter. "
        f"Authorization=AWS4-HMAC-SHA256 {GOOD_CREDENTIAL}, SignedHeaders=host;x-amz-date",
    ),
    (
        f"AWS4-HMAC-SHA256 Credential= {KEY}/20240517/us-east-1/mturk-requester/aws4_request, "
        "SignedHeaders=host, Signature=00",
        f"'{KEY}/20240517/us-east-1/mturk-requester/aws4_request' not a valid key=value pair (missing "
        f"equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= {KEY}/20240517/us-east-1/"
        "mturk-requester/aws4_request, SignedHeaders=host, Signature=00'.",
    ),
    (
        f"AWS4-HMAC-SHA256 Credential={KEY}/20240517/us-east-1, SignedHeaders=host, Signature=00",
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
        f"got '{KEY}/20240517/us-east-1'",
    ),
    (
        f"AWS4-HMAC-SHA256 {GOOD_CREDENTIAL}, {GOOD_CREDENTIAL}, SignedHeaders=host, Signature=00",
        f"Authorization header repeats the 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 "
        f"{GOOD_CREDENTIAL}, {GOOD_CREDENTIAL}, SignedHeaders=host, Signature=00",
    ),
]


@pytest.mark.parametrize(("authorization", "message"), MALFORMED)
def test_malformed_authorization(authorization: str, message: str) -> None:
    request = replace_header(botocore_signed(), "Authorization", authorization)
    assert_refused(request, IncompleteSignatureError, message)


def test_malformed_x_amz_date() -> None:
    request = replace_header(botocore_signed(), "X-Amz-Date", "2024-05-17T13:01:30Z")
    message = "Date must be in ISO-8601 'basic format'. Got '2024-05-17T13:01:30Z'. See http://en.wikipedia.org/wiki/ISO_8601"
    assert_refused(request, IncompleteSignatureError, message)


def test_malformed_date_header() -> None:
    request = replace_header(replace_header(botocore_signed(), "X-Amz-Date", None), "Date", "yesterday")
    assert_refused(request, IncompleteSignatureError, "Date must be in RFC 1123 format. Got 'yesterday'.")


def test_wrong_region_scope() -> None:
    message = "Credential should be scoped to a valid region, not 'eu-west-1'. "
    assert_refused(botocore_signed(region="eu-west-1"), InvalidSignatureError, message)


def test_wrong_service_scope() -> None:
    message = "Credential should be scoped to correct service: 'mturk-requester'. "
    assert_refused(botocore_signed(service="dynamodb"), InvalidSignatureError, message)


def test_wrong_terminator() -> None:
    request = hand_signed(scope="20240517/us-east-1/mturk-requester/aws5_request")
    message = "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "
    assert_refused(request, InvalidSignatureError, message)


def test_scope_date_must_be_the_date_of_x_amz_date() -> None:
    request = hand_signed(scope="20240516/us-east-1/mturk-requester/aws4_request")
    message = (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        "'20240516' != '20240517', from '20240517T130130Z'."
    )
    assert_refused(request, InvalidSignatureError, message)


def test_host_must_be_signed() -> None:
    request = hand_signed(signed=("content-type", "x-amz-date", "x-amz-target"))
    message = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    assert_refused(request, InvalidSignatureError, message)


# --- clock skew ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=5), timedelta(minutes=4, seconds=59), -timedelta(minutes=5), timedelta(0)]
)
def test_skew_just_inside_five_minutes(offset: timedelta) -> None:
    assert make_verifier(now=NOW + offset).verify(botocore_signed()).access_key_id == KEY


def test_skew_just_outside_five_minutes_in_the_past() -> None:
    message = (
        "Signature expired: 20240517T130130Z is now earlier than 20240517T130131Z (20240517T130631Z - 5 min.)"
    )
    verifier = make_verifier(now=NOW + timedelta(minutes=5, seconds=1))
    assert_refused(botocore_signed(), SignatureExpiredError, message, verifier)


def test_skew_just_outside_five_minutes_in_the_future() -> None:
    message = (
        "Signature not yet current: 20240517T130130Z is still later than 20240517T130129Z "
        "(20240517T125629Z + 5 min.)"
    )
    verifier = make_verifier(now=NOW - timedelta(minutes=5, seconds=1))
    assert_refused(botocore_signed(), SignatureExpiredError, message, verifier)


# --- nothing but OpenTurkError, whatever arrives -----------------------------------------------------

FRAGMENTS = [
    "AWS4-HMAC-SHA256 ", "Credential=", "SignedHeaders=", "Signature=", KEY, "/", "20240517", "us-east-1",
    "mturk-requester", "aws4_request", ", ", ",", ";", "=", " ", "host", "x-amz-date", "x-amz-content-sha256",
    AMZ_DATE, "\ud800", "é", "%", "%FF", "\x00", "\r\n", "ሴ", "0" * 64,
]  # fmt: skip
texts = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
names = st.one_of(
    st.sampled_from(["Authorization", "authorization", "X-Amz-Date", "Date", "Host", "X-Amz-Content-SHA256"]),
    st.text(max_size=12),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=texts,
    path=st.one_of(st.just("/"), texts),
    query=st.one_of(st.just(""), texts),
    headers=st.lists(st.tuples(names, texts), max_size=8),
    body=st.binary(max_size=32),
)
def test_verify_only_ever_raises_openturk_errors(
    method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    with contextlib.suppress(OpenTurkError):
        make_verifier().verify(HttpRequest(method, path, query, headers, body))


def _mutations() -> st.SearchStrategy[Callable[[HttpRequest], HttpRequest]]:
    def header(name: str) -> st.SearchStrategy[Callable[[HttpRequest], HttpRequest]]:
        return st.one_of(st.none(), texts).map(lambda value: lambda r: replace_header(r, name, value))

    def shape(r: HttpRequest, path: str, query: str) -> HttpRequest:
        return HttpRequest(r.method, path, query, r.headers, r.body)

    return st.one_of(
        header("Authorization"),
        header("X-Amz-Date"),
        header("Date"),
        header("Host"),
        header("X-Amz-Content-SHA256"),
        st.tuples(texts, texts).map(lambda pq: lambda r: shape(r, *pq)),
    )


@settings(max_examples=300, deadline=None)
@given(mutate=_mutations())
def test_mutated_signed_request_verifies_or_raises_openturk_errors(
    mutate: Callable[[HttpRequest], HttpRequest],
) -> None:
    with contextlib.suppress(OpenTurkError):
        assert make_verifier().verify(mutate(hand_signed())).access_key_id == KEY
