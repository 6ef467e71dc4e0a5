"""Ownership and isolation of qualification types, deletion, names and paging (real boto3, real server)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.hit_support import hit_args
from tests.qualification_support import cli, worker
from tests.support import RunningServer


def _message(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as excinfo:
        call()
    error = excinfo.value.response["Error"]
    assert error["Code"] == "RequestError"
    return str(error["Message"])


def test_another_requester_sees_an_active_type_but_is_refused_every_write(server: RunningServer) -> None:
    owner = server.client(server.requester("owner"))
    other = server.client(server.requester("other"))
    created = owner.create_qualification_type(
        Name="Owned", Description="Mine", QualificationTypeStatus="Active", Keywords="owned, zebra"
    )["QualificationType"]
    qual = created["QualificationTypeId"]
    w = worker(server, "w")
    owner.associate_qualification_with_worker(QualificationTypeId=qual, WorkerId=w, IntegerValue=5)
    request = cli(server, "worker", "request-qualification", worker(server, "asker"), qual)
    assert request["status"] == "Pending"

    seen = other.get_qualification_type(QualificationTypeId=qual)["QualificationType"]
    assert seen["Name"] == "Owned"
    assert "AnswerKey" not in seen
    found = other.list_qualification_types(MustBeRequestable=True, Query="ZEBRA")["QualificationTypes"]
    assert [t["QualificationTypeId"] for t in found] == [qual]
    assert (
        other.list_qualification_types(MustBeRequestable=True, MustBeOwnedByCaller=True)["QualificationTypes"]
        == []
    )

    writes: list[Callable[[], Any]] = [
        lambda: other.update_qualification_type(QualificationTypeId=qual, Description="stolen"),
        lambda: other.delete_qualification_type(QualificationTypeId=qual),
        lambda: other.associate_qualification_with_worker(
            QualificationTypeId=qual, WorkerId=w, IntegerValue=9
        ),
        lambda: other.disassociate_qualification_from_worker(
            QualificationTypeId=qual, WorkerId=w, Reason="x"
        ),
        lambda: other.get_qualification_score(QualificationTypeId=qual, WorkerId=w),
        lambda: other.list_workers_with_qualification_type(QualificationTypeId=qual),
        lambda: other.list_qualification_requests(QualificationTypeId=qual),
    ]
    for write in writes:
        assert "only its owner" in _message(write)
    for call in (
        lambda: other.accept_qualification_request(
            QualificationRequestId=request["qualification_request_id"]
        ),
        lambda: other.reject_qualification_request(
            QualificationRequestId=request["qualification_request_id"]
        ),
    ):
        assert "does not exist" in _message(call)
    assert other.list_qualification_requests()["QualificationRequests"] == []
    # Nothing changed.
    assert (
        owner.get_qualification_score(QualificationTypeId=qual, WorkerId=w)["Qualification"]["IntegerValue"]
        == 5
    )
    assert (
        owner.get_qualification_type(QualificationTypeId=qual)["QualificationType"]["Description"] == "Mine"
    )
    assert len(owner.list_qualification_requests(QualificationTypeId=qual)["QualificationRequests"]) == 1

    # An Inactive type disappears for everyone but its owner.
    owner.update_qualification_type(QualificationTypeId=qual, QualificationTypeStatus="Inactive")
    assert "does not exist" in _message(lambda: other.get_qualification_type(QualificationTypeId=qual))
    assert "is Inactive" in _message(
        lambda: owner.create_hit(
            **hit_args(QualificationRequirements=[{"QualificationTypeId": qual, "Comparator": "Exists"}])
        )
    )


def test_names_are_unique_per_requester_and_freed_by_deletion(server: RunningServer) -> None:
    first = server.client(server.requester("names-1"))
    second = server.client(server.requester("names-2"))
    args = {"Name": "Same name", "Description": "d", "QualificationTypeStatus": "Active"}
    qual = first.create_qualification_type(**args)["QualificationType"]["QualificationTypeId"]
    assert "already created a QualificationType with this name" in _message(
        lambda: first.create_qualification_type(**args)
    )
    second.create_qualification_type(**args)  # another requester may use the name
    first.delete_qualification_type(QualificationTypeId=qual)
    assert first.create_qualification_type(**args)["QualificationType"]["QualificationTypeId"] != qual


def test_deleting_a_type_used_by_a_hit(server: RunningServer) -> None:
    client = server.client(server.requester("deleter"))
    qual = client.create_qualification_type(
        Name="Short lived", Description="d", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    w = worker(server, "holder")
    client.associate_qualification_with_worker(QualificationTypeId=qual, WorkerId=w, IntegerValue=1)
    pending = worker(server, "pending")
    cli(server, "worker", "request-qualification", pending, qual)
    requirement = {"QualificationTypeId": qual, "Comparator": "EqualTo", "IntegerValues": [1]}
    hit = client.create_hit(**hit_args(QualificationRequirements=[requirement], MaxAssignments=1))["HIT"]

    client.delete_qualification_type(QualificationTypeId=qual)
    assert client.get_qualification_type(QualificationTypeId=qual)["QualificationType"][
        "QualificationTypeStatus"
    ] == ("Disposing")
    assert client.list_qualification_requests()["QualificationRequests"] == []  # the pending one was rejected
    assert "does not exist" in _message(
        lambda: client.create_hit(**hit_args(QualificationRequirements=[requirement]))
    )
    assert "does not exist" in _message(
        lambda: client.create_hit_with_hit_type(
            HITTypeId=hit["HITTypeId"], LifetimeInSeconds=600, Question=hit["Question"]
        )
    )
    assert "does not exist" in _message(
        lambda: client.associate_qualification_with_worker(QualificationTypeId=qual, WorkerId=w)
    )
    # Nor may a HIT move to the type that requires it (and nothing is re-priced).
    other = client.create_hit(**hit_args(Reward="0.10"))["HIT"]
    balance = client.get_account_balance()["AvailableBalance"]
    assert "does not exist" in _message(
        lambda: client.update_hit_type_of_hit(HITId=other["HITId"], HITTypeId=hit["HITTypeId"])
    )
    assert client.get_hit(HITId=other["HITId"])["HIT"]["HITTypeId"] == other["HITTypeId"]
    assert client.get_account_balance()["AvailableBalance"] == balance
    # The worker keeps the Qualification, and the live HIT still applies it.
    assignment = cli(server, "worker", "accept", hit["HITId"], "--worker", w)["assignment_id"]
    cli(server, "worker", "submit", assignment, "--answer", "label=cat")
    client.approve_assignment(AssignmentId=assignment)
    client.delete_hit(HITId=hit["HITId"])
    assert client.get_qualification_type(QualificationTypeId=qual)["QualificationType"][
        "QualificationTypeStatus"
    ] == ("Disposed")


def test_list_workers_pages_exactly(server: RunningServer) -> None:
    client = server.client(server.requester("pager"))
    qual = client.create_qualification_type(Name="Paged", Description="d", QualificationTypeStatus="Active")[
        "QualificationType"
    ]["QualificationTypeId"]
    workers = [worker(server, f"p{i}") for i in range(5)]
    for n, w in enumerate(workers):
        client.associate_qualification_with_worker(QualificationTypeId=qual, WorkerId=w, IntegerValue=n)
    client.disassociate_qualification_from_worker(QualificationTypeId=qual, WorkerId=workers[0], Reason="bye")
    seen: list[str] = []
    token: str | None = None
    while True:
        page = client.list_workers_with_qualification_type(
            QualificationTypeId=qual, MaxResults=2, **({"NextToken": token} if token else {})
        )
        seen += [q["WorkerId"] for q in page["Qualifications"]]
        if not page["Qualifications"]:
            assert "NextToken" not in page
            break
        token = page["NextToken"]
    assert seen == workers[1:]
    revoked = client.list_workers_with_qualification_type(QualificationTypeId=qual, Status="Revoked")
    assert [(q["WorkerId"], q["Status"]) for q in revoked["Qualifications"]] == [(workers[0], "Revoked")]
    # Granting again keeps the worker's place in the listing.
    client.associate_qualification_with_worker(QualificationTypeId=qual, WorkerId=workers[0], IntegerValue=9)
    again = client.list_workers_with_qualification_type(QualificationTypeId=qual, MaxResults=100)
    assert [q["WorkerId"] for q in again["Qualifications"]] == workers


def test_another_requesters_inactive_type_is_one_that_does_not_exist(server: RunningServer) -> None:
    """Inactive, a type is its owner's alone (GetQualificationType hides it): requiring it in a HIT gets
    the refusal of a type that does not exist, not one that says it is Inactive."""
    owner = server.client(server.requester("owner"))
    other = server.client(server.requester("other"))
    hidden = owner.create_qualification_type(
        Name="A secret project", Description="Mine", QualificationTypeStatus="Inactive"
    )["QualificationType"]["QualificationTypeId"]
    made_up = "3" + "Z" * 29

    def require(client: Any, type_id: str) -> str:
        requirement = [{"QualificationTypeId": type_id, "Comparator": "Exists"}]
        return _message(lambda: client.create_hit(**hit_args(QualificationRequirements=requirement)))

    def unstamped(message: str) -> str:
        return re.sub(r" \(\d+\)$", "", message)  # RequestError messages end in the epoch-ms stamp

    assert unstamped(require(other, hidden)) == unstamped(require(other, made_up)).replace(made_up, hidden)
    assert "does not exist" in require(other, hidden)
    assert "is Inactive" in require(owner, hidden)  # its owner is told why
    assert other.list_hits()["NumResults"] == 0
