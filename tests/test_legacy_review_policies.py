"""Review policies through the legacy API: CreateHIT with a flattened AssignmentReviewPolicy or
HITReviewPolicy, and GetReviewResultsForHIT, against what boto3 reads from the same HIT."""

from __future__ import annotations

from typing import Any

from tests.legacy_client import flatten
from tests.support import RunningServer
from tests.test_legacy_api import balance, legacy
from tests.test_legacy_flow import hit_params
from tests.test_review_policies_e2e import KNOWN_ANSWERS, PLURALITY, _submit


def legacy_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """A 2017 ReviewPolicy structure in the legacy names (Parameter, Value, MapEntry)."""
    return {
        "PolicyName": policy["PolicyName"],
        "Parameter": [
            {
                "Key": p["Key"],
                **({"Value": p["Values"]} if "Values" in p else {}),
                **(
                    {"MapEntry": [{"Key": e["Key"], "Value": e["Values"]} for e in p["MapEntries"]]}
                    if "MapEntries" in p
                    else {}
                ),
            }
            for p in policy["Parameters"]
        ],
    }


def test_known_answers_through_the_legacy_api(server: RunningServer) -> None:
    who = server.requester(balance_cents=10_000)
    client = legacy(server, who)
    params = hit_params(**{"Reward.1.Amount": "1.00", "MaxAssignments": 2})
    params.update(flatten("AssignmentReviewPolicy.1", legacy_policy(KNOWN_ANSWERS)))
    hit_id = str(client.ok("CreateHIT", params).root.findtext("HIT/HITId"))
    right, right_status = _submit(server, hit_id, _worker(server, "ann"), color="blue", shape="round")
    wrong, wrong_status = _submit(server, hit_id, _worker(server, "bob"), color="red", shape="round")
    assert (right_status, wrong_status) == ("Approved", "Rejected")

    response = client.ok("GetReviewResultsForHIT", {"HITId": hit_id})
    answer = response.result("GetReviewResultsForHITResult")
    assert [c.tag for c in answer] == [
        "Request",
        "HITId",
        "AssignmentReviewPolicy",
        "AssignmentReviewReport",
        "HITReviewReport",  # both levels unless PolicyLevel names one; this HIT has no HIT-level policy
    ]
    assert answer.findtext("HITReviewReport/TotalNumResults") == "0"
    policy = answer.find("AssignmentReviewPolicy")
    assert policy is not None
    assert policy.findtext("PolicyName") == "ScoreMyKnownAnswers/2011-09-01"
    key = policy.find("Parameter")
    assert key is not None
    assert [(e.findtext("Key"), e.findtext("Value")) for e in key.iter("MapEntry")] == [
        ("color", "blue"),
        ("shape", "round"),
    ]
    report = answer.find("AssignmentReviewReport")
    assert report is not None
    boto3_report = server.client(who).list_review_policy_results_for_hit(
        HITId=hit_id, PolicyLevels=["Assignment"], MaxResults=100
    )["AssignmentReviewReport"]
    results = [
        (r.findtext("SubjectId"), r.findtext("Key"), r.findtext("Value")) for r in report.iter("ReviewResult")
    ]
    assert results == [(r["SubjectId"], r["Key"], r["Value"]) for r in boto3_report["ReviewResults"]]
    actions = [
        (a.findtext("ObjectId"), a.findtext("ActionName"), a.findtext("Status"))
        for a in report.iter("ReviewAction")
    ]
    assert actions == [(a["TargetId"], a["ActionName"], a["Status"]) for a in boto3_report["ReviewActions"]]
    assert (right, "approve", "Succeeded") in actions
    assert (wrong, "reject", "Succeeded") in actions
    total = len(results) + len(actions)
    assert report.findtext("TotalNumResults") == str(total)

    # RetrieveActions takes T or F; PageSize is 100 to 65535 (400 by default); AssignmentId narrows.
    only_results = {"HITId": hit_id, "PolicyLevel.1": "Assignment", "RetrieveActions": "F"}
    about_right = client.ok("GetReviewResultsForHIT", {**only_results, "AssignmentId": right})
    report = about_right.result("GetReviewResultsForHITResult/AssignmentReviewReport")
    about = [subject for subject, _key, _value in results if subject == right]
    assert about  # the known-answer score of the right assignment, at least
    assert [r.findtext("SubjectId") for r in report.iter("ReviewResult")] == about
    assert list(report.iter("ReviewAction")) == []
    beyond = client.ok("GetReviewResultsForHIT", {**only_results, "PageSize": 100, "PageNumber": 2})
    report = beyond.result("GetReviewResultsForHITResult/AssignmentReviewReport")
    assert (
        report.findtext("NumResults"),
        report.findtext("TotalNumResults"),
        report.findtext("PageNumber"),
    ) == (
        "0",
        str(len(results)),
        "2",
    )
    small = client.call("GetReviewResultsForHIT", {"HITId": hit_id, "PageSize": 10})
    assert small.error_code == "AWS.ParameterOutOfRange", small.text
    hit_only = client.ok("GetReviewResultsForHIT", {"HITId": hit_id, "PolicyLevel": "HIT"})
    assert hit_only.result("GetReviewResultsForHITResult").find("AssignmentReviewReport") is None


def test_a_bad_policy_creates_nothing(server: RunningServer) -> None:
    client = legacy(server, server.requester(balance_cents=10_000))
    params = hit_params()
    bad = legacy_policy(PLURALITY)
    bad["Parameter"][1]["Value"] = ["150"]  # QuestionAgreementThreshold is 0-100
    params.update(flatten("HITReviewPolicy.1", bad))
    refused = client.call("CreateHIT", params)
    assert refused.error_code == "AWS.MechanicalTurk.InvalidParameterValue", refused.text
    assert balance(client) == "100.00"
    keyless = flatten(
        "AssignmentReviewPolicy", {"PolicyName": KNOWN_ANSWERS["PolicyName"], "Parameter": [{"Value": ["1"]}]}
    )
    refused = client.call("CreateHIT", {**hit_params(), **keyless})
    assert refused.error_code == "AWS.MissingParameters", refused.text
    assert "AssignmentReviewPolicy.1.Parameter.1.Key" in str(refused.error_message)
    assert client.ok("SearchHITs").root.findtext("SearchHITsResult/TotalNumResults") == "0"
    wrong_level = client.call("GetReviewResultsForHIT", {"HITId": "3NOSUCH", "PolicyLevel.1": "Worker"})
    assert wrong_level.error_code == "AWS.MechanicalTurk.InvalidParameterValue"


def _worker(server: RunningServer, name: str) -> str:
    return server.services.workers.create(name, "US").id
