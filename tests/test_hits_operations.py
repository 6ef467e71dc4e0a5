"""The remaining HIT operations and the worker side's refusals, through real boto3 and the real CLI."""

from __future__ import annotations

from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from tests.hit_support import accept_and_submit, balance, cli, hit_args, new_worker
from tests.support import RunningServer, run_cli


def refused(server: RunningServer, *args: str) -> str:
    result = run_cli(*args, "--json", "--db", server.db_url, check=False)
    assert result.returncode == 1, result.stdout
    message: str = __import__("json").loads(result.stdout)["error"]
    return message


def test_register_the_same_hit_type_twice_gives_the_same_id(server: RunningServer) -> None:
    client = server.client(server.requester())
    args = {"Title": "t", "Description": "d", "Reward": "0.10", "AssignmentDurationInSeconds": 300}
    first = client.create_hit_type(**args)["HITTypeId"]
    assert client.create_hit_type(**args)["HITTypeId"] == first
    assert client.create_hit_type(**{**args, "Reward": "0.11"})["HITTypeId"] != first
    hit = client.create_hit_with_hit_type(
        HITTypeId=first, LifetimeInSeconds=600, Question=hit_args()["Question"]
    )
    assert hit["HIT"]["HITTypeId"] == first
    assert hit["HIT"]["Reward"] == "0.10"


def test_a_worker_cannot_take_a_hit_twice_nor_a_full_or_expired_one(server: RunningServer) -> None:
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(MaxAssignments=1))["HIT"]["HITId"]
    alice, bob = new_worker(server), new_worker(server)
    assignment = cli(server, "worker", "accept", hit_id, "--worker", alice)["assignment_id"]
    assert "has no assignments available" in refused(server, "worker", "accept", hit_id, "--worker", bob)
    assert client.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Unassignable"
    # Returned, the slot is free again: for bob, and for alice too.
    assert cli(server, "worker", "return", assignment)["status"] == "Returned"
    assert client.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Assignable"
    again = cli(server, "worker", "accept", hit_id, "--worker", alice)["assignment_id"]
    assert "already accepted" in refused(server, "worker", "accept", hit_id, "--worker", alice)
    cli(server, "worker", "submit", again, "--answer", "a=1")
    assert "This operation can be called with a status of: Accepted" in refused(
        server, "worker", "submit", again, "--answer", "a=2"
    )
    expired = client.create_hit(**hit_args(LifetimeInSeconds=60))["HIT"]["HITId"]
    cli(server, "clock", "advance", "61s")
    assert "has expired" in refused(server, "worker", "accept", expired, "--worker", bob)
    assert "does not exist" in refused(server, "worker", "accept", expired, "--worker", "ANOSUCHWORKER1")


def test_an_abandoned_assignment_frees_its_slot(server: RunningServer) -> None:
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(MaxAssignments=1, AssignmentDurationInSeconds=60))["HIT"]["HITId"]
    assignment = cli(server, "worker", "accept", hit_id, "--worker", new_worker(server))["assignment_id"]
    cli(server, "clock", "advance", "61s")
    assert "This operation can be called with a status of: Accepted" in refused(
        server, "worker", "submit", assignment, "--answer", "a=1"
    )
    hit = client.get_hit(HITId=hit_id)["HIT"]
    assert (hit["HITStatus"], hit["NumberOfAssignmentsAvailable"], hit["NumberOfAssignmentsPending"]) == (
        "Assignable",
        1,
        0,
    )


