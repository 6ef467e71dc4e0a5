"""HIT types and HITs: RegisterHITType, CreateHIT, GetHIT, SearchHITs, GetReviewableHITs, ExtendHIT,
ForceExpireHIT, DisableHIT, DisposeHIT, SetHITAsReviewing, ChangeHITTypeOfHIT.

Each parses its parameters and calls the service method the 2017 API's counterpart calls (CreateHITType,
CreateHIT, GetHIT, ListHITs, ListReviewableHITs, CreateAdditionalAssignmentsForHIT and
UpdateExpirationForHIT, DeleteHIT, UpdateHITReviewStatus, UpdateHITTypeOfHIT).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from openturk.errors import MissingParameterError, ParameterError
from openturk.protocol.legacy import structures, xml
from openturk.protocol.legacy.base import Context, Operation, Runner
from openturk.protocol.legacy.params import Params
from openturk.protocol.legacy.shapes import (
    DETAIL,
    MINIMAL,
    QUESTION,
    SUMMARY,
    hit_element,
    hit_fields,
    hit_groups,
    page_header,
)
from openturk.protocol.legacy.xml import Xml, text
from openturk.service.numbered_pages import HIT_SORT_PROPERTIES, Sort
from openturk.service.records import Hit, HitSpec, HitTypeSpec

# The legacy API's documented default (the 2017 API's is three days).
LEGACY_AUTO_APPROVAL_DELAY_S = 2_592_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Response groups each operation writes when the request names none of the HIT groups.
CREATE_GROUPS = frozenset({MINIMAL, DETAIL, QUESTION, SUMMARY})
GET_GROUPS = frozenset({MINIMAL, DETAIL, QUESTION})
SEARCH_GROUPS = frozenset({MINIMAL, DETAIL, SUMMARY})
REVIEWABLE_GROUPS = frozenset({MINIMAL})


def _type_spec(params: Params) -> HitTypeSpec:
    cents = params.price_cents("Reward")
    assert cents is not None
    delay = params.integer("AutoApprovalDelayInSeconds")
    return HitTypeSpec(
        title=params.required("Title"),
        description=params.required("Description"),
        reward_cents=cents,
        assignment_duration_s=params.required_integer("AssignmentDurationInSeconds"),
        auto_approval_delay_s=LEGACY_AUTO_APPROVAL_DELAY_S if delay is None else delay,
        keywords=params.text("Keywords"),
        qualification_requirements=structures.qualification_requirements(params),
    )


def hits_xml(ctx: Context, hits: Sequence[Hit], default: frozenset[str]) -> Xml:
    groups = hit_groups(ctx.response_groups, default)
    similar = (
        ctx.services.numbered_pages.similar_hits(ctx.requester_id, [h.hit_group_id for h in hits])
        if DETAIL in groups
        else {}
    )
    return xml.concat(hit_element(h, groups, similar) for h in hits)


def _one_hit_fields(ctx: Context, hit: Hit, default: frozenset[str]) -> Xml:
    groups = hit_groups(ctx.response_groups, default)
    similar = (
        ctx.services.numbered_pages.similar_hits(ctx.requester_id, [hit.hit_group_id])
        if DETAIL in groups
        else {}
    )
    return hit_fields(hit, groups, similar)


def register_hit_type(params: Params) -> Runner:
    spec = _type_spec(params)

    def run(ctx: Context) -> Xml:
        return text("HITTypeId", ctx.services.hits.create_hit_type(ctx.requester_id, spec)) or ""

    return run


def create_hit(params: Params) -> Runner:
    if "HITLayoutId" in params:
        raise ParameterError(
            "HITLayoutId is not supported by OpenTurk's legacy API; send a Question.",
            data={"Parameter": "HITLayoutId"},
        )
    type_id = params.text("HITTypeId") or None
    hit_type: HitTypeSpec | str = type_id if type_id is not None else _type_spec(params)
    max_assignments = params.integer("MaxAssignments")
    spec = HitSpec(
        question=params.required("Question"),
        lifetime_s=params.required_integer("LifetimeInSeconds"),
        max_assignments=1 if max_assignments is None else max_assignments,
        requester_annotation=params.text("RequesterAnnotation"),
        unique_request_token=params.text("UniqueRequestToken") or None,
        assignment_review_policy=structures.review_policy(params, "AssignmentReviewPolicy"),
        hit_review_policy=structures.review_policy(params, "HITReviewPolicy"),
    )

    def run(ctx: Context) -> Xml:
        hit = ctx.services.hits.create_hit(ctx.requester_id, hit_type, spec, request_id=ctx.request_id)
        return _one_hit_fields(ctx, hit, CREATE_GROUPS)

    return run


def get_hit(params: Params) -> Runner:
    hit_id = params.required("HITId")

    def run(ctx: Context) -> Xml:
        return _one_hit_fields(ctx, ctx.services.hits.get_hit(ctx.requester_id, hit_id), GET_GROUPS)

    return run


def sort(params: Params, properties: tuple[str, ...]) -> Sort | None:
    """SortProperty (one of ``properties``) and SortDirection; None when no SortProperty is given."""
    prop = params.choice("SortProperty", properties)
    descending = params.descending()
    return None if prop is None else Sort(prop, descending)


def search_hits(params: Params) -> Runner:
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")
    order = sort(params, HIT_SORT_PROPERTIES)

    def run(ctx: Context) -> Xml:
        page = ctx.services.numbered_pages.hits(ctx.requester_id, page_size, page_number, order)
        header = page_header(page)
        return header + hits_xml(ctx, page.items, SEARCH_GROUPS)

    return run


def get_reviewable_hits(params: Params) -> Runner:
    hit_type_id = params.text("HITTypeId") or None
    status = params.choice("Status", ("Reviewable", "Reviewing"))
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")
    order = sort(params, HIT_SORT_PROPERTIES)

    def run(ctx: Context) -> Xml:
        page = ctx.services.numbered_pages.reviewable_hits(
            ctx.requester_id, hit_type_id, status, page_size, page_number, order
        )
        header = page_header(page)
        return header + hits_xml(ctx, page.items, REVIEWABLE_GROUPS)

    return run


def extend_hit(params: Params) -> Runner:
    hit_id = params.required("HITId")
    more = params.integer("MaxAssignmentsIncrement")
    seconds = params.integer("ExpirationIncrementInSeconds")
    token = params.text("UniqueRequestToken") or None
    if more is None and seconds is None:
        raise MissingParameterError(
            "Your request is missing required parameters. Required parameters include "
            "MaxAssignmentsIncrement or ExpirationIncrementInSeconds.",
            data={"Parameter": "MaxAssignmentsIncrement"},
        )

    def run(ctx: Context) -> Xml:
        ctx.services.hits.extend(ctx.requester_id, hit_id, more, seconds, token, request_id=ctx.request_id)
        return ""

    return run


def force_expire_hit(params: Params) -> Runner:
    hit_id = params.required("HITId")

    def run(ctx: Context) -> Xml:
        # A time in the past expires the HIT now, as UpdateExpirationForHIT with ExpireAt 0 does.
        ctx.services.hits.update_expiration(ctx.requester_id, hit_id, _EPOCH, request_id=ctx.request_id)
        return ""

    return run


def disable_hit(params: Params) -> Runner:
    hit_id = params.required("HITId")

    def run(ctx: Context) -> Xml:
        ctx.services.hit_disabler.disable(ctx.requester_id, hit_id, request_id=ctx.request_id)
        return ""

    return run


def dispose_hit(params: Params) -> Runner:
    hit_id = params.required("HITId")

    def run(ctx: Context) -> Xml:
        ctx.services.hits.delete_hit(ctx.requester_id, hit_id, request_id=ctx.request_id)
        return ""

    return run


def set_hit_as_reviewing(params: Params) -> Runner:
    hit_id = params.required("HITId")
    revert = bool(params.boolean("Revert"))

    def run(ctx: Context) -> Xml:
        ctx.services.hits.update_review_status(ctx.requester_id, hit_id, revert)
        return ""

    return run


def change_hit_type_of_hit(params: Params) -> Runner:
    hit_id, type_id = params.required("HITId"), params.required("HITTypeId")

    def run(ctx: Context) -> Xml:
        ctx.services.hits.update_hit_type_of_hit(ctx.requester_id, hit_id, type_id, request_id=ctx.request_id)
        return ""

    return run


OPERATIONS = {
    "RegisterHITType": Operation("RegisterHITTypeResult", register_hit_type),
    "CreateHIT": Operation("HIT", create_hit),
    "GetHIT": Operation("HIT", get_hit),
    "SearchHITs": Operation("SearchHITsResult", search_hits),
    "GetReviewableHITs": Operation("GetReviewableHITsResult", get_reviewable_hits),
    "ExtendHIT": Operation("ExtendHITResult", extend_hit),
    "ForceExpireHIT": Operation("ForceExpireHITResult", force_expire_hit),
    "DisableHIT": Operation("DisableHITResult", disable_hit),
    "DisposeHIT": Operation("DisposeHITResult", dispose_hit),
    "SetHITAsReviewing": Operation("SetHITAsReviewingResult", set_hit_as_reviewing),
    "ChangeHITTypeOfHIT": Operation("ChangeHITTypeOfHITResult", change_hit_type_of_hit),
}
