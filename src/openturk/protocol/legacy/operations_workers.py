"""Workers and notifications: BlockWorker, UnblockWorker, GetBlockedWorkers, NotifyWorkers,
SetHITTypeNotification and SendTestEventNotification, the service calls of CreateWorkerBlock,
DeleteWorkerBlock, ListWorkerBlocks, NotifyWorkers, UpdateNotificationSettings and
SendTestEventNotification.

A legacy Notification structure is flattened as ``Notification.1.Destination``, ``.Transport``,
``.Version`` and ``.EventType.N``; the transports are the 2017 API's (Email, SQS, SNS): the legacy REST
and SOAP transports, which MTurk retired in 2014, are refused as invalid Transport values.
"""

from __future__ import annotations

from openturk.protocol.legacy import structures, xml
from openturk.protocol.legacy.base import Context, Operation, Runner
from openturk.protocol.legacy.params import Params
from openturk.protocol.legacy.shapes import page_header, worker_block_element
from openturk.protocol.legacy.xml import Xml, el, text
from openturk.service import notifications_delivery


def block_worker(params: Params) -> Runner:
    worker_id = params.required("WorkerId")
    reason = params.required("Reason")

    def run(ctx: Context) -> Xml:
        ctx.services.worker_relations.block(ctx.requester_id, worker_id, reason)
        return ""

    return run


def unblock_worker(params: Params) -> Runner:
    worker_id = params.required("WorkerId")  # its optional Reason is not kept, as DeleteWorkerBlock's

    def run(ctx: Context) -> Xml:
        ctx.services.worker_relations.unblock(ctx.requester_id, worker_id)
        return ""

    return run


def get_blocked_workers(params: Params) -> Runner:
    page_size, page_number = params.integer("PageSize"), params.integer("PageNumber")

    def run(ctx: Context) -> Xml:
        page = ctx.services.worker_relations.blocks_page(ctx.requester_id, page_size, page_number)
        # This result puts PageNumber first (its documentation's table and sample agree).
        header = page_header(page, number_first=True)
        return header + xml.concat(worker_block_element(b) for b in page.items)

    return run


def notify_workers(params: Params) -> Runner:
    subject = params.required("Subject")
    message = params.required("MessageText")
    worker_ids = params.indexed("WorkerId")
    if not worker_ids:
        params.required("WorkerId.1")

    def run(ctx: Context) -> Xml:
        failures = ctx.services.worker_relations.notify(
            ctx.requester_id, subject, message, worker_ids, request_id=ctx.request_id
        )
        return xml.concat(
            el(
                "NotifyWorkersFailureStatus",
                text("NotifyWorkersFailureCode", f.code),
                text("NotifyWorkersFailureMessage", f.message),
                text("WorkerId", f.worker_id),
            )
            for f in failures
        )

    return run


def set_hit_type_notification(params: Params) -> Runner:
    hit_type_id = params.required("HITTypeId")
    spec = structures.notification(params, required=False)
    active = params.boolean("Active")  # absent: the HIT type's active status stays as it is

    def run(ctx: Context) -> Xml:
        ctx.services.notifications.update_settings(ctx.requester_id, hit_type_id, spec, active)
        return ""

    return run


def send_test_event_notification(params: Params) -> Runner:
    spec = structures.notification(params, required=True)
    assert spec is not None
    event_type = params.required("TestEventType")

    def run(ctx: Context) -> Xml:
        ctx.services.notifications.send_test_event(ctx.requester_id, spec, event_type)
        notifications_delivery.wake()  # "the service attempts to send the test notification immediately"
        return ""

    return run


OPERATIONS = {
    "BlockWorker": Operation("BlockWorkerResult", block_worker),
    "UnblockWorker": Operation("UnblockWorkerResult", unblock_worker),
    "GetBlockedWorkers": Operation("GetBlockedWorkersResult", get_blocked_workers),
    "NotifyWorkers": Operation("NotifyWorkersResult", notify_workers),
    "SetHITTypeNotification": Operation("SetHITTypeNotificationResult", set_hit_type_notification),
    "SendTestEventNotification": Operation("SendTestEventNotificationResult", send_test_event_notification),
}