def test_review_status_additional_assignments_and_type_change(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    hit = client.create_hit(**hit_args(Reward="1.00", MaxAssignments=1))["HIT"]
    assert balance(client) == "98.80"
    with pytest.raises(ClientError) as info:
        client.update_hit_review_status(HITId=hit["HITId"])
    assert (
        "This operation can be called with a status of: Reviewable" in info.value.response["Error"]["Message"]
    )

    client.create_additional_assignments_for_hit(HITId=hit["HITId"], NumberOfAdditionalAssignments=2)
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["MaxAssignments"] == 3
    assert balance(client) == "96.40"
    with pytest.raises(ClientError) as info:
        client.create_additional_assignments_for_hit(HITId=hit["HITId"], NumberOfAdditionalAssignments=7)
    assert "fewer than 10 assignments" in info.value.response["Error"]["Message"]
    # The operation's documented error for it.
    assert info.value.response["TurkErrorCode"] == "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease"
    assert balance(client) == "96.40"

    cheaper = client.create_hit_type(
        Title="t", Description="d", Reward="0.50", AssignmentDurationInSeconds=300
    )
    client.update_hit_type_of_hit(HITId=hit["HITId"], HITTypeId=cheaper["HITTypeId"])
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["Reward"] == "0.50"
    assert balance(client) == "98.20"  # three slots re-priced from 1.20 to 0.60

    for worker in (new_worker(server), new_worker(server), new_worker(server)):
        accept_and_submit(server, hit["HITId"], worker, a="1")
    client.update_hit_review_status(HITId=hit["HITId"], Revert=False)
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewing"
    reviewing = client.list_reviewable_hits(Status="Reviewing")["HITs"]
    assert [h["HITId"] for h in reviewing] == [hit["HITId"]]
    client.update_hit_review_status(HITId=hit["HITId"], Revert=True)
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewable"

    with pytest.raises(ClientError) as info:
        client.delete_hit(HITId=hit["HITId"])  # three submitted assignments are not reviewed yet
    assert (
        "This operation can be called with a status of: Reviewable" in info.value.response["Error"]["Message"]
    )
    for a in client.list_assignments_for_hit(HITId=hit["HITId"])["Assignments"]:
        client.approve_assignment(AssignmentId=a["AssignmentId"])
    client.delete_hit(HITId=hit["HITId"])
    assert hit["HITId"] not in [h["HITId"] for h in client.list_hits()["HITs"]]
    assert balance(client) == "98.20"
    assert cli(server, "ledger", "audit")["ok"] is True


def test_bad_numbers_and_tokens_are_refused_before_any_money_moves(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    for bad in (
        {"LifetimeInSeconds": 5},
        {"AssignmentDurationInSeconds": 10},
        {"AutoApprovalDelayInSeconds": 2592001},
    ):
        with pytest.raises(ClientError) as info:
            client.create_hit(**hit_args(**bad))
        assert "is not valid for" in info.value.response["Error"]["Message"]
    first = client.create_hit(**hit_args(UniqueRequestToken="study-1"))
    with pytest.raises(ClientError) as info:
        client.create_hit(**hit_args(UniqueRequestToken="study-1"))
    assert first["ResponseMetadata"]["RequestId"] in info.value.response["Error"]["Message"]
    assert client.list_hits()["NumResults"] == 1
    with pytest.raises(ClientError) as info:
        client.list_hits(NextToken="forged.token")
    assert "NextToken" in info.value.response["Error"]["Message"]


def test_extending_a_reviewing_hit_puts_it_back_on_the_market(server: RunningServer) -> None:
    """ListReviewableHITs' documentation: a HIT leaves Reviewable and Reviewing by being extended,
    "so assignments are once again available on the marketplace"."""
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(MaxAssignments=1))["HIT"]["HITId"]
    accept_and_submit(server, hit_id, new_worker(server), a="1")
    client.update_hit_review_status(HITId=hit_id)
    # A later expiry alone frees no assignment: the HIT stays where its requester put it.
    client.update_expiration_for_hit(HITId=hit_id, ExpireAt=datetime(2099, 1, 1))
    assert client.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Reviewing"

    client.create_additional_assignments_for_hit(HITId=hit_id, NumberOfAdditionalAssignments=1)
    hit = client.get_hit(HITId=hit_id)["HIT"]
    assert (hit["HITStatus"], hit["NumberOfAssignmentsAvailable"]) == ("Assignable", 1)
    assert client.list_reviewable_hits(Status="Reviewing")["HITs"] == []
    accept_and_submit(server, hit_id, new_worker(server), a="2")
    # Done again, it is Reviewable (the requester marks it Reviewing anew if they want to).
    assert client.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Reviewable"

    # Expired with an assignment unused, then Reviewing: a later expiry puts that assignment back.
    expired = client.create_hit(**hit_args(MaxAssignments=2, LifetimeInSeconds=60))["HIT"]["HITId"]
    accept_and_submit(server, expired, new_worker(server), a="1")
    cli(server, "clock", "advance", "61s")
    client.update_hit_review_status(HITId=expired)
    assert client.get_hit(HITId=expired)["HIT"]["HITStatus"] == "Reviewing"
    client.update_expiration_for_hit(HITId=expired, ExpireAt=datetime(2099, 1, 1))
    hit = client.get_hit(HITId=expired)["HIT"]
    assert (hit["HITStatus"], hit["NumberOfAssignmentsAvailable"]) == ("Assignable", 1)
