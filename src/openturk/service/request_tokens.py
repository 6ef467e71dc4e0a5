"""UniqueRequestToken: remembered for a while, written in the transaction of what it guards.

The claim is an INSERT against the (requester, token) primary key inside a savepoint, so two racing
calls with one token cannot both pass: the database's unique constraint decides, not a read-then-write.
A token whose lifetime is over is deleted first, which frees it for a new payment as MTurk documents.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from openturk.errors import DuplicateRequestError
from openturk.storage.schema import request_tokens


def claim(
    conn: Connection,
    *,
    requester_id: str,
    token: str,
    operation: str,
    request_id: str,
    now: datetime,
    lifetime: timedelta,
) -> None:
    key = (request_tokens.c.requester_id == requester_id) & (request_tokens.c.token == token)
    conn.execute(delete(request_tokens).where(key, request_tokens.c.expires_at <= now))
    try:
        with conn.begin_nested():
            conn.execute(
                insert(request_tokens).values(
                    requester_id=requester_id,
                    token=token,
                    operation=operation,
                    request_id=request_id,
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
    except IntegrityError:
        first = conn.execute(select(request_tokens.c.request_id).where(key)).scalar_one()
        raise DuplicateRequestError(token, first) from None


def record_result(conn: Connection, *, requester_id: str, token: str, result_id: str) -> None:
    conn.execute(
        update(request_tokens)
        .where(request_tokens.c.requester_id == requester_id, request_tokens.c.token == token)
        .values(result_id=result_id)
    )
