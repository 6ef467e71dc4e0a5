"""The legacy qualification, worker and notification operations refuse bad requests with legacy errors,
change nothing when they do, and never let one requester touch another's types, workers' scores or
settings.  The happy paths are in test_boto2_qualifications.py (boto 2's own client)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hit_support import new_worker
from tests.legacy_client import LegacyClient
from tests.support import RunningServer
from tests.test_legacy_api import legacy
from tests.test_legacy_flow import hit_params

MT = "AWS.MechanicalTurk."
INVALID, MISSING, RANGE = MT + "InvalidParameterValue", "AWS.MissingParameters", "AWS.ParameterOutOfRange"
NO_TYPE = "3NOSUCHTYPE"


def _type(client: LegacyClient, name: str, **extra: Any) -> str:
    params = {"Name": name, "Description": "A type", "QualificationTypeStatus": "Active", **extra}
    type_id = client.ok("CreateQualificationType", params).root.findtext(
        "QualificationType/QualificationTypeId"
    )
    assert type_id
    return type_id


def _refused(client: LegacyClient, operation: str, params: dict[str, Any], code: str) -> str:
    response = client.call(operation, params)
    assert response.status == 200, response.text
    assert not response.valid, response.text
    assert response.error_code == code, response.text
    return str(response.error_message)


def test_another_requesters_type_is_out_of_reach(server: RunningServer) -> None:
    owner, other = server.requester("owner"), server.requester("other")
    mine, theirs = legacy(server, owner), legacy(server, other)
    type_id = _type(mine, "Owner's trusted workers")
    worker = new_worker(server, "ann")
    mine.ok("AssignQualification", {"QualificationTypeId": type_id, "WorkerId": worker, "IntegerValue": 7})
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("AssignQualification", {"QualificationTypeId": type_id, "WorkerId": worker, "IntegerValue": 99}),
        (
            "UpdateQualificationScore",
            {"QualificationTypeId": type_id, "SubjectId": worker, "IntegerValue": 99},
        ),
        ("RevokeQualification", {"QualificationTypeId": type_id, "SubjectId": worker}),
        ("GetQualificationScore", {"QualificationTypeId": type_id, "SubjectId": worker}),
        ("GetQualificationsForQualificationType", {"QualificationTypeId": type_id}),
        ("GetQualificationRequests", {"QualificationTypeId": type_id}),
        ("UpdateQualificationType", {"QualificationTypeId": type_id, "Description": "Mine now"}),
        ("DisposeQualificationType", {"QualificationTypeId": type_id}),
    ]
    for operation, params in attempts:
        refused = theirs.call(operation, params)
        assert refused.error_code == MT + "PermissionDenied", (operation, refused.text)
    score = mine.ok("GetQualificationScore", {"QualificationTypeId": type_id, "SubjectId": worker})
    assert score.root.findtext("Qualification/IntegerValue") == "7"
    assert score.root.findtext("Qualification/Status") == "Granted"
    fetched = mine.ok("GetQualificationType", {"QualificationTypeId": type_id}).root
    assert fetched.findtext("QualificationType/Description") == "A type"
    assert fetched.findtext("QualificationType/QualificationTypeStatus") == "Active"
    # An active type is public, as on MTurk: another requester reads it, and sees only their own HITs
    # that require it.
    public = theirs.ok("GetQualificationType", {"QualificationTypeId": type_id}).root
    assert public.findtext("QualificationType/Name") == "Owner's trusted workers"
    requirement = {
        "QualificationRequirement.1.QualificationTypeId": type_id,
        "QualificationRequirement.1.Comparator": "Exists",
    }
    mine.ok("CreateHIT", hit_params(**requirement))
    listed = theirs.ok("GetHITsForQualificationType", {"QualificationTypeId": type_id})
    assert listed.root.findtext("GetHITsForQualificationTypeResult/TotalNumResults") == "0"
    # An inactive one is the owner's alone.
    mine.ok(
        "UpdateQualificationType", {"QualificationTypeId": type_id, "QualificationTypeStatus": "Inactive"}
    )
    for operation in ("GetQualificationType", "GetHITsForQualificationType"):
        hidden = theirs.call(operation, {"QualificationTypeId": type_id})
        assert hidden.error_code == MT + "QualificationTypeDoesNotExist", (operation, hidden.text)
    owned = mine.ok("GetHITsForQualificationType", {"QualificationTypeId": type_id})
    assert owned.root.findtext("GetHITsForQualificationTypeResult/TotalNumResults") == "1"


@pytest.mark.parametrize(
    ("operation", "params", "code"),
    [
        ("CreateQualificationType", {"Description": "d", "QualificationTypeStatus": "Active"}, MISSING),
        (
            "CreateQualificationType",
            {"Name": "n", "Description": "d", "QualificationTypeStatus": "Open"},
            INVALID,
        ),
        ("SearchQualificationTypes", {}, MISSING),
        ("SearchQualificationTypes", {"MustBeRequestable": "maybe"}, INVALID),
        ("SearchQualificationTypes", {"MustBeRequestable": "false", "PageSize": 0}, RANGE),
        ("SearchQualificationTypes", {"MustBeRequestable": "false", "SortProperty": "Size"}, INVALID),
        ("SearchQualificationTypes", {"MustBeRequestable": "false", "SortDirection": "Up"}, INVALID),
        (
            "GetQualificationsForQualificationType",
            {"QualificationTypeId": NO_TYPE, "Status": "Pending"},
            INVALID,
        ),
        (
            "GetQualificationsForQualificationType",
            {"QualificationTypeId": NO_TYPE},
            MT + "QualificationTypeDoesNotExist",
        ),
        ("UpdateQualificationScore", {"QualificationTypeId": NO_TYPE, "SubjectId": "A1"}, MISSING),
        (
            "UpdateQualificationScore",
            {"QualificationTypeId": "3X", "SubjectId": "A1", "IntegerValue": "99999999999"},
            INVALID,
        ),
        (
            "GrantQualification",
            {"QualificationRequestId": "3NOSUCHREQUEST"},
            MT + "QualificationRequestDoesNotExist",
        ),
        ("RejectQualificationRequest", {}, MISSING),
        ("BlockWorker", {"WorkerId": "A1NOSUCHWORKER"}, MISSING),
        ("BlockWorker", {"WorkerId": "A1NOSUCHWORKER", "Reason": "r"}, MT + "WorkerDoesNotExist"),
        ("GetBlockedWorkers", {"PageNumber": 0}, RANGE),
        ("NotifyWorkers", {"Subject": "s", "MessageText": "m"}, MISSING),
        ("SetHITTypeNotification", {"HITTypeId": NO_TYPE, "Active": "true"}, MT + "HITTypeDoesNotExist"),
        ("SendTestEventNotification", {"TestEventType": "Ping"}, MISSING),
        (
            "SendTestEventNotification",
            {
                "TestEventType": "Bogus",
                "Notification.1.Destination": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                "Notification.1.Transport": "SQS",
                "Notification.1.Version": "2006-05-05",
                "Notification.1.EventType.1": "Ping",
            },
            INVALID,
        ),
        ("GetFileUploadURL", {"AssignmentId": "3NOSUCH"}, MISSING),
        (
            "GetFileUploadURL",
            {"AssignmentId": "3NOSUCH", "QuestionIdentifier": "q"},
            MT + "AssignmentDoesNotExist",
        ),
    ],
)
def test_bad_requests_get_legacy_errors(
    server: RunningServer, operation: str, params: dict[str, Any], code: str
) -> None:
    _refused(legacy(server, server.requester()), operation, params, code)


def test_refusals_change_nothing(server: RunningServer) -> None:
    client = legacy(server, server.requester())
    type_id = _type(client, "Careful labellers")
    worker = new_worker(server, "ann")
    _refused(
        client,
        "AssignQualification",
        {"QualificationTypeId": type_id, "WorkerId": worker, "IntegerValue": "x"},
        "AWS.MechanicalTurk.InvalidParameterValue",
    )
    _refused(
        client,
        "CreateQualificationType",
        {"Name": "Careful labellers", "Description": "again", "QualificationTypeStatus": "Active"},
        "AWS.MechanicalTurk.QualificationTypeAlreadyExists",
    )
    _refused(
        client,
        "UpdateQualificationScore",
        {"QualificationTypeId": type_id, "SubjectId": worker, "IntegerValue": 5},
        "AWS.MechanicalTurk.QualificationDoesNotExist",
    )
    listed = client.ok("GetQualificationsForQualificationType", {"QualificationTypeId": type_id})
    assert listed.root.findtext("GetQualificationsForQualificationTypeResult/TotalNumResults") == "0"
    found = client.ok(
        "SearchQualificationTypes", {"MustBeRequestable": "false", "MustBeOwnedByCaller": "true"}
    )
    assert found.root.findtext("SearchQualificationTypesResult/TotalNumResults") == "1"

    # Validate=True checks a request without acting on it.
    checked = client.ok(
        "AssignQualification", {"QualificationTypeId": type_id, "WorkerId": worker, "Validate": "True"}
    )
    assert checked.root.find("AssignQualificationResult/Request/IsValid") is not None
    listed = client.ok("GetQualificationsForQualificationType", {"QualificationTypeId": type_id})
    assert listed.root.findtext("GetQualificationsForQualificationTypeResult/TotalNumResults") == "0"


def test_notification_settings_refuse_retired_transports(server: RunningServer) -> None:
    client = legacy(server, server.requester())
    type_id = client.ok(
        "RegisterHITType",
        {
            "Title": "t",
            "Description": "d",
            "Reward.1.Amount": "0.10",
            "Reward.1.CurrencyCode": "USD",
            "AssignmentDurationInSeconds": 60,
        },
    ).root.findtext("RegisterHITTypeResult/HITTypeId")
    rest = {
        "HITTypeId": type_id,
        "Notification.1.Destination": "https://lab.example.org/notify",
        "Notification.1.Transport": "REST",
        "Notification.1.Version": "2006-05-05",
        "Notification.1.EventType.1": "AssignmentSubmitted",
        "Active": "true",
    }
    message = _refused(client, "SetHITTypeNotification", rest, "AWS.MechanicalTurk.InvalidParameterValue")
    assert "Transport" in message
    email = {**rest, "Notification.1.Transport": "Email", "Notification.1.Destination": "lab@example.org"}
    client.ok("SetHITTypeNotification", email)
    client.ok("SetHITTypeNotification", {"HITTypeId": type_id, "Active": "false"})
    missing = {k: v for k, v in email.items() if k != "Notification.1.Version"}
    message = _refused(client, "SetHITTypeNotification", missing, "AWS.MissingParameters")
    assert "Notification.1.Version" in message


def test_documented_defaults_and_layouts(server: RunningServer) -> None:
    client = legacy(server, server.requester())
    for name in ("Apple pickers", "Cherry pickers", "Banana pickers"):
        _type(client, name, Keywords="fruit")
    search = {"MustBeRequestable": "false", "MustBeOwnedByCaller": "true"}
    names = client.ok("SearchQualificationTypes", search).root.iter("Name")
    assert [n.text for n in names] == ["Cherry pickers", "Banana pickers", "Apple pickers"]  # Descending
    ascending = client.ok("SearchQualificationTypes", {**search, "SortDirection": "Ascending"}).root.iter(
        "Name"
    )
    assert [n.text for n in ascending] == ["Apple pickers", "Banana pickers", "Cherry pickers"]

    # UpdateQualificationType takes no Name or Keywords: what is sent for them is left alone.
    type_id = _type(client, "Durian pickers", Keywords="fruit, smelly")
    updated = client.ok(
        "UpdateQualificationType",
        {"QualificationTypeId": type_id, "Keywords": "other", "Name": "Renamed", "Description": "New"},
    ).result("QualificationType")
    assert (updated.findtext("Name"), updated.findtext("Keywords"), updated.findtext("Description")) == (
        "Durian pickers",
        "fruit, smelly",
        "New",
    )

    worker = new_worker(server, "ann")
    client.ok("BlockWorker", {"WorkerId": worker, "Reason": "Spam"})
    blocked = client.ok("GetBlockedWorkers").result("GetBlockedWorkersResult")
    assert [c.tag for c in blocked] == [
        "Request",
        "PageNumber",
        "NumResults",
        "TotalNumResults",
        "WorkerBlock",
    ]
    client.ok("BlockWorker", {"WorkerId": worker, "Reason": "Spam again"})  # already blocked: fine
    client.ok("UnblockWorker", {"WorkerId": worker})


def test_a_qualification_type_in_the_documented_order(server: RunningServer) -> None:
    client = legacy(server, server.requester())
    type_id = _type(client, "Ordered", Keywords="order", RetryDelayInSeconds=60)
    fetched = client.ok("GetQualificationType", {"QualificationTypeId": type_id}).result("QualificationType")
    assert [c.tag for c in fetched] == [
        "Request",
        "QualificationTypeId",
        "CreationTime",
        "Name",
        "Description",
        "Keywords",
        "QualificationTypeStatus",
        "RetryDelayInSeconds",
        "AutoGranted",
        "IsRequestable",
    ]


@pytest.mark.parametrize(
    ("requirement", "phrase"),
    [
        ({"Comparator": "Bigger", "IntegerValue": "1"}, "'Bigger' is not a comparator"),
        ({"Comparator": "GreaterThan ", "IntegerValue": "1"}, "is not a comparator"),
        (
            {"TypeId": "00000000000000000071", "Comparator": "EqualTo", "LocaleValue.Country": "ZZZZ"},
            "'ZZZZ'",
        ),
        (
            {
                "TypeId": "00000000000000000071",
                "Comparator": "EqualTo",
                "LocaleValue.Country": "US",
                "LocaleValue.Subdivision": "WAS",
            },
            "'WAS' is not a valid ISO 3166 subdivision code",
        ),
    ],
)
def test_requirements_the_json_model_would_refuse_are_refused_here_too(
    server: RunningServer, requirement: dict[str, str], phrase: str
) -> None:
    client = legacy(server, server.requester())
    type_id = requirement.pop("TypeId", None) or _type(client, "Checked")
    flattened = {"QualificationRequirement.1.QualificationTypeId": type_id}
    flattened.update({f"QualificationRequirement.1.{k}": v for k, v in requirement.items()})
    message = _refused(client, "CreateHIT", hit_params(**flattened), INVALID)
    assert phrase in message
    assert client.ok("SearchHITs", {}).root.findtext("SearchHITsResult/TotalNumResults") == "0"


def test_an_index_less_requirement_guards_the_hit(server: RunningServer) -> None:
    client = legacy(server, server.requester())
    type_id = _type(client, "Needed")
    created = client.ok(
        "CreateHIT",
        hit_params(
            **{
                "QualificationRequirement.QualificationTypeId": type_id,
                "QualificationRequirement.Comparator": "Exists",
            }
        ),
    )
    hit_id = created.root.findtext("HIT/HITId")
    fetched = client.ok("GetHIT", {"HITId": hit_id}).root
    assert fetched.findtext("HIT/QualificationRequirement/QualificationTypeId") == type_id
    assert fetched.findtext("HIT/QualificationRequirement/Comparator") == "Exists"
