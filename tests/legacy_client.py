"""A small legacy query-API client for tests, signing from the documented rules, not from server code.

- ``documented``: Signature = Base64(HMAC-SHA1(secret, Service + Operation + Timestamp)).
- ``v1``: boto 2's SignatureVersion 1 re-implemented (boto 2 is not installable on Python 3.11): no
  Service parameter, HMAC-SHA1 over every parameter but Signature, names sorted case-insensitively
  (Python's stable sort on ``str.lower``), each name then its value, Base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.support import HTTP

SERVICE = "AWSMechanicalTurkRequester"


def utc_timestamp(offset_s: float = 0.0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset_s))


def documented_signature(secret: str, operation: str, timestamp: str, service: str = SERVICE) -> str:
    digest = hmac.new(secret.encode(), (service + operation + timestamp).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def boto2_v1_signature(secret: str, params: dict[str, str]) -> str:
    mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha1)
    for key in sorted(params, key=lambda k: k.lower()):
        mac.update(key.encode("utf-8"))
        mac.update(params[key].encode("utf-8"))
    return base64.b64encode(mac.digest()).decode()


def flatten(prefix: str, value: Any) -> dict[str, str]:
    """A structure the way legacy clients flatten it: dicts as ``prefix.Key``, lists as ``prefix.N``."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, sub in value.items():
            out.update(flatten(f"{prefix}.{key}" if prefix else key, sub))
        return out
    if isinstance(value, list):
        out = {}
        for i, sub in enumerate(value, 1):
            out.update(flatten(f"{prefix}.{i}", sub))
        return out
    if isinstance(value, bool):
        return {prefix: "true" if value else "false"}
    return {prefix: str(value)}


@dataclass
class LegacyResponse:
    status: int
    text: str

    @property
    def root(self) -> ET.Element:
        return ET.fromstring(self.text)  # noqa: S314 - our own server's answer, in a test

    def result(self, element: str) -> ET.Element:
        found = self.root.find(element)
        assert found is not None, self.text
        return found

    @property
    def valid(self) -> bool:
        return self.root.find("./*/Request/IsValid") is not None and (
            self.root.findtext("./*/Request/IsValid") == "True"
        )

    @property
    def error_code(self) -> str | None:
        return self.root.findtext(".//Errors/Error/Code")

    @property
    def error_message(self) -> str | None:
        return self.root.findtext(".//Errors/Error/Message")


class LegacyClient:
    def __init__(
        self,
        url: str,
        key: str,
        secret: str,
        *,
        style: str = "documented",
        method: str = "POST",
        version: str = "2014-08-15",
    ) -> None:
        self.url, self.key, self.secret = url, key, secret
        self.style, self.method, self.version = style, method, version

    def signed(
        self, operation: str, params: dict[str, Any] | None = None, *, timestamp: str | None = None
    ) -> dict[str, str]:
        values = {k: str(v) for k, v in (params or {}).items()}
        stamp = timestamp or utc_timestamp()
        if self.style == "v1":
            base = {
                "AWSAccessKeyId": self.key,
                "Operation": operation,
                "SignatureVersion": "1",
                "Timestamp": stamp,
                "Version": self.version,
                **values,
            }
            return {**base, "Signature": boto2_v1_signature(self.secret, base)}
        return {
            "Service": SERVICE,
            "AWSAccessKeyId": self.key,
            "Version": self.version,
            "Operation": operation,
            "Timestamp": stamp,
            "Signature": documented_signature(self.secret, operation, stamp),
            **values,
        }

    def send(self, params: dict[str, str], *, method: str | None = None) -> LegacyResponse:
        if (method or self.method) == "GET":
            response = HTTP.get(self.url + "/?" + urlencode(params))
        else:
            response = HTTP.post(
                self.url + "/",
                content=urlencode(params).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            )
        return LegacyResponse(response.status_code, response.text)

    def call(self, operation: str, params: dict[str, Any] | None = None, **kwargs: Any) -> LegacyResponse:
        return self.send(self.signed(operation, params, **kwargs))

    def ok(self, operation: str, params: dict[str, Any] | None = None) -> LegacyResponse:
        response = self.call(operation, params)
        assert response.status == 200, response.text
        assert response.valid, response.text
        assert "<Errors>" not in response.text  # boto 2 treats any '<Errors>' as a failure
        return response
