"""GetAssignment, ListAssignmentsForHIT, ApproveAssignment, RejectAssignment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.protocol.handlers.base import Call, Handler
from openturk.protocol.handlers.shapes import assignment_structure, hit_structure, paged


def get_assignment(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    assignment, hit = call.services.assignments.get(call.requester_id, params["AssignmentId"])
    return {"Assignment": assignment_structure(assignment), "HIT": hit_structure(hit)}


def list_assignments_for_hit(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.assignments.list_for_hit(
        call.requester_id,
        params["HITId"],
        params.get("AssignmentStatuses"),
        params.get("NextToken"),
        params.get("MaxResults"),
    )
    return paged(page, "Assignments", assignment_structure)


def approve_assignment(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.assignments.approve(
        call.requester_id,
        params["AssignmentId"],
        params.get("RequesterFeedback"),
        bool(params.get("OverrideRejection", False)),
        request_id=call.request_id,
    )
    return {}


def reject_assignment(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.assignments.reject(
        call.requester_id, params["AssignmentId"], params["RequesterFeedback"], request_id=call.request_id
    )
    return {}


HANDLERS: dict[str, Handler] = {
    "GetAssignment": get_assignment,
    "ListAssignmentsForHIT": list_assignments_for_hit,
    "ApproveAssignment": approve_assignment,
    "RejectAssignment": reject_assignment,
}
