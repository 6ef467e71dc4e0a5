"""Qualifications, worker blocks and messages through the legacy API: boto 2's MTurkConnection where it
has the call, the test's own legacy client (tests/legacy_client.py) for the rest, and boto3 on the same
server to check that both front doors see one marketplace."""

from __future__ import annotations

import pytest

from tests.boto2_support import (
    AnswerSpecification,
    Boto2Connections,
    ExternalQuestion,
    MTurkRequestError,
    Qualifications,
    Question,
    QuestionContent,
    QuestionForm,
    Requirement,
    SelectionAnswer,
    error_code,
)
from tests.hit_support import accept_and_submit, new_worker
from tests.qualification_support import ANSWER_KEY
from tests.support import RunningServer
from tests.test_legacy_api import legacy


def geography_test() -> QuestionForm:
    """The questions ANSWER_KEY scores, built with boto 2's own classes."""
    form = QuestionForm()
    for identifier, text, choices in (
        ("capital", "What is the capital of France?", ["paris", "lyon", "nice"]),
        ("sum", "2 + 2 = ?", ["3", "4", "5"]),
    ):
        content = QuestionContent()
        content.append_field("Text", text)
        answer = SelectionAnswer(style="radiobutton", selections=[(c, c) for c in choices])
        form.append(Question(identifier, content, AnswerSpecification(answer), is_required=True))
    return form


def test_a_qualification_type_from_creation_to_disposal(
    server: RunningServer, boto2: Boto2Connections
) -> None:
    who = server.requester()
    conn, boto3_client = boto2(who), server.client(who)
    [created] = conn.create_qualification_type(
        "Cat expert", "Knows cats", "Active", keywords=["cats", "pets"], retry_delay=3600
    )
    type_id = created.QualificationTypeId
    assert (created.Name, created.QualificationTypeStatus, created.Keywords) == (
        "Cat expert",
        "Active",
        "cats, pets",
    )
    assert (created.IsRequestable, created.AutoGranted, created.RetryDelayInSeconds) == (
        "true",
        "false",
        "3600",
    )
    with pytest.raises(MTurkRequestError) as taken:
        conn.create_qualification_type("Cat expert", "Again", "Active")
    assert error_code(taken.value) == "AWS.MechanicalTurk.QualificationTypeAlreadyExists"

    [updated] = conn.update_qualification_type(type_id, description="Knows cats well", status="Inactive")
    assert (updated.Description, updated.QualificationTypeStatus) == ("Knows cats well", "Inactive")
    [fetched] = conn.get_qualification_type(type_id)
    assert fetched.Description == "Knows cats well"
    assert boto3_client.get_qualification_type(QualificationTypeId=type_id)["QualificationType"][
        "Description"
    ] == ("Knows cats well")
    found = conn.search_qualification_types(query="cat expert", must_be_requestable=False)
    assert [t.QualificationTypeId for t in found] == [type_id]
    assert (found.NumResults, found.TotalNumResults, found.PageNumber) == ("1", "1", "1")
    assert list(conn.search_qualification_types(query="cat expert", must_be_requestable=True)) == []

    ann, bob = new_worker(server, "ann"), new_worker(server, "bob")
    conn.assign_qualification(type_id, ann, value=80, send_notification=False)
    conn.assign_qualification(type_id, bob)
    [score] = conn.get_qualification_score(type_id, ann)
    assert (score.SubjectId, score.IntegerValue, score.Status) == (ann, "80", "Granted")
    assert score.GrantTime.endswith("Z")
    conn.update_qualification_score(type_id, ann, 95)
    assert (
        boto3_client.get_qualification_score(QualificationTypeId=type_id, WorkerId=ann)["Qualification"][
            "IntegerValue"
        ]
        == 95
    )
    holders = conn.get_qualifications_for_qualification_type(type_id)
    assert sorted((q.SubjectId, q.IntegerValue) for q in holders) == sorted([(ann, "95"), (bob, "1")])
    assert holders.TotalNumResults == "2"

    conn.revoke_qualification(bob, type_id, reason="Mixed up cats and dogs")
    with pytest.raises(MTurkRequestError) as revoked:
        conn.update_qualification_score(type_id, bob, 50)
    assert error_code(revoked.value) == "AWS.MechanicalTurk.QualificationDoesNotExist"
    client = legacy(server, who)
    gone = client.ok(
        "GetQualificationsForQualificationType", {"QualificationTypeId": type_id, "Status": "Revoked"}
    )
    assert gone.root.findtext("GetQualificationsForQualificationTypeResult/Qualification/SubjectId") == bob

    conn.dispose_qualification_type(type_id)
    [disposed] = conn.get_qualification_type(type_id)
    assert disposed.QualificationTypeStatus == "Disposed"
    assert list(conn.search_qualification_types(query="cat expert", must_be_requestable=False)) == []


