"""HIT and assignment events into the durable outbox, in the caller's transaction.

``record_event`` is called by the code that changes state (transitions, HITs, the worker side, the
clock's settlement), inside the same transaction: if that transaction rolls back, the outbox row goes
with it, and once it commits the row is there for ``notifications_delivery`` to send, however often the
server restarts.  A HIT type without an active notification specification subscribed to the event costs
one indexed read and writes nothing.

The message is MTurk's notification document (as received from SQS, or as the ``Message`` of an SNS
notification), one event per message:

    {"Events": [{"EventType": "AssignmentSubmitted", "EventTimestamp": "2019-08-09T21:17:16Z",
                 "HITId": "...", "AssignmentId": "...", "HITTypeId": "..."}],
     "EventDocId": "<40 hex>", "SourceAccount": "<12 digits>", "CustomerId": "<requester id>",
     "EventDocVersion": "<the specification's Version>"}

HIT events (HITCreated, HITExtended, HITDisposed, HITReviewable, HITExpired) carry no AssignmentId.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from openturk.storage.schema import hits
from openturk.storage.schema_events import event_outbox, notification_settings

EVENT_TYPES = (
    "AssignmentAccepted",
    "AssignmentAbandoned",
    "AssignmentReturned",
    "AssignmentSubmitted",
    "AssignmentRejected",
    "AssignmentApproved",
    "HITCreated",
    "HITExpired",
    "HITReviewable",
    "HITExtended",
    "HITDisposed",
    "Ping",
)
# The AWS account notifications come from (real MTurk shows its own); unconfirmed, so configurable.
SOURCE_ACCOUNT = os.environ.get("OPENTURK_NOTIFICATION_SOURCE_ACCOUNT", "000000000000")


def event_timestamp(at: datetime) -> str:
    """MTurk's EventTimestamp: UTC to the second, such as 2005-01-31T23:59:59Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def message_body(
    *,
    event_type: str,
    at: datetime,
    hit_type_id: str | None,
    hit_id: str | None,
    assignment_id: str | None,
    requester_id: str,
    version: str,
) -> str:
    event: dict[str, Any] = {"EventType": event_type, "EventTimestamp": event_timestamp(at)}
    if hit_id is not None:
        event["HITId"] = hit_id
    if assignment_id is not None:
        event["AssignmentId"] = assignment_id
    if hit_type_id is not None:
        event["HITTypeId"] = hit_type_id
    document = {
        "Events": [event],
        "EventDocId": secrets.token_hex(20),
        "SourceAccount": SOURCE_ACCOUNT,
        "CustomerId": requester_id,
        "EventDocVersion": version,
    }
    return json.dumps(document, separators=(",", ":"))


def enqueue(
    conn: Connection,
    now: datetime,
    *,
    requester_id: str,
    event_type: str,
    transport: str,
    destination: str,
    body: str,
    hit_id: str | None = None,
    assignment_id: str | None = None,
) -> None:
    conn.execute(
        insert(event_outbox).values(
            requester_id=requester_id,
            event_type=event_type,
            transport=transport,
            destination=destination,
            body=body,
            hit_id=hit_id,
            assignment_id=assignment_id,
            created_at=now,
            attempts=0,
            # Delivery times are wall-clock: the marketplace clock may be far ahead of it.
            next_attempt_at=datetime.now(UTC),
        )
    )


# Asked on every HIT and assignment change, so built once.
_ACTIVE_SETTINGS_OF_HIT = (
    select(hits.c.hit_type_id, notification_settings)
    .join(notification_settings, notification_settings.c.hit_type_id == hits.c.hit_type_id)
    .where(hits.c.id == bindparam("hit_id"), notification_settings.c.active)
)


def record_event(
    conn: Connection, now: datetime, event_type: str, hit_id: str, assignment_id: str | None = None
) -> None:
    """Queue ``event_type`` about a HIT (and an assignment) if its HIT type's notification wants it."""
    found = conn.execute(_ACTIVE_SETTINGS_OF_HIT, {"hit_id": hit_id}).first()
    if found is None or event_type not in json.loads(found.event_types):
        return
    body = message_body(
        event_type=event_type,
        at=now,
        hit_type_id=found.hit_type_id,
        hit_id=hit_id,
        assignment_id=assignment_id,
        requester_id=found.requester_id,
        version=found.version,
    )
    enqueue(
        conn,
        now,
        requester_id=found.requester_id,
        event_type=event_type,
        transport=found.transport,
        destination=found.destination,
        body=body,
        hit_id=hit_id,
        assignment_id=assignment_id,
    )


def hit_settled(
    conn: Connection, before: Any, changed: dict[str, Any], now: datetime, request_id: str | None
) -> None:
    """Called by ``slots.settle`` after it changed a HIT: HITExpired when its expiry was settled,
    HITReviewable (and the HIT review policy) when it became Reviewable other than by a Revert."""
    if changed.get("expiry_settled") and not before.expiry_settled:
        record_event(conn, now, "HITExpired", before.id)
    if changed.get("status") == "Reviewable" and before.status != "Reviewing":
        record_event(conn, now, "HITReviewable", before.id)
        from openturk.service import review_policies  # late: it acts through transitions, which use slots

        review_policies.hit_became_reviewable(conn, before.id, now, request_id)
