"""ListReviewPolicyResultsForHIT."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.protocol.handlers.base import Call, Handler


def _report(records: list[Any], level: str) -> dict[str, Any]:
    results = [
        {
            "ActionId": r.action_id,
            "SubjectId": r.subject_id,
            "SubjectType": r.subject_type,
            "QuestionId": r.question_id,
            "Key": r.key,
            "Value": r.value,
        }
        for r in records
        if r.level == level and r.kind == "result"
    ]
    actions = [
        {
            "ActionId": r.action_id,
            "ActionName": r.action_name,
            "TargetId": r.subject_id,
            "TargetType": r.subject_type,
            "Status": r.status,
            "CompleteTime": r.created_at,
            "Result": r.result,
            "ErrorCode": r.error_code,
        }
        for r in records
        if r.level == level and r.kind == "action"
    ]
    return {"ReviewResults": results, "ReviewActions": actions}


def list_review_policy_results_for_hit(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    levels = params.get("PolicyLevels") or ["Assignment", "HIT"]
    report = call.services.review_policies.results(
        call.requester_id,
        params["HITId"],
        levels,
        bool(params.get("RetrieveActions", True)),
        bool(params.get("RetrieveResults", True)),
        params.get("NextToken"),
        params.get("MaxResults"),
    )
    records = list(report.records)
    out: dict[str, Any] = {
        "HITId": report.hit_id,
        # The model: each "contains only the PolicyName element" (not the AnswerKey and the rest).
        "AssignmentReviewPolicy": _name_only(report.assignment_policy),
        "HITReviewPolicy": _name_only(report.hit_policy),
        "NextToken": report.next_token,
    }
    if "Assignment" in levels:
        out["AssignmentReviewReport"] = _report(records, "Assignment")
    if "HIT" in levels:
        out["HITReviewReport"] = _report(records, "HIT")
    return out


def _name_only(policy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if policy is None else {"PolicyName": policy["PolicyName"]}


HANDLERS: Mapping[str, Handler] = {"ListReviewPolicyResultsForHIT": list_review_policy_results_for_hit}
