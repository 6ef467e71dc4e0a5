"""Qualifications end to end: real boto3 against a real server, workers driven through the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.hit_support import hit_args
from tests.qualification_support import ANSWER_KEY, HALF_RIGHT, RIGHT, TEST, cli, cli_error, worker
from tests.support import RunningServer, start_server

APPROVAL_RATE = "000000000000000000L0"
HITS_APPROVED = "00000000000000000040"
LOCALE = "00000000000000000071"
MASTERS = "2F1QJWKUDD8XADTFD2Q0G6UTO95ALH"
SANDBOX_MASTERS = "2ARFPLSP75KLA8M8DH1HTEQVJT3SY6"


@pytest.fixture
def own_server(db_url: str) -> Iterator[RunningServer]:
    """A server of its own: these tests move the marketplace clock."""
    running = start_server(db_url)
    yield running
    running.stop()


def _empty(response: dict[str, Any]) -> bool:
    response.pop("ResponseMetadata", None)
    return response == {}


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def _test_type(client: Any, name: str = "French and sums", **extra: Any) -> str:
    created = client.create_qualification_type(
        Name=name,
        Description="A short test",
        Keywords="test, french",
        QualificationTypeStatus="Active",
        Test=TEST,
        AnswerKey=ANSWER_KEY,
        TestDurationInSeconds=600,
        RetryDelayInSeconds=3600,
        **extra,
    )
    return str(created["QualificationType"]["QualificationTypeId"])


def test_test_qualification_approval_rate_and_locale_guard_a_hit(own_server: RunningServer) -> None:
    server = own_server
    client = server.client(server.requester("lab"))
    qual = _test_type(client)
    shown = client.get_qualification_type(QualificationTypeId=qual)["QualificationType"]
    assert shown["AnswerKey"] == ANSWER_KEY
    assert shown["Test"] == TEST
    assert shown["IsRequestable"] is True
    requirements = [
        {"QualificationTypeId": qual, "Comparator": "GreaterThanOrEqualTo", "IntegerValues": [100]},
        {"QualificationTypeId": APPROVAL_RATE, "Comparator": "GreaterThanOrEqualTo", "IntegerValues": [95]},
        {
            "QualificationTypeId": LOCALE,
            "Comparator": "In",
            "LocaleValues": [{"Country": "US", "Subdivision": "CA"}, {"Country": "GB"}],
            "ActionsGuarded": "DiscoverPreviewAndAccept",
        },
    ]
    hit = client.create_hit(**hit_args(QualificationRequirements=requirements, LifetimeInSeconds=86400))[
        "HIT"
    ]
    assert hit["QualificationRequirements"] == requirements
    listed = client.list_hits_for_qualification_type(QualificationTypeId=qual)
    assert [h["HITId"] for h in listed["HITs"]] == [hit["HITId"]]

    alice = worker(server, "alice", "--country", "US", "--subdivision", "CA")
    # Fails the test (one answer of two: 50%), cannot accept, and cannot retry before the delay.
    first = cli(server, "worker", "request-qualification", alice, qual, *HALF_RIGHT)
    assert (first["status"], first["value"]) == ("Granted", 50)
    refused = cli_error(server, "worker", "accept", hit["HITId"], "--worker", alice)
    assert "does not meet the QualificationRequirements" in refused
    assert "the worker's value is 50" in refused
    listing = cli(server, "worker", "hits", alice)["hits"]
    assert [(h["hit_id"], h["can_preview"], h["can_accept"]) for h in listing] == [
        (hit["HITId"], True, False)
    ]
    assert "again after" in cli_error(server, "worker", "request-qualification", alice, qual, *RIGHT)
    cli(server, "clock", "advance", "3601s")
    second = cli(server, "worker", "request-qualification", alice, qual, *RIGHT)
    assert (second["status"], second["value"]) == ("Granted", 100)
    score = client.get_qualification_score(QualificationTypeId=qual, WorkerId=alice)["Qualification"]
    assert (score["IntegerValue"], score["Status"], score["WorkerId"]) == (100, "Granted", alice)
    accepted = cli(server, "worker", "accept", hit["HITId"], "--worker", alice)
    assert accepted["hit_id"] == hit["HITId"]

    # Passes the test but lives in France: the HIT is not even listed, and accepting is refused.
    pierre = worker(server, "pierre", "--country", "FR")
    assert cli(server, "worker", "request-qualification", pierre, qual, *RIGHT)["value"] == 100
    assert cli(server, "worker", "hits", pierre)["hits"] == []
    refused = cli_error(server, "worker", "accept", hit["HITId"], "--worker", pierre)
    assert "Worker_Locale" in refused
    assert "locale is FR" in refused
    assert "to preview" in cli_error(server, "worker", "preview", hit["HITId"], "--worker", pierre)

    # Passes the test in California, but an approval rate pinned at 80 keeps them out.
    bob = worker(server, "bob", "--country", "us", "--subdivision", "ca")
    assert cli(server, "worker", "request-qualification", bob, qual, *RIGHT)["value"] == 100
    held = cli(server, "worker", "set", bob, "--approval-rate", "80")["qualifications"]
    assert {"qualification_type_id": APPROVAL_RATE, "value": "80", "source": "setting"}.items() <= next(
        q for q in held if q["qualification_type_id"] == APPROVAL_RATE
    ).items()
    refused = cli_error(server, "worker", "accept", hit["HITId"], "--worker", bob)
    assert "Worker_PercentAssignmentsApproved" in refused
    assert "value is 80" in refused
    cli(server, "worker", "set", bob, "--approval-rate", "auto")
    assert cli(server, "worker", "accept", hit["HITId"], "--worker", bob)["worker_id"] == bob

    workers = client.list_workers_with_qualification_type(QualificationTypeId=qual)["Qualifications"]
    assert {(q["WorkerId"], q["IntegerValue"]) for q in workers} == {(alice, 100), (pierre, 100), (bob, 100)}
    # Graded at once: nothing waits for the owner.
    assert client.list_qualification_requests(QualificationTypeId=qual)["QualificationRequests"] == []


def test_manual_requests_auto_grant_and_no_retry(own_server: RunningServer) -> None:
    server = own_server
    client = server.client(server.requester("lab"))
    manual = client.create_qualification_type(
        Name="Interview", Description="We look at you", QualificationTypeStatus="Active"
    )["QualificationType"]
    assert "RetryDelayInSeconds" not in manual
    assert manual["AutoGranted"] is False
    auto = client.create_qualification_type(
        Name="Everyone",
        Description="Free",
        QualificationTypeStatus="Active",
        AutoGranted=True,
        AutoGrantedValue=7,
    )["QualificationType"]["QualificationTypeId"]
    carol = worker(server, "carol")
    dave = worker(server, "dave")

    assert cli(server, "worker", "request-qualification", carol, auto)["value"] == 7
    assert "does not allow retries" in cli_error(server, "worker", "request-qualification", carol, auto)

    for who in (carol, dave):
        assert (
            cli(server, "worker", "request-qualification", who, manual["QualificationTypeId"])["status"]
            == "Pending"
        )
    assert "pending request" in cli_error(
        server, "worker", "request-qualification", carol, manual["QualificationTypeId"]
    )
    first = client.list_qualification_requests(MaxResults=1)
    assert first["NumResults"] == 1
    assert first["NextToken"]
    second = client.list_qualification_requests(MaxResults=1, NextToken=first["NextToken"])
    requests = first["QualificationRequests"] + second["QualificationRequests"]
    assert [r["WorkerId"] for r in requests] == [carol, dave]
    assert (
        client.list_qualification_requests(MaxResults=1, NextToken=second["NextToken"])[
            "QualificationRequests"
        ]
        == []
    )
    first_id, second_id = (r["QualificationRequestId"] for r in requests)
    assert _empty(client.accept_qualification_request(QualificationRequestId=first_id, IntegerValue=3))
    assert _empty(client.reject_qualification_request(QualificationRequestId=second_id, Reason="no"))
    with pytest.raises(ClientError) as excinfo:
        client.accept_qualification_request(QualificationRequestId=requests[1]["QualificationRequestId"])
    assert "has already been rejected" in _error(excinfo)[1]
    assert (
        client.get_qualification_score(QualificationTypeId=manual["QualificationTypeId"], WorkerId=carol)[
            "Qualification"
        ]["IntegerValue"]
        == 3
    )
    with pytest.raises(ClientError) as excinfo:
        client.get_qualification_score(QualificationTypeId=manual["QualificationTypeId"], WorkerId=dave)
    code, message = _error(excinfo)
    assert code == "RequestError"
    assert "does not exist" in message
    mine = cli(server, "worker", "qualifications", carol)["qualifications"]
    assert {(q["qualification_type_id"], q["value"]) for q in mine} >= {
        (auto, "7"),
        (manual["QualificationTypeId"], "3"),
        (APPROVAL_RATE, "100"),
        (HITS_APPROVED, "0"),
        (LOCALE, "US"),
    }


def test_system_types_are_listed_and_masters_granted_by_an_admin(server: RunningServer) -> None:
    client = server.client(server.requester("sys"))
    system = client.list_qualification_types(MustBeRequestable=False, MaxResults=100)["QualificationTypes"]
    by_id = {t["QualificationTypeId"]: t for t in system}
    for type_id in (APPROVAL_RATE, HITS_APPROVED, LOCALE, MASTERS, SANDBOX_MASTERS):
        assert by_id[type_id]["IsRequestable"] is False
        assert by_id[type_id]["QualificationTypeStatus"] == "Active"
    assert by_id[MASTERS]["Name"] == "Masters"
    requestable = client.list_qualification_types(MustBeRequestable=True, MaxResults=100)[
        "QualificationTypes"
    ]
    system_ids = {APPROVAL_RATE, HITS_APPROVED, LOCALE, MASTERS, SANDBOX_MASTERS, "00000000000000000060"}
    assert all(t["IsRequestable"] for t in requestable)
    assert not {t["QualificationTypeId"] for t in requestable} & system_ids
    writes: list[Callable[[], Any]] = [
        lambda: client.associate_qualification_with_worker(
            QualificationTypeId=MASTERS, WorkerId="A1", IntegerValue=1
        ),
        lambda: client.delete_qualification_type(QualificationTypeId=APPROVAL_RATE),
        lambda: client.update_qualification_type(QualificationTypeId=LOCALE, Description="mine now"),
    ]
    for write in writes:
        with pytest.raises(ClientError) as excinfo:
            write()
        assert "only its owner" in _error(excinfo)[1]

    hit = client.create_hit(
        **hit_args(
            QualificationRequirements=[
                {"QualificationTypeId": SANDBOX_MASTERS, "Comparator": "Exists", "ActionsGuarded": "Accept"}
            ]
        )
    )["HIT"]
    erin = worker(server, "erin")
    assert "has no such Qualification" in cli_error(
        server, "worker", "accept", hit["HITId"], "--worker", erin
    )
    cli(server, "worker", "grant-masters", erin, "--sandbox")
    assert cli(server, "worker", "accept", hit["HITId"], "--worker", erin)["worker_id"] == erin


def test_requirements_are_checked_when_a_hit_is_created(server: RunningServer) -> None:
    client = server.client(server.requester("strict"))
    bad = [
        ({"QualificationTypeId": "3NOSUCHTYPE", "Comparator": "Exists"}, "does not exist"),
        ({"QualificationTypeId": APPROVAL_RATE, "Comparator": "GreaterThan"}, "needs IntegerValues"),
        (
            {"QualificationTypeId": APPROVAL_RATE, "Comparator": "GreaterThan", "IntegerValues": [1, 2]},
            "exactly one IntegerValue",
        ),
        (
            {"QualificationTypeId": LOCALE, "Comparator": "GreaterThan", "LocaleValues": [{"Country": "US"}]},
            "EqualTo, NotEqualTo, In and NotIn",
        ),
        ({"QualificationTypeId": LOCALE, "Comparator": "EqualTo", "IntegerValues": [1]}, "LocaleValues only"),
        (
            {"QualificationTypeId": MASTERS, "Comparator": "Exists", "IntegerValues": [1]},
            "must not be present",
        ),
    ]
    for requirement, expected in bad:
        with pytest.raises(ClientError) as excinfo:
            client.create_hit(**hit_args(QualificationRequirements=[requirement]))
        assert expected in _error(excinfo)[1], requirement
    with pytest.raises(ClientError) as excinfo:
        client.create_hit(
            **hit_args(
                QualificationRequirements=[{"QualificationTypeId": MASTERS, "Comparator": "Exists"}] * 11
            )
        )
    assert "at most 10" in _error(excinfo)[1]


@pytest.mark.parametrize(
    ("comparator", "left"), [("Exists", "98.11"), ("DoesNotExist", "98.20"), ("NotEqualTo", "98.20")]
)
def test_the_masters_fee_is_paid_for_requiring_masters_not_for_keeping_them_out(
    server: RunningServer, comparator: str, left: str
) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    requirement: dict[str, object] = {"QualificationTypeId": MASTERS, "Comparator": comparator}
    if comparator == "NotEqualTo":
        requirement["IntegerValues"] = [1]
    client.create_hit(**hit_args(QualificationRequirements=[requirement]))
    # 100.00 - 3 x (0.50 + 25% or 20%, half-up per assignment: 0.13 or 0.10)
    assert client.get_account_balance()["AvailableBalance"] == left


def test_an_auto_granted_type_keeps_its_value_and_takes_no_test(server: RunningServer) -> None:
    """UpdateQualificationType: a parameter left out leaves its attribute as it was (an AutoGrantedValue
    of 0 too), and "a Qualification type cannot have both a specified Test parameter and an AutoGranted
    value of true", whether AutoGranted comes with the update or was set before."""
    client = server.client(server.requester())
    auto = client.create_qualification_type(
        Name="Everyone, at zero",
        Description="d",
        QualificationTypeStatus="Active",
        AutoGranted=True,
        AutoGrantedValue=0,
    )["QualificationType"]["QualificationTypeId"]
    updated = client.update_qualification_type(QualificationTypeId=auto, AutoGranted=True)[
        "QualificationType"
    ]
    assert (updated["AutoGranted"], updated["AutoGrantedValue"]) == (True, 0)
    with pytest.raises(ClientError) as excinfo:
        client.update_qualification_type(
            QualificationTypeId=auto, Test=TEST, AnswerKey=ANSWER_KEY, TestDurationInSeconds=60
        )
    assert "cannot be given a Test" in _error(excinfo)[1]
    kept = client.get_qualification_type(QualificationTypeId=auto)["QualificationType"]
    assert "Test" not in kept
    assert (kept["AutoGranted"], kept["AutoGrantedValue"]) == (True, 0)
    with pytest.raises(ClientError) as excinfo:
        client.create_qualification_type(
            Name="Never again", Description="d", QualificationTypeStatus="Active", RetryDelayInSeconds=10**15
        )
    assert "RetryDelayInSeconds must be from 0" in _error(excinfo)[1]


