"""Qualification types, worker qualifications and requests, worker blocks and NotifyWorkers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.protocol.handlers.base import Call, Handler
from openturk.protocol.handlers.shapes import hit_structure, paged
from openturk.service.qualification_records import (
    Qualification,
    QualificationRequest,
    QualificationType,
    TypeSpec,
)
from openturk.service.worker_relations import WorkerBlock


def type_structure(qt: QualificationType) -> dict[str, Any]:
    return {
        "QualificationTypeId": qt.id,
        "CreationTime": qt.created_at,
        "Name": qt.name,
        "Description": qt.description,
        "Keywords": qt.keywords,
        "QualificationTypeStatus": qt.status,
        "Test": qt.test,
        "TestDurationInSeconds": qt.test_duration_s,
        "AnswerKey": qt.answer_key,
        "RetryDelayInSeconds": qt.retry_delay_s,
        "IsRequestable": qt.is_requestable,
        "AutoGranted": qt.auto_granted,
        "AutoGrantedValue": qt.auto_granted_value,
    }


def qualification_structure(q: Qualification) -> dict[str, Any]:
    locale = None
    if q.country is not None:
        locale = {"Country": q.country, "Subdivision": q.subdivision}
    return {
        "QualificationTypeId": q.type_id,
        "WorkerId": q.worker_id,
        "GrantTime": q.granted_at,
        "IntegerValue": q.integer_value,
        "LocaleValue": locale,
        "Status": q.status,
    }


def request_structure(r: QualificationRequest) -> dict[str, Any]:
    return {
        "QualificationRequestId": r.id,
        "QualificationTypeId": r.type_id,
        "WorkerId": r.worker_id,
        "Test": r.test,
        "Answer": r.answer,
        "SubmitTime": r.submitted_at,
    }


def block_structure(b: WorkerBlock) -> dict[str, Any]:
    return {"WorkerId": b.worker_id, "Reason": b.reason}


def _spec(params: dict[str, Any]) -> TypeSpec:
    return TypeSpec(
        name=params.get("Name"),
        description=params.get("Description"),
        keywords=params.get("Keywords"),
        status=params.get("QualificationTypeStatus"),
        retry_delay_s=params.get("RetryDelayInSeconds"),
        test=params.get("Test"),
        answer_key=params.get("AnswerKey"),
        test_duration_s=params.get("TestDurationInSeconds"),
        auto_granted=params.get("AutoGranted"),
        auto_granted_value=params.get("AutoGrantedValue"),
    )


def create_qualification_type(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    created = call.services.qualifications.create_type(call.requester_id, _spec(params))
    return {"QualificationType": type_structure(created)}


def get_qualification_type(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    found = call.services.qualifications.get_type(call.requester_id, params["QualificationTypeId"])
    return {"QualificationType": type_structure(found)}


def update_qualification_type(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    updated = call.services.qualifications.update_type(
        call.requester_id, params["QualificationTypeId"], _spec(params)
    )
    return {"QualificationType": type_structure(updated)}


def delete_qualification_type(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.qualifications.delete_type(call.requester_id, params["QualificationTypeId"])
    return {}


def list_qualification_types(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.qualifications.list_types(
        call.requester_id,
        params.get("Query"),
        bool(params["MustBeRequestable"]),
        bool(params.get("MustBeOwnedByCaller", False)),
        params.get("NextToken"),
        params.get("MaxResults"),
    )
    return paged(page, "QualificationTypes", type_structure)


def associate_qualification_with_worker(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.qualification_grants.associate(
        call.requester_id,
        params["QualificationTypeId"],
        params["WorkerId"],
        params.get("IntegerValue"),
        notify=params.get("SendNotification", True),
        request_id=call.request_id,
    )
    return {}


def disassociate_qualification_from_worker(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.qualification_grants.disassociate(
        call.requester_id, params["QualificationTypeId"], params["WorkerId"], params.get("Reason")
    )
    return {}


def get_qualification_score(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    found = call.services.qualification_grants.score(
        call.requester_id, params["QualificationTypeId"], params["WorkerId"]
    )
    return {"Qualification": qualification_structure(found)}


def list_workers_with_qualification_type(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.qualification_grants.list_workers(
        call.requester_id,
        params["QualificationTypeId"],
        params.get("Status"),
        params.get("NextToken"),
        params.get("MaxResults"),
    )
    return paged(page, "Qualifications", qualification_structure)


def list_hits_for_qualification_type(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.qualifications.list_hits(
        call.requester_id, params["QualificationTypeId"], params.get("NextToken"), params.get("MaxResults")
    )
    return paged(page, "HITs", hit_structure)


def list_qualification_requests(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.qualification_grants.list_requests(
        call.requester_id,
        params.get("QualificationTypeId"),
        params.get("NextToken"),
        params.get("MaxResults"),
    )
    return paged(page, "QualificationRequests", request_structure)


def accept_qualification_request(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.qualification_grants.accept_request(
        call.requester_id, params["QualificationRequestId"], params.get("IntegerValue")
    )
    return {}


def reject_qualification_request(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.qualification_grants.reject_request(
        call.requester_id, params["QualificationRequestId"], params.get("Reason")
    )
    return {}


def create_worker_block(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.worker_relations.block(call.requester_id, params["WorkerId"], params["Reason"])
    return {}


def delete_worker_block(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.worker_relations.unblock(call.requester_id, params["WorkerId"])
    return {}


def list_worker_blocks(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.worker_relations.list_blocks(
        call.requester_id, params.get("NextToken"), params.get("MaxResults")
    )
    return paged(page, "WorkerBlocks", block_structure)


def notify_workers(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    failures = call.services.worker_relations.notify(
        call.requester_id,
        params["Subject"],
        params["MessageText"],
        params["WorkerIds"],
        request_id=call.request_id,
    )
    return {
        "NotifyWorkersFailureStatuses": [
            {
                "NotifyWorkersFailureCode": f.code,
                "NotifyWorkersFailureMessage": f.message,
                "WorkerId": f.worker_id,
            }
            for f in failures
        ]
    }


HANDLERS: dict[str, Handler] = {
    "CreateQualificationType": create_qualification_type,
    "GetQualificationType": get_qualification_type,
    "UpdateQualificationType": update_qualification_type,
    "DeleteQualificationType": delete_qualification_type,
    "ListQualificationTypes": list_qualification_types,
    "AssociateQualificationWithWorker": associate_qualification_with_worker,
    "DisassociateQualificationFromWorker": disassociate_qualification_from_worker,
    "GetQualificationScore": get_qualification_score,
    "ListWorkersWithQualificationType": list_workers_with_qualification_type,
    "ListHITsForQualificationType": list_hits_for_qualification_type,
    "ListQualificationRequests": list_qualification_requests,
    "AcceptQualificationRequest": accept_qualification_request,
    "RejectQualificationRequest": reject_qualification_request,
    "CreateWorkerBlock": create_worker_block,
    "DeleteWorkerBlock": delete_worker_block,
    "ListWorkerBlocks": list_worker_blocks,
    "NotifyWorkers": notify_workers,
}
