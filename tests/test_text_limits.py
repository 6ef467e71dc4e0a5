"""MTurk's documented text lengths hold on both APIs and both databases: one character too many is a
parameter error naming the parameter (never a 5xx from a PostgreSQL column, never stored whole on
SQLite), the limit itself is accepted, and a refused call moves no money and creates nothing."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.hit_support import EXTERNAL, accept_and_submit, balance, hit_args, new_worker
from tests.support import RunningServer
from tests.test_legacy_api import bonus_params, legacy, submitted

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/"


def refused(call: Any, code: str = "RequestError", **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    error = info.value.response["Error"]
    assert error["Code"] == code, error
    return str(error["Message"])


@pytest.mark.parametrize(
    ("parameter", "limit"),
    [("Title", 128), ("Description", 2000), ("Keywords", 1000), ("RequesterAnnotation", 255)],
)
def test_hit_texts_over_their_length_create_nothing(
    server: RunningServer, parameter: str, limit: int
) -> None:
    # boto3 checks none of these lengths itself (the model has none): the server must.
    client = server.client(server.requester(), validate=False)
    message = refused(client.create_hit, **hit_args(**{parameter: "x" * (limit + 1)}))
    assert parameter in message
    assert f"at most {limit} characters" in message
    assert client.list_hits()["NumResults"] == 0
    assert balance(client) == "10000.00"
    made = client.create_hit(**hit_args(**{parameter: "x" * limit}))["HIT"]
    assert len(made.get(parameter, "")) == limit


def test_feedback_tokens_and_destinations_over_their_length_change_nothing(server: RunningServer) -> None:
    client = server.client(server.requester(), validate=False)
    hit_id = client.create_hit(**hit_args(Reward="1.00", MaxAssignments=2))["HIT"]["HITId"]
    first = accept_and_submit(server, hit_id, new_worker(server), label="cat")
    second = accept_and_submit(server, hit_id, new_worker(server), label="dog")
    before = balance(client)

    assert "RequesterFeedback" in refused(
        client.approve_assignment, AssignmentId=first, RequesterFeedback="x" * 1025
    )
    assert "RequesterFeedback" in refused(
        client.reject_assignment, AssignmentId=second, RequesterFeedback="x" * 1025
    )
    statuses = {
        a["AssignmentId"]: a["AssignmentStatus"]
        for a in client.list_assignments_for_hit(HITId=hit_id)["Assignments"]
    }
    assert statuses == {first: "Submitted", second: "Submitted"}
    # The model itself bounds a token (1-64): the server checks it as botocore would.
    assert "'uniqueRequestToken'" in refused(
        client.create_additional_assignments_for_hit,
        "ValidationException",
        HITId=hit_id,
        NumberOfAdditionalAssignments=1,
        UniqueRequestToken="t" * 65,
    )
    assert client.get_hit(HITId=hit_id)["HIT"]["MaxAssignments"] == 2
    long_queue = QUEUE + "q" * (1025 - len(QUEUE))
    notification = {
        "Destination": long_queue,
        "Transport": "SQS",
        "Version": "2006-05-05",
        "EventTypes": ["AssignmentSubmitted"],
    }
    hit_type = client.get_hit(HITId=hit_id)["HIT"]["HITTypeId"]
    assert "Destination" in refused(
        client.update_notification_settings, HITTypeId=hit_type, Notification=notification, Active=True
    )
    assert balance(client) == before

    client.approve_assignment(AssignmentId=first, RequesterFeedback="x" * 1024)
    assert balance(client) == before  # paid out of the reserve


def test_the_legacy_api_checks_the_same_lengths(server: RunningServer) -> None:
    client = legacy(server, server.requester(balance_cents=10_000))
    hit_id, worker, assignment = submitted(server, client, reward="1.00")
    before = client.ok("GetAccountBalance").root.findtext("GetAccountBalanceResult/AvailableBalance/Amount")

    long_title = client.call(
        "CreateHIT",
        {
            "Title": "x" * 129,
            "Description": "d",
            "Reward.1.Amount": "0.10",
            "Reward.1.CurrencyCode": "USD",
            "AssignmentDurationInSeconds": 600,
            "LifetimeInSeconds": 3600,
            "Question": EXTERNAL,
        },
    )
    assert long_title.error_code == "AWS.MechanicalTurk.InvalidParameterValue"
    assert "Title" in (long_title.error_message or "")
    bonus = bonus_params(worker, assignment)
    for token in ("t" * 65, "t" * 20_000):
        paid = client.call("GrantBonus", {**bonus, "UniqueRequestToken": token})
        assert paid.error_code == "AWS.MechanicalTurk.InvalidParameterValue"
    feedback = client.call("ApproveAssignment", {"AssignmentId": assignment, "RequesterFeedback": "x" * 1025})
    assert feedback.error_code == "AWS.MechanicalTurk.InvalidParameterValue"
    after = client.ok("GetAccountBalance").root.findtext("GetAccountBalanceResult/AvailableBalance/Amount")
    assert after == before
    assert client.ok("GetHIT", {"HITId": hit_id}).root.findtext("HIT/MaxAssignments") == "2"
    client.ok("GrantBonus", {**bonus, "UniqueRequestToken": "t" * 64})