def test_a_rejected_request_and_a_revocation_tell_the_worker_why(server: RunningServer) -> None:
    """RejectQualificationRequest: "The Worker who made the request can see this message";
    DisassociateQualificationFromWorker: "The user who had the Qualification sees this message"."""
    client = server.client(server.requester("lab"))
    manual = client.create_qualification_type(
        Name="Interview", Description="We look at you", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    asker, holder, quiet = worker(server, "asker"), worker(server, "holder"), worker(server, "quiet")
    request = cli(server, "worker", "request-qualification", asker, manual)
    client.reject_qualification_request(
        QualificationRequestId=request["qualification_request_id"], Reason="Not this time."
    )
    client.associate_qualification_with_worker(
        QualificationTypeId=manual, WorkerId=holder, IntegerValue=1, SendNotification=False
    )
    client.disassociate_qualification_from_worker(
        QualificationTypeId=manual, WorkerId=holder, Reason="Too slow."
    )
    client.associate_qualification_with_worker(
        QualificationTypeId=manual, WorkerId=quiet, IntegerValue=1, SendNotification=False
    )
    client.disassociate_qualification_from_worker(QualificationTypeId=manual, WorkerId=quiet)  # no reason
    inbox = {
        w: [(m["subject"], m["message"]) for m in cli(server, "worker", "messages", w)["messages"]]
        for w in (asker, holder, quiet)
    }
    assert inbox == {
        asker: [("Qualification request rejected: Interview", "Not this time.")],
        holder: [("Qualification revoked: Interview", "Too slow.")],
        quiet: [],
    }
