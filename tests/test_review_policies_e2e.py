"""Review policies end to end: boto3 creates HITs with AssignmentReviewPolicy / HITReviewPolicy, workers
submit through the CLI, and the policies approve, reject and extend with the money moving through the
same ledger (checked by balances, worker earnings and `openturk ledger audit`)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.hit_support import balance, cli, hit_args, new_worker
from tests.support import RunningServer


def _param(key: str, *values: str) -> dict[str, Any]:
    return {"Key": key, "Values": list(values)}


KNOWN_ANSWERS = {
    "PolicyName": "ScoreMyKnownAnswers/2011-09-01",
    "Parameters": [
        {
            "Key": "AnswerKey",
            "MapEntries": [{"Key": "color", "Values": ["blue"]}, {"Key": "shape", "Values": ["round"]}],
        },
        _param("ApproveIfKnownAnswerScoreIsAtLeast", "100"),
        _param("ApproveReason", "All known answers right"),
        _param("RejectIfKnownAnswerScoreIsLessThan", "100"),
        _param("RejectReason", "A known answer was wrong"),
        _param("ExtendIfKnownAnswerScoreIsLessThan", "100"),
        _param("ExtendMaximumAssignments", "3"),
        _param("ExtendMinimumTimeInSeconds", "3600"),
    ],
}
PLURALITY = {
    "PolicyName": "SimplePlurality/2011-09-01",
    "Parameters": [
        _param("QuestionIds", "label"),
        _param("QuestionAgreementThreshold", "50"),
        _param("DisregardAssignmentIfRejected", "true"),
        _param("ExtendIfHITAgreementScoreIsLessThan", "100"),
        _param("ExtendMaximumAssignments", "3"),
        _param("ExtendMinimumTimeInSeconds", "3600"),
        _param("ApproveIfWorkerAgreementScoreIsAtLeast", "100"),
        _param("RejectIfWorkerAgreementScoreIsLessThan", "100"),
        _param("RejectReason", "Disagreed with the others"),
    ],
}


def _submit(server: RunningServer, hit_id: str, worker: str, **answers: str) -> tuple[str, str]:
    assignment = str(cli(server, "worker", "accept", hit_id, "--worker", worker)["assignment_id"])
    pairs = [x for k, v in answers.items() for x in ("--answer", f"{k}={v}")]
    status = str(cli(server, "worker", "submit", assignment, *pairs)["status"])
    return assignment, status


def _statuses(client: Any, hit_id: str) -> dict[str, tuple[str, str | None]]:
    listed = client.list_assignments_for_hit(HITId=hit_id)["Assignments"]
    return {a["AssignmentId"]: (a["AssignmentStatus"], a.get("RequesterFeedback")) for a in listed}


def _audit_ok(server: RunningServer) -> None:
    report = cli(server, "ledger", "audit")
    assert report["ok"], report["problems"]


def test_known_answers_approve_the_right_assignment_and_reject_the_wrong_one(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    hit = client.create_hit(
        **hit_args(Reward="1.00", MaxAssignments=2, AssignmentReviewPolicy=KNOWN_ANSWERS)
    )["HIT"]
    assert balance(client) == "97.60"  # 2 x (1.00 + 0.20)
    alice, bob = new_worker(server, "alice"), new_worker(server, "bob")
    right, right_status = _submit(server, hit["HITId"], alice, color="blue", shape=" round ")
    wrong, wrong_status = _submit(server, hit["HITId"], bob, color="blue", shape="square")
    assert (right_status, wrong_status) == ("Approved", "Rejected")
    assert _statuses(client, hit["HITId"]) == {
        right: ("Approved", "All known answers right"),
        wrong: ("Rejected", "A known answer was wrong"),
    }
    # The wrong answer also extended the HIT by one assignment (reserved), its own slot was refunded.
    state = client.get_hit(HITId=hit["HITId"])["HIT"]
    assert (state["MaxAssignments"], state["NumberOfAssignmentsAvailable"], state["HITStatus"]) == (
        3,
        1,
        "Assignable",
    )
    assert balance(client) == "97.60"  # 100 - 2.40 - 1.20 (extension) + 1.20 (rejection refund)
    assert cli(server, "worker", "earnings", alice)["total"] == "1.00"
    assert cli(server, "worker", "earnings", bob)["total"] == "0.00"
    _audit_ok(server)

    report = client.list_review_policy_results_for_hit(
        HITId=hit["HITId"], PolicyLevels=["Assignment"], MaxResults=100
    )
    assert report["AssignmentReviewPolicy"] == {"PolicyName": KNOWN_ANSWERS["PolicyName"]}  # the name only
    assert "HITReviewReport" not in report
    results = report["AssignmentReviewReport"]["ReviewResults"]
    scores = {r["SubjectId"]: r["Value"] for r in results if r["Key"] == "KnownAnswerScore"}
    assert scores == {right: "100", wrong: "50"}
    correct = {
        (r["SubjectId"], r["QuestionId"]): r["Value"] for r in results if r["Key"] == "KnownAnswerCorrect"
    }
    assert correct == {
        (right, "color"): "1",
        (right, "shape"): "1",
        (wrong, "color"): "1",
        (wrong, "shape"): "0",
    }
    assert all(r["SubjectType"] == "Assignment" and len(r["ActionId"]) == 30 for r in results)
    actions = [
        (a["ActionName"], a["TargetId"], a["Status"])
        for a in report["AssignmentReviewReport"]["ReviewActions"]
    ]
    assert actions == [
        ("review", right, "Succeeded"),
        ("approve", right, "Succeeded"),
        ("review", wrong, "Succeeded"),
        ("extend", hit["HITId"], "Succeeded"),
        ("reject", wrong, "Succeeded"),
    ]
    first_review = report["AssignmentReviewReport"]["ReviewActions"][0]
    assert first_review["Result"] == "Reviewed 2 known answers; 2/2 correct"
    assert "CompleteTime" in first_review


def test_a_plurality_hit_extends_when_there_is_no_agreement(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    hit_id = client.create_hit(**hit_args(Reward="1.00", MaxAssignments=2, HITReviewPolicy=PLURALITY))["HIT"][
        "HITId"
    ]
    cat, dog, cat_again = (new_worker(server, n) for n in ("a", "b", "c"))
    first, _ = _submit(server, hit_id, cat, label="cat")
    second, _ = _submit(server, hit_id, dog, label="dog")
    # A tie: no agreed answer, HIT agreement 0 < 100, so one more assignment is published (and paid for).
    state = client.get_hit(HITId=hit_id)["HIT"]
    assert (state["HITStatus"], state["MaxAssignments"], state["NumberOfAssignmentsAvailable"]) == (
        "Assignable",
        3,
        1,
    )
    assert balance(client) == "96.40"  # 100 - 2.40 - 1.20
    assert {s for s, _ in _statuses(client, hit_id).values()} == {"Submitted"}

    third, _ = _submit(server, hit_id, cat_again, label=" cat")
    assert _statuses(client, hit_id) == {
        first: ("Approved", None),
        second: ("Rejected", "Disagreed with the others"),
        third: ("Approved", None),
    }
    assert client.get_hit(HITId=hit_id)["HIT"]["HITStatus"] == "Reviewable"
    assert balance(client) == "97.60"  # the disagreeing assignment's 1.20 came back
    assert [cli(server, "worker", "earnings", w)["total"] for w in (cat, dog, cat_again)] == [
        "1.00",
        "0.00",
        "1.00",
    ]
    _audit_ok(server)

    report = client.list_review_policy_results_for_hit(HITId=hit_id, MaxResults=100)
    assert report["HITReviewPolicy"] == {"PolicyName": PLURALITY["PolicyName"]}
    hit_results = [
        (r["SubjectId"], r.get("QuestionId"), r["Key"], r["Value"])
        for r in report["HITReviewReport"]["ReviewResults"]
    ]
    assert hit_results[:2] == [
        (hit_id, "label", "AgreedAnswerFound", "false"),
        (hit_id, None, "HitAgreementScore", "0"),
    ]
    assert (hit_id, "label", "AgreedAnswer", "cat") in hit_results
    assert (hit_id, "label", "AnswerAgreementScore", "66") in hit_results
    assert (hit_id, None, "HitAgreementScore", "100") in hit_results
    assert (second, None, "WorkerAgreementScore", "0") in hit_results
    assert (third, None, "PluralityAnswersCorrect", "1") in hit_results
    actions = [
        (a["ActionName"], a["TargetId"], a["Status"]) for a in report["HITReviewReport"]["ReviewActions"]
    ]
    assert actions == [
        ("extend", hit_id, "Succeeded"),
        ("approve", first, "Succeeded"),
        ("reject", second, "Succeeded"),
        ("approve", third, "Succeeded"),
    ]
    assert report["AssignmentReviewReport"] == {"ReviewResults": [], "ReviewActions": []}

    # Paging: small pages give back exactly the same records, then an empty page without a NextToken.
    seen: list[str] = []
    token: str | None = None
    while True:
        more = {"NextToken": token} if token else {}
        page = client.list_review_policy_results_for_hit(
            HITId=hit_id, PolicyLevels=["HIT"], MaxResults=3, **more
        )
        got = page["HITReviewReport"]["ReviewResults"] + page["HITReviewReport"]["ReviewActions"]
        seen += [r["ActionId"] for r in got]
        if not got:
            assert "NextToken" not in page
            break
        token = page["NextToken"]
    every = report["HITReviewReport"]["ReviewResults"] + report["HITReviewReport"]["ReviewActions"]
    assert sorted(seen) == sorted(r["ActionId"] for r in every)
    only_actions = client.list_review_policy_results_for_hit(
        HITId=hit_id, RetrieveResults=False, MaxResults=100
    )
    assert only_actions["HITReviewReport"]["ReviewResults"] == []
    assert len(only_actions["HITReviewReport"]["ReviewActions"]) == 4


def test_no_extension_without_money(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=240))
    hit_id = client.create_hit(**hit_args(Reward="1.00", MaxAssignments=2, HITReviewPolicy=PLURALITY))["HIT"][
        "HITId"
    ]
    _submit(server, hit_id, new_worker(server), label="cat")
    _submit(server, hit_id, new_worker(server), label="dog")
    state = client.get_hit(HITId=hit_id)["HIT"]
    assert (state["HITStatus"], state["MaxAssignments"]) == ("Reviewable", 2)
    actions = client.list_review_policy_results_for_hit(HITId=hit_id)["HITReviewReport"]["ReviewActions"]
    assert [(a["ActionName"], a["Status"], a["ErrorCode"]) for a in actions] == [
        ("extend", "Failed", "AWS.MechanicalTurk.InsufficientFunds")
    ]
    assert balance(client) == "0.00"
    _audit_ok(server)


_Q = _param("QuestionIds", "q")
BAD_POLICIES = [
    ("AssignmentReviewPolicy", {"PolicyName": "SimplePlurality/2011-09-01"}, "PolicyName"),
    ("AssignmentReviewPolicy", {"PolicyName": "ScoreMyKnownAnswers/2011-09-01"}, "AnswerKey"),
    (
        "HITReviewPolicy",
        {**PLURALITY, "Parameters": [*PLURALITY["Parameters"], _param("Bogus", "1")]},
        "Bogus",
    ),
    (
        "HITReviewPolicy",
        {**PLURALITY, "Parameters": [_Q, _param("QuestionAgreementThreshold", "x")]},
        "integer",
    ),
    (
        "HITReviewPolicy",
        {
            **PLURALITY,
            "Parameters": [
                _Q,
                _param("QuestionAgreementThreshold", "5"),
                _param("ExtendIfHITAgreementScoreIsLessThan", "50"),
            ],
        },
        "ExtendMaximumAssignments",
    ),
    (
        "AssignmentReviewPolicy",
        {
            "PolicyName": "ScoreMyKnownAnswers/2011-09-01",
            "Parameters": [{"Key": "AnswerKey", "MapEntries": [{"Values": ["a"]}]}],
        },
        "needs a Key",
    ),
]


@pytest.mark.parametrize(("field", "policy", "message"), BAD_POLICIES)
def test_bad_policies_create_nothing(
    server: RunningServer, field: str, policy: dict[str, Any], message: str
) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    with pytest.raises(ClientError) as info:
        client.create_hit(**hit_args(**{field: policy}))
    assert info.value.response["Error"]["Code"] == "RequestError"
    assert message in info.value.response["Error"]["Message"]
    assert balance(client) == "100.00"
    assert client.list_hits()["NumResults"] == 0


def test_results_of_another_requesters_hit_do_not_exist(server: RunningServer) -> None:
    owner = server.client(server.requester())
    hit_id = owner.create_hit(**hit_args(HITReviewPolicy=PLURALITY))["HIT"]["HITId"]
    assert owner.list_review_policy_results_for_hit(HITId=hit_id)["HITReviewReport"]["ReviewResults"] == []
    with pytest.raises(ClientError, match="does not exist"):
        server.client(server.requester("other")).list_review_policy_results_for_hit(HITId=hit_id)


def test_a_policy_approving_an_approved_assignment_succeeds(server: RunningServer) -> None:
    """GetReviewResultsForHIT: "an action trying to approve an already-approved Assignment will report
    itself as SUCCESSFUL".  Also: QuestionIDs (as MTurk's examples spell it) and a one-minute extension
    time (the 2017 HIT Review Policies page) are accepted."""
    client = server.client(server.requester(balance_cents=10_000))
    plurality = {
        "PolicyName": "SimplePlurality/2011-09-01",
        "Parameters": [
            _param("QuestionIDs", "color"),
            _param("QuestionAgreementThreshold", "50"),
            _param("ExtendMinimumTimeInSeconds", "60"),
            _param("ApproveIfWorkerAgreementScoreIsAtLeast", "100"),
        ],
    }
    hit = client.create_hit(
        **hit_args(MaxAssignments=2, AssignmentReviewPolicy=KNOWN_ANSWERS, HITReviewPolicy=plurality)
    )["HIT"]
    for name in ("alice", "bob"):
        assert (
            _submit(server, hit["HITId"], new_worker(server, name), color="blue", shape="round")[1]
            == "Approved"
        )
    report = client.list_review_policy_results_for_hit(
        HITId=hit["HITId"], PolicyLevels=["HIT"], MaxResults=100
    )
    approvals = [a for a in report["HITReviewReport"]["ReviewActions"] if a["ActionName"] == "approve"]
    assert [(a["Status"], a["Result"]) for a in approvals] == [("Succeeded", "Already approved")] * 2
    _audit_ok(server)
