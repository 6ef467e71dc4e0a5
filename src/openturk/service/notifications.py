"""UpdateNotificationSettings, SendTestEventNotification and the outbox as an operator sees it.

Destinations are checked the way MTurk documents them: an SQS queue URL
(``https://sqs.<region>.amazonaws.com/<account>/<queue>``; any http(s) host is accepted, so that a
local SQS-compatible service works, but the path must be ``/<12-digit account>/<queue name>``), an
SNS topic ARN (``arn:aws:sns:<region>:<account>:<topic>``) or an email address.  Version: the 2017 API
model says ``2006-05-05``, the data-structure page says ``2014-08-15``; both are accepted and the
message's EventDocVersion repeats the one given.  Ping is only valid for SendTestEventNotification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from openturk import ids
from openturk.errors import HITTypeDoesNotExistError, ParameterError
from openturk.service import events
from openturk.service.limits import check_length
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import hit_types
from openturk.storage.schema_events import event_outbox, notification_settings

TRANSPORTS = ("Email", "SQS", "SNS")
VERSIONS = ("2006-05-05", "2014-08-15")
_QUEUE_PATH = re.compile(r"/[0-9]{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?")
_TOPIC_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
)


@dataclass(frozen=True, slots=True)
class NotificationSpec:
    destination: str
    transport: str
    version: str
    event_types: tuple[str, ...]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> NotificationSpec:
        return cls(
            destination=str(params["Destination"]),
            transport=str(params["Transport"]),
            version=str(params["Version"]),
            event_types=tuple(params["EventTypes"]),
        )


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    requester_id: str
    event_type: str
    transport: str
    destination: str
    body: str
    created_at: datetime
    attempts: int
    delivered_at: datetime | None
    last_error: str | None


def _invalid(name: str, value: str, why: str) -> ParameterError:
    return ParameterError(
        f"The value {value!r} is not valid for the parameter {name}: {why}", data={name: value}
    )


def validate_spec(spec: NotificationSpec, *, test: bool = False) -> None:
    if spec.transport not in TRANSPORTS:
        raise _invalid("Transport", spec.transport, f"valid values are {', '.join(TRANSPORTS)}.")
    if spec.version not in VERSIONS:
        raise _invalid("Version", spec.version, f"valid values are {', '.join(VERSIONS)}.")
    if not spec.event_types:
        raise _invalid("EventTypes", "", "at least one event type is required.")
    for event_type in spec.event_types:
        if event_type not in events.EVENT_TYPES:
            raise _invalid("EventTypes", event_type, "not an event type.")
        if event_type == "Ping" and not test:
            raise _invalid("EventTypes", event_type, "Ping is only valid for SendTestEventNotification.")
    check_length("Destination", spec.destination)
    destination = spec.destination.strip()
    if spec.transport == "SQS" and not _is_queue_url(destination):
        raise _invalid("Destination", spec.destination, "it is not an Amazon SQS queue URL.")
    if spec.transport == "SNS" and _TOPIC_ARN.fullmatch(destination) is None:
        raise _invalid("Destination", spec.destination, "it is not an Amazon SNS topic ARN.")
    if spec.transport == "Email" and _EMAIL.fullmatch(destination) is None:
        raise _invalid("Destination", spec.destination, "it is not an email address.")


def _is_queue_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and _QUEUE_PATH.fullmatch(parts.path) is not None
    )


class NotificationService:
    def __init__(self, tx: MarketTransactions) -> None:
        self._tx = tx

    def update_settings(
        self, requester_id: str, hit_type_id: str, spec: NotificationSpec | None, active: bool | None
    ) -> None:
        """Replace the HIT type's specification and/or switch it on or off (MTurk's semantics)."""
        if spec is None and active is None:
            raise ParameterError(
                "You must specify either the Notification parameter or the Active parameter.",
                data={"HITTypeId": hit_type_id},
            )
        if spec is not None:
            validate_spec(spec)
        with self._tx.write() as (conn, now):
            owned = conn.execute(
                select(hit_types.c.id).where(
                    hit_types.c.id == hit_type_id, hit_types.c.requester_id == requester_id
                )
            ).first()
            if owned is None:
                raise HITTypeDoesNotExistError(hit_type_id)
            existing = conn.execute(
                select(notification_settings.c.active).where(
                    notification_settings.c.hit_type_id == hit_type_id
                )
            ).first()
            if spec is None:
                if existing is None:
                    raise ParameterError(
                        f"HIT type {hit_type_id} has no notification specification; provide Notification "
                        "to change its Active status.",
                        data={"HITTypeId": hit_type_id},
                    )
                if active is not None:
                    conn.execute(
                        update(notification_settings)
                        .where(notification_settings.c.hit_type_id == hit_type_id)
                        .values(active=active, updated_at=now)
                    )
                return
            values = {
                "requester_id": requester_id,
                "destination": spec.destination.strip(),
                "transport": spec.transport,
                "version": spec.version,
                "event_types": json.dumps(list(dict.fromkeys(spec.event_types))),
                # A new specification is active unless told otherwise (MTurk enables it on creation).
                "active": True if active is None else active,
                "updated_at": now,
            }
            _upsert(conn, hit_type_id, values)

    def send_test_event(self, requester_id: str, spec: NotificationSpec, test_event_type: str) -> None:
        """Queue one message of ``test_event_type`` to the destination; delivery sends it at once."""
        validate_spec(spec, test=True)
        if test_event_type not in events.EVENT_TYPES:  # the JSON model's enum; legacy brings any text
            raise _invalid("TestEventType", test_event_type, "not an event type.")
        with self._tx.write() as (conn, now):
            is_ping = test_event_type == "Ping"
            body = events.message_body(
                event_type=test_event_type,
                at=now,
                hit_type_id=None if is_ping else ids.entity_id(),
                hit_id=None if is_ping else ids.entity_id(),
                assignment_id=None if is_ping or test_event_type.startswith("HIT") else ids.entity_id(),
                requester_id=requester_id,
                version=spec.version,
            )
            events.enqueue(
                conn,
                now,
                requester_id=requester_id,
                event_type=test_event_type,
                transport=spec.transport,
                destination=spec.destination.strip(),
                body=body,
            )

    def outbox(
        self, transport: str | None = None, pending_only: bool = False, limit: int = 100
    ) -> list[OutboxMessage]:
        query = select(event_outbox).order_by(event_outbox.c.id.desc()).limit(limit)
        if transport is not None:
            query = query.where(event_outbox.c.transport == transport)
        if pending_only:
            query = query.where(event_outbox.c.delivered_at.is_(None))
        with self._tx.db.read() as conn:
            rows = conn.execute(query).all()
        return [
            OutboxMessage(
                id=int(r.id),
                requester_id=r.requester_id,
                event_type=r.event_type,
                transport=r.transport,
                destination=r.destination,
                body=r.body,
                created_at=r.created_at,
                attempts=int(r.attempts),
                delivered_at=r.delivered_at,
                last_error=r.last_error,
            )
            for r in reversed(rows)
        ]


def _upsert(conn: Connection, hit_type_id: str, values: dict[str, Any]) -> None:
    """Insert or replace one HIT type's specification in one statement (no read-then-write race)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(notification_settings).values(hit_type_id=hit_type_id, **values)
    conn.execute(
        statement.on_conflict_do_update(index_elements=[notification_settings.c.hit_type_id], set_=values)
    )


