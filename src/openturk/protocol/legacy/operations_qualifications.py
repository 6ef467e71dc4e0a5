"""Qualification types and the Qualifications workers hold, as the legacy API named them.

CreateQualificationType, GetQualificationType, UpdateQualificationType, DisposeQualificationType,
SearchQualificationTypes, GetHITsForQualificationType, AssignQualification, RevokeQualification,
GetQualificationScore, UpdateQualificationScore, GetQualificationsForQualificationType,
GetQualificationRequests, GrantQualification and RejectQualificationRequest: each the service call of its
2017 counterpart (facts file, section 3), so both front doors share one set of rules.  The legacy API
calls the worker ``SubjectId`` in the Qualification and QualificationRequest structures and in
RevokeQualification, GetQualificationScore and UpdateQualificationScore; AssignQualification says
``WorkerId``.
"""

from __future__ import annotations

from openturk.protocol.legacy import xml
from openturk.protocol.legacy.base import Context, Operation, Runner
from openturk.protocol.legacy.operations_hits import SEARCH_GROUPS, hits_xml
from openturk.protocol.legacy.params import Params
from openturk.protocol.legacy.shapes import (
    page_header,
    qualification_fields,
    qualification_request_element,
    qualification_type_element,
    qualification_type_fields,
)
from openturk.protocol.legacy.xml import Xml, el
from openturk.service.qualification_records import TypeSpec

TYPE_STATUSES = ("Active", "Inactive")
QUALIFICATION_STATUSES = ("Granted", "Revoked")


def _spec(params: Params, *, creating: bool) -> TypeSpec:
    # A type's Name and Keywords are set when it is created; UpdateQualificationType takes neither.
    return TypeSpec(
        name=params.required("Name") if creating else None,
        description=params.text("Description"),
        keywords=params.text("Keywords") if creating else None,
        status=params.choice("QualificationTypeStatus", TYPE_STATUSES),
        retry_delay_s=params.integer("RetryDelayInSeconds"),
        test=params.text("Test") or None,
        answer_key=params.text("AnswerKey") or None,
        test_duration_s=params.integer("TestDurationInSeconds"),
        auto_granted=params.boolean("AutoGranted"),
        auto_granted_value=params.integer("AutoGrantedValue"),
    )


def create_qualification_type(params: Params) -> Runner:
    params.required("Description")
    params.required("QualificationTypeStatus")
    spec = _spec(params, creating=True)

    def run(ctx: Context) -> Xml:
        return qualification_type_fields(ctx.services.qualifications.create_type(ctx.requester_id, spec))

    return run


def get_qualification_type(params: Params) -> Runner:
    type_id = params.required("QualificationTypeId")

    def run(ctx: Context) -> Xml:
        return qualification_type_fields(ctx.services.qualifications.get_type(ctx.requester_id, type_id))

    return run


def update_qualification_type(params: Params) -> Runner:
    type_id = params.required("QualificationTypeId")
    spec = _spec(params, creating=False)

    def run(ctx: Context) -> Xml:
        updated = ctx.services.qualifications.update_type(ctx.requester_id, type_id, spec)
        return qualification_type_fields(updated)

    return run


def dispose_qualification_type(params: Params) -> Runner:
    type_id = params.required("QualificationTypeId")

    def run(ctx: Context) -> Xml:
        ctx.services.qualifications.delete_type(ctx.requester_id, type_id)
        return ""

    return run


def search_qualification_types(params: Params) -> Runner:
    query = params.text("Query") or None
    requestable = params.boolean("MustBeRequestable")
    if requestable is None:
        params.required("MustBeRequestable")
    owned = bool(params.boolean("MustBeOwnedByCaller"))
    params.choice("SortProperty", ("Name",))
    descending = params.descending(default=True)  # the operation's documented default
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")

    def run(ctx: Context) -> Xml:
        page = ctx.services.qualifications.search_types(
            ctx.requester_id,
            query,
            bool(requestable),
            owned,
            page_size,
            page_number,
            descending=descending,
        )
        header = page_header(page)
        return header + xml.concat(qualification_type_element(t) for t in page.items)

    return run


def get_hits_for_qualification_type(params: Params) -> Runner:
    type_id = params.required("QualificationTypeId")
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")

    def run(ctx: Context) -> Xml:
        page = ctx.services.qualifications.hits_page(ctx.requester_id, type_id, page_size, page_number)
        header = page_header(page)
        return header + hits_xml(ctx, page.items, SEARCH_GROUPS)

    return run


