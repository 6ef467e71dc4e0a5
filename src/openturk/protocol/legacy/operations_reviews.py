"""GetReviewResultsForHIT: ListReviewPolicyResultsForHIT's service call, each policy level's records
paged by number (PageSize 100-65535, 400 by default, and PageNumber, as the operation documented),
optionally only those about one AssignmentId; RetrieveActions and RetrieveResults take T or F too.
The policies themselves arrive with CreateHIT (flattened as ``structures.review_policy`` reads them)
and are echoed here as stored.

The legacy structures differ from the 2017 ones in names only: ``Parameter`` / ``MapEntry`` / ``Value``
for Parameters / MapEntries / Values, ``ReviewResult`` / ``ReviewAction`` for ReviewResults /
ReviewActions, and an action's ``ObjectId`` / ``ObjectType`` for TargetId / TargetType (names from the
2014-08-15 schema; its documentation's sample differs in places).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.protocol.legacy import xml
from openturk.protocol.legacy.base import Context, Operation, Runner
from openturk.protocol.legacy.params import Params
from openturk.protocol.legacy.shapes import page_header
from openturk.protocol.legacy.xml import Xml, el, text
from openturk.service.review_policies.listing import LevelPage

POLICY_LEVELS = ("Assignment", "HIT")


def policy_element(name: str, policy: Mapping[str, Any] | None) -> Xml | None:
    if policy is None:
        return None
    parameters = [
        el(
            "Parameter",
            text("Key", parameter.get("Key")),
            *(text("Value", v) for v in parameter.get("Values") or ()),
            *(
                el(
                    "MapEntry",
                    text("Key", entry.get("Key")),
                    *(text("Value", v) for v in entry.get("Values") or ()),
                )
                for entry in parameter.get("MapEntries") or ()
            ),
        )
        for parameter in policy.get("Parameters") or ()
    ]
    return el(name, text("PolicyName", policy.get("PolicyName")), *parameters)


def report_element(page: LevelPage) -> Xml:
    records = []
    for r in page.records.items:
        if r.kind == "result":
            records.append(
                el(
                    "ReviewResult",
                    text("ActionId", r.action_id),
                    text("SubjectId", r.subject_id),
                    text("SubjectType", r.subject_type),
                    text("QuestionId", r.question_id),
                    text("Key", r.key),
                    text("Value", r.value),
                )
            )
        else:
            records.append(
                el(
                    "ReviewAction",
                    text("ActionId", r.action_id),
                    text("ActionName", r.action_name),
                    text("ObjectId", r.subject_id),
                    text("ObjectType", r.subject_type),
                    text("Status", r.status),
                    xml.date("CompleteTime", r.created_at),
                    text("Result", r.result),
                    text("ErrorCode", r.error_code),
                )
            )
    header = page_header(page.records)
    return el(f"{page.level}ReviewReport", header, *records)


def get_review_results_for_hit(params: Params) -> Runner:
    hit_id = params.required("HITId")
    levels = params.choices("PolicyLevel", POLICY_LEVELS)
    assignment_id = params.text("AssignmentId") or None
    actions = params.boolean("RetrieveActions", letters=True)
    results = params.boolean("RetrieveResults", letters=True)
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")

    def run(ctx: Context) -> Xml:
        report = ctx.services.review_policies.results_pages(
            ctx.requester_id,
            hit_id,
            levels or None,
            actions is not False,
            results is not False,
            page_size,
            page_number,
            assignment_id,
        )
        return xml.concat(
            [
                text("HITId", report.hit_id),
                policy_element("AssignmentReviewPolicy", report.assignment_policy),
                policy_element("HITReviewPolicy", report.hit_policy),
                *(report_element(page) for page in report.levels),
            ]
        )

    return run


OPERATIONS = {
    "GetReviewResultsForHIT": Operation("GetReviewResultsForHITResult", get_review_results_for_hit),
}
