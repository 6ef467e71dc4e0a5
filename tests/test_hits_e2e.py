"""HITs and assignments end to end: real boto3, a real server process, the CLI as the worker side."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.hit_support import HTML, accept_and_submit, balance, cli, hit_args, new_worker
from tests.support import RunningServer


def test_create_hit_reserves_the_whole_price_at_once(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    hit = client.create_hit(**hit_args(Reward="0.33"))["HIT"]
    # 3 x (0.33 + 0.07): the fee is rounded per assignment, then multiplied.
    assert balance(client) == "98.80"
    assert hit["HITStatus"] == "Assignable"
    assert hit["Reward"] == "0.33"
    assert hit["MaxAssignments"] == 3
    assert (hit["NumberOfAssignmentsAvailable"], hit["NumberOfAssignmentsPending"]) == (3, 0)
    assert hit["HITGroupId"]
    assert hit["HITGroupId"] != hit["HITTypeId"]
    assert isinstance(hit["Expiration"], datetime)
    assert len(hit["HITId"]) == 30
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["Question"] == hit_args()["Question"]


def test_ten_or_more_assignments_pay_the_large_hit_fee(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    client.create_hit(**hit_args(Reward="1.00", MaxAssignments=10))
    assert balance(client) == "86.00"  # 10 x (1.00 + 0.40)


def test_insufficient_funds_creates_nothing(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=119))
    with pytest.raises(ClientError) as info:
        client.create_hit(**hit_args(Reward="0.33"))
    assert info.value.response["Error"]["Code"] == "RequestError"
    assert "insufficient funds" in info.value.response["Error"]["Message"]
    assert balance(client) == "1.19"
    assert client.list_hits()["NumResults"] == 0


def test_a_bad_question_is_a_request_error_and_creates_nothing(server: RunningServer) -> None:
    client = server.client(server.requester())
    with pytest.raises(ClientError) as info:
        client.create_hit(**hit_args(Question="<ExternalQuestion><oops"))
    assert info.value.response["Error"]["Code"] == "RequestError"
    assert balance(client) == "10000.00"


def test_full_life_cycle_with_two_workers(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    hit = client.create_hit(**hit_args(Reward="1.00", MaxAssignments=2, Question=HTML))["HIT"]
    assert balance(client) == "97.60"
    alice, bob = new_worker(server, "alice"), new_worker(server, "bob")
    first = accept_and_submit(server, hit["HITId"], alice, label="cat")
    second = accept_and_submit(server, hit["HITId"], bob, label="dog")

    state = client.get_hit(HITId=hit["HITId"])["HIT"]
    assert state["HITStatus"] == "Reviewable"
    assert (state["NumberOfAssignmentsPending"], state["NumberOfAssignmentsCompleted"]) == (0, 0)
    listed = client.list_assignments_for_hit(HITId=hit["HITId"], AssignmentStatuses=["Submitted"])
    assert [a["AssignmentId"] for a in listed["Assignments"]] == [first, second]
    answer = client.get_assignment(AssignmentId=first)["Assignment"]["Answer"]
    assert "<QuestionIdentifier>label</QuestionIdentifier><FreeText>cat</FreeText>" in answer

    assert set(client.approve_assignment(AssignmentId=first, RequesterFeedback="")) == {"ResponseMetadata"}
    # Approving again (as after an auto-approval) succeeds and pays nothing more.
    assert set(client.approve_assignment(AssignmentId=first)) == {"ResponseMetadata"}
    client.reject_assignment(AssignmentId=second, RequesterFeedback="Not a dog")
    assert balance(client) == "98.80"  # the rejected slot's 1.20 came back
    assert cli(server, "worker", "earnings", alice)["total"] == "1.00"
    assert cli(server, "worker", "earnings", bob)["total"] == "0.00"
    statuses = {
        a["AssignmentId"]: a["AssignmentStatus"]
        for a in client.list_assignments_for_hit(HITId=hit["HITId"])["Assignments"]
    }
    assert statuses == {first: "Approved", second: "Rejected"}
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["NumberOfAssignmentsCompleted"] == 2

    # Overriding the rejection pays bob after all, out of the requester's balance again.
    client.approve_assignment(AssignmentId=second, OverrideRejection=True)
    assert balance(client) == "97.60"
    assert cli(server, "worker", "earnings", bob)["total"] == "1.00"
    client.delete_hit(HITId=hit["HITId"])
    assert client.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Disposed"
    assert cli(server, "ledger", "audit")["ok"] is True


def test_a_rejection_is_overridden_only_within_30_days_and_while_the_hit_exists(
    server: RunningServer,
) -> None:
    """MTurk's ApproveAssignment: OverrideRejection "only works on rejected assignments that were
    submitted within the previous 30 days and only if the assignment's related HIT has not been
    deleted"; refused, it pays nothing."""
    client = server.client(server.requester(balance_cents=10_000))
    deleted, old = (
        client.create_hit(**hit_args(Reward="1.00", MaxAssignments=1, LifetimeInSeconds=86400 * 60))["HIT"][
            "HITId"
        ]
        for _ in range(2)
    )
    gone = accept_and_submit(server, deleted, new_worker(server, "w1"), label="x")
    late = accept_and_submit(server, old, new_worker(server, "w2"), label="y")
    for assignment in (gone, late):
        client.reject_assignment(AssignmentId=assignment, RequesterFeedback="no")
    client.delete_hit(HITId=deleted)
    cli(server, "clock", "advance", "31d")
    before = balance(client)
    for assignment, phrase in ((gone, "belongs to a deleted HIT"), (late, "more than 30 days ago")):
        with pytest.raises(ClientError) as info:
            client.approve_assignment(AssignmentId=assignment, OverrideRejection=True)
        assert phrase in info.value.response["Error"]["Message"]
        assert client.get_assignment(AssignmentId=assignment)["Assignment"]["AssignmentStatus"] == "Rejected"
    assert balance(client) == before
    assert cli(server, "ledger", "audit")["ok"] is True