def test_requests_for_a_qualification_are_granted_and_rejected(
    server: RunningServer, boto2: Boto2Connections
) -> None:
    who = server.requester()
    conn, client = boto2(who), legacy(server, who)
    # A test without an answer key: each request waits for the requester, with the worker's answers.
    [reviewed] = conn.create_qualification_type(
        "Geography, reviewed", "Answer two questions", "Active", test=geography_test(), test_duration=600
    )
    assert reviewed.Test.startswith("<QuestionForm")
    # With an answer key it is graded at once (boto 2 cannot send one on Python 3: it checks for
    # ``basestring``), so that one goes through the legacy client.
    graded_type = client.ok(
        "CreateQualificationType",
        {
            "Name": "Geography, graded",
            "Description": "Answer two questions",
            "QualificationTypeStatus": "Active",
            "Test": geography_test().get_as_xml(),
            "AnswerKey": ANSWER_KEY,
            "TestDurationInSeconds": 600,
        },
    ).root.findtext("QualificationType/QualificationTypeId")
    assert graded_type
    type_id = reviewed.QualificationTypeId
    ann, bob = new_worker(server, "ann"), new_worker(server, "bob")
    asked = server.services.worker_qualifications.request(ann, type_id, [("capital", "paris"), ("sum", "4")])
    server.services.worker_qualifications.request(bob, type_id, [("capital", "nice"), ("sum", "5")])
    graded = server.services.worker_qualifications.request(
        ann, graded_type, [("capital", "paris"), ("sum", "4")]
    )
    assert (asked.status, graded.status, graded.value) == ("Pending", "Granted", 100)

    pending = conn.get_qualification_requests(type_id)  # boto 2's default sort, "Expiration"
    assert [(r.SubjectId, r.QualificationTypeId) for r in pending] == [(ann, type_id), (bob, type_id)]
    assert [(a.qid, a.fields) for a in pending[1].answers[0]] == [("capital", ["nice"]), ("sum", ["5"])]
    newest_first = conn.get_qualification_requests(type_id, sort_by="SubmitTime", sort_direction="Descending")
    assert [r.SubjectId for r in newest_first] == [bob, ann]
    conn.grant_qualification(pending[0].QualificationRequestId, integer_value=75)
    [score] = conn.get_qualification_score(type_id, ann)
    assert score.IntegerValue == "75"
    client.ok(
        "RejectQualificationRequest",
        {"QualificationRequestId": pending[1].QualificationRequestId, "Reason": "Two wrong answers"},
    )
    assert list(conn.get_qualification_requests(type_id)) == []
    with pytest.raises(MTurkRequestError) as twice:
        conn.grant_qualification(pending[1].QualificationRequestId)
    assert error_code(twice.value) == "AWS.MechanicalTurk.InvalidParameterValue"
    [test_score] = conn.get_qualification_score(graded_type, ann)
    assert test_score.IntegerValue == "100"


def test_hits_blocks_and_messages(server: RunningServer, boto2: Boto2Connections) -> None:
    who = server.requester()
    conn, client = boto2(who), legacy(server, who)
    [qualification] = conn.create_qualification_type("Trusted", "Did good work before", "Active")
    type_id = qualification.QualificationTypeId
    [hit] = conn.create_hit(
        question=ExternalQuestion("https://tasks.example.org/label", 600),
        title="Label",
        description="Label a picture",
        keywords="label",  # without keywords boto 2 reaches for ``unicode`` on Python 3
        reward=0.1,
        qualifications=Qualifications([Requirement(type_id, "Exists")]),
    )
    conn.create_hit(
        question=ExternalQuestion("https://tasks.example.org/other", 600),
        title="Other",
        description="Needs nothing",
        keywords="other",
        reward=0.1,
    )
    listed = client.ok("GetHITsForQualificationType", {"QualificationTypeId": type_id})
    result = listed.result("GetHITsForQualificationTypeResult")
    assert [h.findtext("HITId") for h in result.iter("HIT")] == [hit.HITId]
    assert result.findtext("TotalNumResults") == "1"

    ann, bob = new_worker(server, "ann"), new_worker(server, "bob")
    conn.assign_qualification(type_id, ann, send_notification=False)
    done = accept_and_submit(server, hit.HITId, ann, label="cat")
    conn.approve_assignment(done)

    conn.block_worker(bob, "Spam answers")
    blocked = client.ok("GetBlockedWorkers").result("GetBlockedWorkersResult")
    assert [(b.findtext("WorkerId"), b.findtext("Reason")) for b in blocked.iter("WorkerBlock")] == [
        (bob, "Spam answers")
    ]
    assert server.client(who).list_worker_blocks()["WorkerBlocks"] == [
        {"WorkerId": bob, "Reason": "Spam answers"}
    ]
    conn.unblock_worker(bob, "Forgiven")
    assert client.ok("GetBlockedWorkers").result("GetBlockedWorkersResult").findtext("NumResults") == "0"

    sent = conn.notify_workers([ann, bob], "New batch", "A new batch is up.")
    assert sent.status is True  # bob has no approved or rejected work of ours: he cannot be messaged
    answer = client.ok(
        "NotifyWorkers", {"Subject": "New batch", "MessageText": "Up", "WorkerId.1": ann, "WorkerId.2": bob}
    )
    failures = list(answer.result("NotifyWorkersResult").iter("NotifyWorkersFailureStatus"))
    assert [(f.findtext("WorkerId"), f.findtext("NotifyWorkersFailureCode")) for f in failures] == [
        (bob, "HardFailure")
    ]
    inbox = server.services.worker_relations.messages(ann)
    assert [m.subject for m in inbox][-2:] == ["New batch", "New batch"]
