"""Client-side SigV4: a request signed once by botocore's own ``SigV4Auth``, as boto3 would send it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
SERVICE = "mturk-requester"
TARGET_PREFIX = "MTurkRequesterServiceV20170117."
CONTENT_TYPE = "application/x-amz-json-1.1"


@dataclass(frozen=True, slots=True)
class Prepared:
    """One signed request, ready to be written to a keep-alive connection."""

    headers: dict[str, str]
    body: bytes


class Signer:
    def __init__(self, access_key: str, secret: str, host: str, port: int) -> None:
        self._auth = SigV4Auth(Credentials(access_key, secret), SERVICE, REGION)
        self._host = f"{host}:{port}"
        self._url = f"http://{self._host}/"

    def prepare(self, operation: str, params: dict[str, Any]) -> Prepared:
        body = json.dumps(params, separators=(",", ":")).encode()
        request = AWSRequest(
            method="POST",
            url=self._url,
            data=body,
            headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation},
        )
        self._auth.add_auth(request)  # X-Amz-Date is now: the server accepts it for 5 minutes
        headers = {str(k): str(v) for k, v in request.headers.items()}
        # The Host botocore signed is the one http.client must send (it adds its own otherwise).
        headers["Host"] = self._host
        return Prepared(headers, body)