def assign_qualification(params: Params) -> Runner:
    type_id = params.required("QualificationTypeId")
    worker_id = params.required("WorkerId")
    value = params.integer("IntegerValue")
    notify = params.boolean("SendNotification")

    def run(ctx: Context) -> Xml:
        ctx.services.qualification_grants.associate(
            ctx.requester_id,
            type_id,
            worker_id,
            value,
            notify=notify is not False,
            request_id=ctx.request_id,
        )
        return ""

    return run


def revoke_qualification(params: Params) -> Runner:
    worker_id = params.required("SubjectId")
    type_id = params.required("QualificationTypeId")
    reason = params.text("Reason") or None

    def run(ctx: Context) -> Xml:
        ctx.services.qualification_grants.disassociate(ctx.requester_id, type_id, worker_id, reason)
        return ""

    return run


def get_qualification_score(params: Params) -> Runner:
    type_id = params.required("QualificationTypeId")
    worker_id = params.required("SubjectId")

    def run(ctx: Context) -> Xml:
        found = ctx.services.qualification_grants.score(ctx.requester_id, type_id, worker_id)
        return qualification_fields(found)

    return run


def update_qualification_score(params: Params) -> Runner:
    type_id = params.required("QualificationTypeId")
    worker_id = params.required("SubjectId")
    value = params.required_integer("IntegerValue")

    def run(ctx: Context) -> Xml:
        ctx.services.qualification_grants.update_score(ctx.requester_id, type_id, worker_id, value)
        return ""

    return run


def get_qualifications_for_qualification_type(params: Params) -> Runner:
    type_id = params.required("QualificationTypeId")
    status = params.choice("Status", QUALIFICATION_STATUSES)
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")

    def run(ctx: Context) -> Xml:
        page = ctx.services.qualification_grants.workers_page(
            ctx.requester_id, type_id, status, page_size, page_number
        )
        header = page_header(page)
        return header + xml.concat(el("Qualification", qualification_fields(q)) for q in page.items)

    return run


def get_qualification_requests(params: Params) -> Runner:
    type_id = params.text("QualificationTypeId") or None
    # Only QualificationTypeId and SubmitTime were sort properties; boto 2 sends "Expiration" unless
    # told otherwise, which sorts by submission time like the default.
    by_type = params.text("SortProperty") == "QualificationTypeId"
    descending = params.descending()
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")

    def run(ctx: Context) -> Xml:
        page = ctx.services.qualification_grants.requests_page(
            ctx.requester_id, type_id, page_size, page_number, by_type=by_type, descending=descending
        )
        header = page_header(page)
        return header + xml.concat(qualification_request_element(r) for r in page.items)

    return run


def grant_qualification(params: Params) -> Runner:
    request_id = params.required("QualificationRequestId")
    value = params.integer("IntegerValue")

    def run(ctx: Context) -> Xml:
        ctx.services.qualification_grants.accept_request(ctx.requester_id, request_id, value)
        return ""

    return run


def reject_qualification_request(params: Params) -> Runner:
    request_id = params.required("QualificationRequestId")
    reason = params.text("Reason") or None

    def run(ctx: Context) -> Xml:
        ctx.services.qualification_grants.reject_request(ctx.requester_id, request_id, reason)
        return ""

    return run


OPERATIONS = {
    # These four answer with the structure itself as the result element, as CreateHIT does with HIT.
    "CreateQualificationType": Operation("QualificationType", create_qualification_type),
    "GetQualificationType": Operation("QualificationType", get_qualification_type),
    "UpdateQualificationType": Operation("QualificationType", update_qualification_type),
    "GetQualificationScore": Operation("Qualification", get_qualification_score),
    "DisposeQualificationType": Operation("DisposeQualificationTypeResult", dispose_qualification_type),
    "SearchQualificationTypes": Operation("SearchQualificationTypesResult", search_qualification_types),
    "GetHITsForQualificationType": Operation(
        "GetHITsForQualificationTypeResult", get_hits_for_qualification_type
    ),
    "AssignQualification": Operation("AssignQualificationResult", assign_qualification),
    "RevokeQualification": Operation("RevokeQualificationResult", revoke_qualification),
    "UpdateQualificationScore": Operation("UpdateQualificationScoreResult", update_qualification_score),
    "GetQualificationsForQualificationType": Operation(
        "GetQualificationsForQualificationTypeResult", get_qualifications_for_qualification_type
    ),
    "GetQualificationRequests": Operation("GetQualificationRequestsResult", get_qualification_requests),
    "GrantQualification": Operation("GrantQualificationResult", grant_qualification),
    "RejectQualificationRequest": Operation("RejectQualificationRequestResult", reject_qualification_request),
}