def test_clock_drives_auto_approval_and_expiry_refunds(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    hit = client.create_hit(**hit_args(Reward="1.00", MaxAssignments=3, AutoApprovalDelayInSeconds=3600))[
        "HIT"
    ]
    worker = new_worker(server)
    assignment = accept_and_submit(server, hit["HITId"], worker, answer="yes")
    assert balance(client) == "96.40"
    cli(server, "clock", "advance", "2h")  # past auto-approval and past the HIT's one-hour lifetime
    assert client.get_assignment(AssignmentId=assignment)["Assignment"]["AssignmentStatus"] == "Approved"
    assert cli(server, "worker", "earnings", worker)["total"] == "1.00"
    state = client.get_hit(HITId=hit["HITId"])["HIT"]
    assert state["HITStatus"] == "Reviewable"
    assert balance(client) == "98.80"  # the two unused slots came back at expiry
    reviewable = client.list_reviewable_hits()["HITs"]
    assert hit["HITId"] in [h["HITId"] for h in reviewable]
    assert cli(server, "ledger", "audit")["ok"] is True


def test_expire_now_and_extend_again(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=1_000))
    hit_id = client.create_hit(**hit_args(Reward="1.00", MaxAssignments=2))["HIT"]["HITId"]
    assert balance(client) == "7.60"
    assert client.update_expiration_for_hit(
        HITId=hit_id, ExpireAt=datetime(2015, 1, 1, tzinfo=UTC)
    ).keys() == {"ResponseMetadata"}
    assert client.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Reviewable"
    assert balance(client) == "10.00"
    client.update_expiration_for_hit(HITId=hit_id, ExpireAt=datetime(2100, 1, 1, tzinfo=UTC))
    assert client.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Assignable"
    assert balance(client) == "7.60"


def test_another_requester_sees_nothing(server: RunningServer) -> None:
    owner = server.client(server.requester("owner"))
    stranger = server.client(server.requester("stranger"))
    hit_id = owner.create_hit(**hit_args())["HIT"]["HITId"]
    assignment = accept_and_submit(server, hit_id, new_worker(server), answer="x")
    calls: list[Callable[[], object]] = [
        lambda: stranger.get_hit(HITId=hit_id),
        lambda: stranger.list_assignments_for_hit(HITId=hit_id),
        lambda: stranger.get_assignment(AssignmentId=assignment),
        lambda: stranger.approve_assignment(AssignmentId=assignment),
        lambda: stranger.reject_assignment(AssignmentId=assignment, RequesterFeedback="no"),
        lambda: stranger.update_expiration_for_hit(HITId=hit_id, ExpireAt=datetime(2015, 1, 1, tzinfo=UTC)),
        lambda: stranger.delete_hit(HITId=hit_id),
    ]
    for call in calls:
        with pytest.raises(ClientError) as info:
            call()
        assert info.value.response["Error"]["Code"] == "RequestError"
        assert "does not exist" in info.value.response["Error"]["Message"]
    assert stranger.list_hits()["NumResults"] == 0
    assert owner.get_assignment(AssignmentId=assignment)["Assignment"]["AssignmentStatus"] == "Submitted"


def test_paging_through_250_hits_is_complete_and_stable(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=100_000))
    created = [
        client.create_hit(**hit_args(Reward="0.00", MaxAssignments=1))["HIT"]["HITId"] for _ in range(250)
    ]
    seen: list[str] = []
    token = None
    while True:
        page = client.list_hits(MaxResults=100, **({"NextToken": token} if token else {}))
        if not page["HITs"]:
            assert "NextToken" not in page
            break
        seen += [h["HITId"] for h in page["HITs"]]
        token = page["NextToken"]
        if len(seen) == 100:  # rows added mid-way come after, never shift a page
            created.append(client.create_hit(**hit_args(Reward="0.00"))["HIT"]["HITId"])
    assert seen == created
    paginated = [h["HITId"] for p in client.get_paginator("list_hits").paginate() for h in p["HITs"]]
    assert paginated == created