def email_text(message: OutboxMessage) -> tuple[str, str]:
    """Subject and body of the email a notification becomes (the Email transport's outbox)."""
    document = json.loads(message.body)
    lines = [
        f"{e['EventType']} at {e['EventTimestamp']}"
        + "".join(f", {k} {e[k]}" for k in ("HITTypeId", "HITId", "AssignmentId") if k in e)
        for e in document["Events"]
    ]
    subject = f"Amazon Mechanical Turk notification: {', '.join(e['EventType'] for e in document['Events'])}"
    return subject, "\n".join(lines) + f"\n\nEventDocId {document['EventDocId']}\n"


def describe(messages: Sequence[OutboxMessage]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        item: dict[str, Any] = {
            "id": m.id,
            "event_type": m.event_type,
            "transport": m.transport,
            "destination": m.destination,
            "created_at": m.created_at.isoformat(),
            "status": "delivered" if m.delivered_at is not None else "pending",
            "attempts": m.attempts,
            "message": json.loads(m.body),
        }
        if m.delivered_at is not None:
            item["delivered_at"] = m.delivered_at.isoformat()
        if m.last_error:
            item["last_error"] = m.last_error
        if m.transport == "Email":
            item["subject"], item["text"] = email_text(m)
        out.append(item)
    return out
