"""The 2017 JSON API end to end: a real server process, real boto3, the real AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import botocore.auth
import pytest
from botocore.exceptions import ClientError

from openturk.protocol.handlers import HANDLERS
from tests.shapes import model
from tests.support import HTTP, TARGET, RunningServer, mturk_client, signed_post

IMPLEMENTED = set(HANDLERS)


def error_of(info: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    response: dict[str, Any] = info.value.response
    return response


def test_get_account_balance_as_boto3_sees_it(server: RunningServer) -> None:
    lab = server.requester(balance_cents=1_000_000)
    response = server.client(lab).get_account_balance()
    assert response["AvailableBalance"] == "10000.00"
    assert response["OnHoldBalance"] == "0.00"
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200
    assert meta["RequestId"] == meta["HTTPHeaders"]["x-amzn-requestid"]


def test_each_requester_sees_only_its_own_balance(server: RunningServer) -> None:
    rich, poor = server.requester("rich", 123_456), server.requester("poor", 1)
    server.services.accounts.fund(poor.access_key_id, 41)
    assert server.client(rich).get_account_balance()["AvailableBalance"] == "1234.56"
    assert server.client(poor).get_account_balance()["AvailableBalance"] == "0.42"


def test_unknown_key_is_unrecognized_client(server: RunningServer) -> None:
    client = mturk_client(server.url, "AKIAUNKNOWNUNKNOWN00", "x" * 40)
    with pytest.raises(ClientError) as info:
        client.get_account_balance()
    error = error_of(info)
    assert error["Error"]["Code"] == "UnrecognizedClientException"
    assert error["Error"]["Message"] == "The security token included in the request is invalid."
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_wrong_secret_is_invalid_signature(server: RunningServer) -> None:
    lab = server.requester()
    client = mturk_client(server.url, lab.access_key_id, lab.secret_access_key[:-1] + "?")
    with pytest.raises(ClientError) as info:
        client.get_account_balance()
    error = error_of(info)
    assert error["Error"]["Code"] == "InvalidSignatureException"
    assert "does not match the signature you provided" in error["Error"]["Message"]


def test_a_stale_signature_is_refused(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = server.requester()
    real_now = botocore.auth.get_current_datetime
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: real_now() - timedelta(minutes=6))
    with pytest.raises(ClientError) as info:
        server.client(lab).get_account_balance()
    assert error_of(info)["Error"]["Code"] == "InvalidSignatureException"
    assert error_of(info)["Error"]["Message"].startswith("Signature expired: ")


def test_missing_authorization_is_a_json_error(server: RunningServer) -> None:
    response = HTTP.post(
        server.url + "/",
        content=b"{}",
        headers={"X-Amz-Target": TARGET + "GetAccountBalance", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "MissingAuthenticationTokenException"
    assert response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("target", "body", "status", "wire_type"),
    [
        (TARGET + "LaunchRockets", b"{}", 400, "UnknownOperationException"),
        ("SomeOtherService.GetAccountBalance", b"{}", 400, "UnknownOperationException"),
        (TARGET + "GetAccountBalance", b"{not json", 400, "SerializationException"),
        (TARGET + "GetAccountBalance", b"[1, 2]", 400, "SerializationException"),
        (TARGET + "GetAccountBalance", b"\xff\xfe", 400, "SerializationException"),
    ],
)
def test_bad_requests_get_a_400_json_error_never_a_500(
    server: RunningServer, target: str, body: bytes, status: int, wire_type: str
) -> None:
    response = signed_post(server, server.requester(), target, body)
    assert response.status_code == status
    assert response.json()["__type"] == wire_type
    assert response.json()["message"]


def test_a_nul_character_in_any_string_is_refused_before_anything_happens(server: RunningServer) -> None:
    """PostgreSQL cannot store U+0000 and no MTurk value holds one: refused at the edge, on either
    database, as a lone surrogate is."""
    lab = server.requester()
    before = server.client(lab).get_account_balance()["AvailableBalance"]
    fields = {"Title": "t\u0000", "Description": "d", "Reward": "0.10", "AssignmentDurationInSeconds": 60}
    body = json.dumps(fields).encode()
    response = signed_post(server, lab, TARGET + "CreateHITType", body)
    assert response.status_code == 400
    assert response.json() == {
        "__type": "SerializationException",
        "message": "Invalid character U+0000 in string at 'title'",
    }
    assert server.client(lab).get_account_balance()["AvailableBalance"] == before


def test_empty_outputs_are_exactly_an_empty_object(server: RunningServer) -> None:
    lab = server.requester()
    hit = server.client(lab).create_hit(
        Title="t",
        Description="d",
        Reward="0.10",
        LifetimeInSeconds=60,
        AssignmentDurationInSeconds=60,
        Question=(
            '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
            '2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://x.example/</ExternalURL>'
            "<FrameHeight>0</FrameHeight></ExternalQuestion>"
        ),
    )["HIT"]
    body = json.dumps({"HITId": hit["HITId"], "ExpireAt": 0}).encode()
    response = signed_post(server, lab, TARGET + "UpdateExpirationForHIT", body)
    assert response.status_code == 200
    assert response.content == b"{}"


def test_server_side_validation_uses_aws_wording(server: RunningServer) -> None:
    client = server.client(server.requester(), validate=False)
    with pytest.raises(ClientError) as info:
        client.send_bonus(WorkerId="AEXAMPLE1", BonusAmount="0.9752", AssignmentId="A1", Reason="thanks")
    error = error_of(info)["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value '0.9752' at 'bonusAmount' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[0-9]+(\\.)?[0-9]{0,2}$"
    )
    with pytest.raises(ClientError) as info:
        client.send_bonus(WorkerId="AEXAMPLE1", BonusAmount="5", AssignmentId="A1")
    assert (
        "Value null at 'reason' failed to satisfy constraint: Member must not be null"
        in (error_of(info)["Error"]["Message"])
    )


def test_every_operation_of_the_2017_api_has_a_handler() -> None:
    """All 39 operations of botocore's MTurk model are served (none answers 'not implemented')."""
    operations = set(model().operation_names)
    assert len(operations) == 39
    assert operations == IMPLEMENTED


def test_every_response_carries_a_request_id(server: RunningServer) -> None:
    for response in (
        HTTP.get(server.url + "/healthz"),
        HTTP.get(server.url + "/no/such/page"),
        HTTP.post(server.url + "/", content=b"{}", headers={"X-Amz-Target": TARGET + "GetAccountBalance"}),
    ):
        assert len(response.headers["x-amzn-RequestId"]) == 36
    assert HTTP.get(server.url + "/healthz").json() == {"status": "ok"}
    missing = HTTP.get(server.url + "/no/such/page")
    assert missing.status_code == 404
    assert missing.json()["__type"] == "UnknownOperationException"


def test_the_aws_cli_works_unchanged(server: RunningServer) -> None:
    lab = server.requester(balance_cents=4_200)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": lab.access_key_id,
        "AWS_SECRET_ACCESS_KEY": lab.secret_access_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    result = subprocess.run(
        [aws, "mturk", "get-account-balance", "--endpoint-url", server.url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"AvailableBalance": "42.00", "OnHoldBalance": "0.00"}
