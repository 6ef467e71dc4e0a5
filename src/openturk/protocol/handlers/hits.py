"""HIT types and HITs: CreateHITType, CreateHIT, CreateHITWithHITType, GetHIT, ListHITs,
ListReviewableHITs, UpdateExpirationForHIT, UpdateHITReviewStatus, UpdateHITTypeOfHIT,
CreateAdditionalAssignmentsForHIT, DeleteHIT."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.errors import RequestError
from openturk.money import parse_cents
from openturk.protocol.handlers.base import Call, Handler
from openturk.protocol.handlers.shapes import hit_structure, paged
from openturk.service.records import HitSpec, HitTypeSpec


class UnsupportedFeatureError(RequestError):
    turk_code = legacy_code = "AWS.MechanicalTurk.NotImplemented"


def _type_spec(params: dict[str, Any]) -> HitTypeSpec:
    return HitTypeSpec(
        title=params["Title"],
        description=params["Description"],
        reward_cents=parse_cents(params["Reward"]),
        assignment_duration_s=params["AssignmentDurationInSeconds"],
        auto_approval_delay_s=params.get("AutoApprovalDelayInSeconds", 259_200),
        keywords=params.get("Keywords"),
        qualification_requirements=tuple(params.get("QualificationRequirements", ())),
    )


def _hit_spec(params: dict[str, Any]) -> HitSpec:
    for name in ("HITLayoutId", "HITLayoutParameters"):  # MTurk's stored layouts: none exist here
        if name in params:
            raise UnsupportedFeatureError(
                f"{name} is not supported by OpenTurk (it has no HIT layouts); send a Question document."
            )
    return HitSpec(
        question=params.get("Question"),
        lifetime_s=params["LifetimeInSeconds"],
        max_assignments=params.get("MaxAssignments", 1),
        requester_annotation=params.get("RequesterAnnotation"),
        unique_request_token=params.get("UniqueRequestToken"),
        assignment_review_policy=params.get("AssignmentReviewPolicy"),
        hit_review_policy=params.get("HITReviewPolicy"),
    )


def create_hit_type(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    return {"HITTypeId": call.services.hits.create_hit_type(call.requester_id, _type_spec(params))}


def create_hit(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    hit = call.services.hits.create_hit(
        call.requester_id, _type_spec(params), _hit_spec(params), request_id=call.request_id
    )
    return {"HIT": hit_structure(hit)}


def create_hit_with_hit_type(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    hit = call.services.hits.create_hit(
        call.requester_id, params["HITTypeId"], _hit_spec(params), request_id=call.request_id
    )
    return {"HIT": hit_structure(hit)}


def get_hit(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    return {"HIT": hit_structure(call.services.hits.get_hit(call.requester_id, params["HITId"]))}


def list_hits(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.hits.list_hits(call.requester_id, params.get("NextToken"), params.get("MaxResults"))
    return paged(page, "HITs", hit_structure)


def list_reviewable_hits(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.hits.list_reviewable(
        call.requester_id,
        params.get("HITTypeId"),
        params.get("Status"),
        params.get("NextToken"),
        params.get("MaxResults"),
    )
    return paged(page, "HITs", hit_structure)


def update_expiration_for_hit(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.hits.update_expiration(
        call.requester_id, params["HITId"], params["ExpireAt"], request_id=call.request_id
    )
    return {}


def update_hit_review_status(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.hits.update_review_status(
        call.requester_id, params["HITId"], bool(params.get("Revert", False))
    )
    return {}


def update_hit_type_of_hit(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.hits.update_hit_type_of_hit(
        call.requester_id, params["HITId"], params["HITTypeId"], request_id=call.request_id
    )
    return {}


def create_additional_assignments_for_hit(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.hits.create_additional_assignments(
        call.requester_id,
        params["HITId"],
        params["NumberOfAdditionalAssignments"],
        params.get("UniqueRequestToken"),
        request_id=call.request_id,
    )
    return {}


def delete_hit(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.hits.delete_hit(call.requester_id, params["HITId"], request_id=call.request_id)
    return {}


HANDLERS: dict[str, Handler] = {
    "CreateHITType": create_hit_type,
    "CreateHIT": create_hit,
    "CreateHITWithHITType": create_hit_with_hit_type,
    "GetHIT": get_hit,
    "ListHITs": list_hits,
    "ListReviewableHITs": list_reviewable_hits,
    "UpdateExpirationForHIT": update_expiration_for_hit,
    "UpdateHITReviewStatus": update_hit_review_status,
    "UpdateHITTypeOfHIT": update_hit_type_of_hit,
    "CreateAdditionalAssignmentsForHIT": create_additional_assignments_for_hit,
    "DeleteHIT": delete_hit,
}
