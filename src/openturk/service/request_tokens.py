"""UniqueRequestToken: remembered for a while, written in the transaction of what it guards.

The claim is one INSERT ... ON CONFLICT against the (requester, token) primary key: a new token is
inserted, a token whose lifetime is over is taken over (MTurk frees a token after 24 hours), and a live
one changes nothing, so two racing calls with one token cannot both pass: the database's unique
constraint decides, not a read-then-write.  On PostgreSQL the second racer waits for the first's commit
(or rollback, after which it claims the token itself).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from openturk.errors import DuplicateRequestError
from openturk.storage.prepared import Prepared, binds
from openturk.storage.schema import request_tokens

_COLUMNS = ("requester_id", "token", "operation", "request_id", "created_at", "expires_at", "result_id")


def _claim_statement(dialect: Any) -> Prepared:
    statement = dialect.insert(request_tokens).values(binds(_COLUMNS))
    excluded = statement.excluded
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=[request_tokens.c.requester_id, request_tokens.c.token],
            set_={c: excluded[c] for c in _COLUMNS[2:]},
            where=request_tokens.c.expires_at <= excluded.created_at,
        )
    )


_CLAIM = {"sqlite": _claim_statement(sqlite), "postgresql": _claim_statement(postgresql)}
_FIRST = Prepared(
    select(request_tokens.c.request_id).where(
        request_tokens.c.requester_id == bindparam("requester_id"),
        request_tokens.c.token == bindparam("token"),
    )
)


def claim(
    conn: Connection,
    *,
    requester_id: str,
    token: str,
    operation: str,
    request_id: str,
    now: datetime,
    lifetime: timedelta,
    result_id: str | None = None,
) -> None:
    claimed = _CLAIM[conn.dialect.name].execute(
        conn,
        {
            "requester_id": requester_id,
            "token": token,
            "operation": operation,
            "request_id": request_id,
            "created_at": now,
            "expires_at": now + lifetime,
            "result_id": result_id,
        },
    )
    if claimed.rowcount != 1:
        first = _FIRST.execute(conn, {"requester_id": requester_id, "token": token}).scalar_one()
        raise DuplicateRequestError(token, first)


def record_result(conn: Connection, *, requester_id: str, token: str, result_id: str) -> None:
    conn.execute(
        update(request_tokens)
        .where(request_tokens.c.requester_id == requester_id, request_tokens.c.token == token)
        .values(result_id=result_id)
    )
