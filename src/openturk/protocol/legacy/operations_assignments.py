"""GetAssignment, GetAssignmentsForHIT, ApproveAssignment, ApproveRejectedAssignment, RejectAssignment,
GetFileUploadURL."""

from __future__ import annotations

from openturk.protocol.legacy import xml
from openturk.protocol.legacy.base import Context, Operation, Runner
from openturk.protocol.legacy.operations_hits import sort
from openturk.protocol.legacy.params import Params
from openturk.protocol.legacy.shapes import DETAIL, assignment_element, hit_element, page_header
from openturk.protocol.legacy.xml import Xml
from openturk.service.numbered_pages import ASSIGNMENT_SORT_PROPERTIES
from openturk.web.file_downloads import base_url

ASSIGNMENT_STATUSES = ("Submitted", "Approved", "Rejected")


def get_assignment(params: Params) -> Runner:
    assignment_id = params.required("AssignmentId")

    def run(ctx: Context) -> Xml:
        assignment, hit = ctx.services.assignments.get(ctx.requester_id, assignment_id)
        groups = frozenset({"Minimal", DETAIL, "HITQuestion"})
        similar = ctx.services.numbered_pages.similar_hits(ctx.requester_id, [hit.hit_group_id])
        return assignment_element(assignment) + hit_element(hit, groups, similar)

    return run


def get_assignments_for_hit(params: Params) -> Runner:
    hit_id = params.required("HITId")
    statuses = params.choices("AssignmentStatus", ASSIGNMENT_STATUSES)
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")
    order = sort(params, ASSIGNMENT_SORT_PROPERTIES)

    def run(ctx: Context) -> Xml:
        page = ctx.services.numbered_pages.assignments_for_hit(
            ctx.requester_id, hit_id, statuses or None, page_size, page_number, order
        )
        header = page_header(page)
        return header + xml.concat(assignment_element(a) for a in page.items)

    return run


def approve_assignment(params: Params) -> Runner:
    assignment_id = params.required("AssignmentId")
    feedback = params.text("RequesterFeedback")

    def run(ctx: Context) -> Xml:
        ctx.services.assignments.approve(
            ctx.requester_id, assignment_id, feedback, False, request_id=ctx.request_id
        )
        return ""

    return run


def approve_rejected_assignment(params: Params) -> Runner:
    assignment_id = params.required("AssignmentId")
    feedback = params.text("RequesterFeedback")

    def run(ctx: Context) -> Xml:
        ctx.services.assignments.approve_rejected(
            ctx.requester_id, assignment_id, feedback, request_id=ctx.request_id
        )
        return ""

    return run


def reject_assignment(params: Params) -> Runner:
    assignment_id = params.required("AssignmentId")
    # Optional in the legacy API (required, possibly empty, in the 2017 one).
    feedback = params.text("RequesterFeedback") or ""

    def run(ctx: Context) -> Xml:
        ctx.services.assignments.reject(ctx.requester_id, assignment_id, feedback, request_id=ctx.request_id)
        return ""

    return run


def get_file_upload_url(params: Params) -> Runner:
    assignment_id = params.required("AssignmentId")
    question_id = params.required("QuestionIdentifier")

    def run(ctx: Context) -> Xml:
        url = ctx.services.files.upload_url(ctx.requester_id, assignment_id, question_id, base_url())
        return xml.text("FileUploadURL", url) or ""

    return run


OPERATIONS = {
    "GetAssignment": Operation("GetAssignmentResult", get_assignment),
    "GetAssignmentsForHIT": Operation("GetAssignmentsForHITResult", get_assignments_for_hit),
    "ApproveAssignment": Operation("ApproveAssignmentResult", approve_assignment),
    "ApproveRejectedAssignment": Operation("ApproveRejectedAssignmentResult", approve_rejected_assignment),
    "RejectAssignment": Operation("RejectAssignmentResult", reject_assignment),
    "GetFileUploadURL": Operation("GetFileUploadURLResult", get_file_upload_url),
}
