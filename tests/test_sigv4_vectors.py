"""The public AWS Signature Version 4 test suite, header-signed cases, against ``openturk.protocol.sigv4``.

The cases live in ``tests/fixtures/aws4_testsuite/<case>/<case>.{req,creq,sts,authz,sreq}``; see the
README there for where they came from.  Each case is checked twice: once against itself, with nothing
but hashlib/hmac (the canonical request hashes to the string to sign, which HMACs to the published
signature), and once against the verifier (canonical request, string to sign, verify, one byte off).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openturk.errors import InvalidSignatureError
from openturk.protocol.sigv4 import MISMATCH, HttpRequest, SigV4Verifier, canonical_request, string_to_sign
from openturk.service.accounts import Identity

SUITE = Path(__file__).parent / "fixtures" / "aws4_testsuite"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20150830T123600Z"
SCOPE = "20150830/us-east-1/service/aws4_request"
SIGNED_AT = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)

# The suite's header-signed cases that are NOT in the fixtures, and why.  botocore's own runner
# (tests/unit/auth/test_sigv4.py) ignores 'normalize-path/get-space' (its HTTP parser chokes on a space
# in the request line) and the three 'get-vanilla-query-order-*' cases (its runner squeezes the query into
# a dict).  Both are limits of that runner, not of the signer: our parser splits the request line on
# its first and last space, and the verifier reads the raw query, so those four cases are kept here.
NOT_INCLUDED = {
    # A header continued over three lines with obs-fold (deprecated by RFC 7230 §3.2.4). Servers reject
    # or unfold it before any handler runs, so no HttpRequest can carry what the suite signed.
    "get-header-value-multiline": "obs-fold header value; cannot reach the verifier",
}
EXPECTED_CASES = {
    "get-header-key-duplicate",
    "get-header-value-order",
    "get-header-value-trim",
    "get-relative",
    "get-relative-relative",
    "get-slash",
    "get-slash-dot-slash",
    "get-slash-pointless-dot",
    "get-slashes",
    "get-space",
    "get-unreserved",
    "get-utf8",
    "get-vanilla",
    "get-vanilla-empty-query-key",
    "get-vanilla-query",
    "get-vanilla-query-order-key",
    "get-vanilla-query-order-key-case",
    "get-vanilla-query-order-value",
    "get-vanilla-query-unreserved",
    "get-vanilla-utf8-query",
    "post-header-key-case",
    "post-header-key-sort",
    "post-header-value-case",
    "post-sts-header-after",
    "post-sts-header-before",
    "post-vanilla",
    "post-vanilla-empty-query-value",
    "post-vanilla-query",
    "post-x-www-form-urlencoded",
    "post-x-www-form-urlencoded-parameters",
}
CASES = sorted(path.name for path in SUITE.iterdir() if path.is_dir()) if SUITE.is_dir() else []


def read(case: str, ext: str) -> str:
    return (SUITE / case / f"{case}.{ext}").read_text(encoding="utf-8")


def parse_raw_request(text: str) -> HttpRequest:
    """A raw HTTP/1.1 request (CRLF or LF) as an HTTP server would hand it over."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    request_line, *header_lines = [line for line in head.split("\n") if line]
    method, rest = request_line.split(" ", 1)
    target, _version = rest.rsplit(" ", 1)  # the suite's targets may hold a raw space (get-space)
    path, _, query = target.partition("?")
    headers = []
    for line in header_lines:
        assert not line[:1].isspace(), "obs-fold is not supported: a server unfolds or refuses it"
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))  # optional whitespace around a field value is not part of it
    return HttpRequest(method=method, path=path, query=query, headers=headers, body=body.encode())


def signed_headers_of(authorization: str) -> list[str]:
    return authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")


def signature_of(authorization: str) -> str:
    return authorization.rsplit("Signature=", 1)[1].strip()


def verifier() -> SigV4Verifier[Identity]:
    def key_for(key: str) -> Identity | None:
        return Identity("REQUESTER", key, SECRET) if key == ACCESS_KEY else None

    return SigV4Verifier(key_for, service="service", now=lambda: SIGNED_AT)


def test_fixtures_are_all_there() -> None:
    assert set(CASES) == EXPECTED_CASES, f"fixture directory {SUITE} does not hold the expected cases"
    assert not set(CASES) & set(NOT_INCLUDED)


# An empty directory would make parametrize skip everything; the placeholder makes it fail instead.
@pytest.fixture(params=CASES or ["<no cases in tests/fixtures/aws4_testsuite>"])
def case(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    assert (SUITE / name).is_dir(), f"missing fixture case {name}"
    return name


def test_case_is_self_consistent(case: str) -> None:
    """The published facts agree with each other, independently of the code under test."""
    creq, sts, authz = read(case, "creq"), read(case, "sts"), read(case, "authz")
    assert sts.split("\n")[:3] == ["AWS4-HMAC-SHA256", AMZ_DATE, SCOPE]
    assert sts.split("\n")[3] == hashlib.sha256(creq.encode()).hexdigest()
    key = f"AWS4{SECRET}".encode()
    for part in SCOPE.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    assert hmac.new(key, sts.encode(), hashlib.sha256).hexdigest() == signature_of(authz)
    request = parse_raw_request(read(case, "sreq"))
    assert [value for name, value in request.headers if name.lower() == "authorization"] == [authz]


def test_canonical_request(case: str) -> None:
    request = parse_raw_request(read(case, "sreq"))
    assert canonical_request(request, signed_headers_of(read(case, "authz"))) == read(case, "creq")


def test_string_to_sign(case: str) -> None:
    request = parse_raw_request(read(case, "sreq"))
    canonical = canonical_request(request, signed_headers_of(read(case, "authz")))
    assert string_to_sign(AMZ_DATE, SCOPE, canonical) == read(case, "sts")


def test_verify_accepts_the_signed_request(case: str) -> None:
    assert verifier().verify(parse_raw_request(read(case, "sreq"))).access_key_id == ACCESS_KEY


def test_verify_refuses_one_changed_byte_of_the_signature(case: str) -> None:
    sreq, signature = read(case, "sreq"), signature_of(read(case, "authz"))
    changed = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert sreq.count(signature) == 1
    with pytest.raises(InvalidSignatureError) as raised:
        verifier().verify(parse_raw_request(sreq.replace(signature, changed)))
    assert type(raised.value) is InvalidSignatureError
    assert raised.value.message == MISMATCH
