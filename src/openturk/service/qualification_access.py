"""Who may see and who may touch a qualification type.

Only a type's owner grants, revokes, scores, updates or deletes it, and only the owner sees its
AnswerKey and its workers.  Another requester sees an Active type (it is requestable by every worker,
and any HIT may require it) but touches nothing of it: writes answer PermissionDenied.  A type that is
Inactive or deleted is invisible to everyone but its owner.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from openturk.errors import PermissionDeniedError, QualificationTypeDoesNotExistError
from openturk.storage.schema_qualifications import qualification_types


def load_type(conn: Connection, type_id: str) -> Row[Any]:
    """The type's row whoever owns it and whatever its status; only its existence is checked."""
    row = conn.execute(select(qualification_types).where(qualification_types.c.id == type_id)).first()
    if row is None:
        raise QualificationTypeDoesNotExistError(type_id)
    return row


def visible_type(conn: Connection, requester_id: str | None, type_id: str) -> Row[Any]:
    """The type as ``requester_id`` may see it: system types, its own, and others' Active ones."""
    row = load_type(conn, type_id)
    mine = requester_id is not None and row.requester_id == requester_id
    if row.requester_id is None or mine or row.status == "Active":
        return row
    raise QualificationTypeDoesNotExistError(type_id)


def owned_type(conn: Connection, requester_id: str, type_id: str, doing: str) -> Row[Any]:
    """The caller's own live type, or why not: does not exist, deleted, or someone else's."""
    row = visible_type(conn, requester_id, type_id)
    if row.requester_id != requester_id:
        owner = "the system" if row.requester_id is None else "another requester"
        raise PermissionDeniedError(
            f"QualificationType {type_id} belongs to {owner}; only its owner can {doing}.",
            data={"QualificationTypeId": type_id},
        )
    if row.status == "Disposed":
        raise QualificationTypeDoesNotExistError(type_id)
    return row
