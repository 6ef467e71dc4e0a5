"""storage.prepared: Core statements run on the driver connection behave as through SQLAlchemy, on
SQLite and on PostgreSQL: types converted both ways, IN lists of constants, RETURNING, rowcounts,
several rows at once, driver errors raised as SQLAlchemy's, and all of it inside the caller's
transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from openturk.service.services import Services, open_services
from openturk.settings import Settings
from openturk.storage.prepared import Prepared
from openturk.storage.schema import journal_entries, request_tokens

WHEN = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    opened = open_services(Settings().with_db(db_url))
    yield opened
    opened.close()


@pytest.fixture
def requester(services: Services) -> str:
    return services.accounts.create_requester("prepared").requester.id


_NEW_TOKEN = Prepared(
    insert(request_tokens).values(
        {
            name: bindparam(name)
            for name in ("requester_id", "token", "operation", "request_id", "created_at", "expires_at")
        }
    )
)
_TOKENS = Prepared(
    select(request_tokens.c.token, request_tokens.c.created_at, request_tokens.c.result_id)
    .where(
        request_tokens.c.requester_id == bindparam("requester_id"),
        request_tokens.c.operation.in_(["SendBonus", "CreateHIT"]),
        request_tokens.c.created_at >= bindparam("since"),
    )
    .order_by(request_tokens.c.token)
)
_SET_RESULT = Prepared(
    update(request_tokens)
    .where(request_tokens.c.requester_id == bindparam("requester_id"))
    .values(result_id=bindparam("result"))
)
_NEW_ENTRY = Prepared(
    insert(journal_entries)
    .values(kind=bindparam("kind"), created_at=bindparam("created_at"))
    .returning(journal_entries.c.id, journal_entries.c.created_at)
)


def _token(requester: str, token: str, operation: str) -> dict[str, object]:
    return {
        "requester_id": requester,
        "token": token,
        "operation": operation,
        "request_id": f"r-{token}",
        "created_at": WHEN,
        "expires_at": WHEN + timedelta(days=1),
    }


def test_rows_types_in_lists_and_rowcounts(services: Services, requester: str) -> None:
    with services.db.write() as conn:
        _NEW_TOKEN.executemany(
            conn,
            [
                _token(requester, "b", "SendBonus"),
                _token(requester, "a", "CreateHIT"),
                _token(requester, "c", "ApproveAssignment"),  # not in the IN list
            ],
        )
        rows = _TOKENS.execute(conn, {"requester_id": requester, "since": WHEN}).all()
        assert [row.token for row in rows] == ["a", "b"]
        assert rows[0].created_at == WHEN  # microseconds and zone survive the round trip
        assert rows[0]._mapping == {"token": "a", "created_at": WHEN, "result_id": None}
        later = {"requester_id": requester, "since": WHEN + timedelta(days=1)}
        assert _TOKENS.execute(conn, later).first() is None
        assert _SET_RESULT.execute(conn, {"requester_id": requester, "result": "X"}).rowcount == 3
        # The same transaction, seen through SQLAlchemy as well.
        seen = conn.execute(select(request_tokens.c.result_id).where(request_tokens.c.token == "c"))
        assert seen.scalar_one() == "X"


def test_returning(services: Services) -> None:
    with services.db.write() as conn:
        first = _NEW_ENTRY.execute(conn, {"kind": "test", "created_at": WHEN}).one()
        second = _NEW_ENTRY.execute(conn, {"kind": "test", "created_at": WHEN}).one()
    assert second.id > first.id
    assert first.created_at == WHEN


def _insert_then_fail(services: Services, requester: str) -> None:
    with services.db.write() as conn:
        _NEW_TOKEN.execute(conn, _token(requester, "gone", "SendBonus"))
        raise RuntimeError("the caller failed")


def test_rolled_back_with_the_transaction(services: Services, requester: str) -> None:
    with pytest.raises(RuntimeError):
        _insert_then_fail(services, requester)
    with services.db.read() as conn:
        assert _TOKENS.execute(conn, {"requester_id": requester, "since": WHEN}).all() == []


def test_driver_errors_are_sqlalchemy_errors(services: Services, requester: str) -> None:
    with services.db.write() as conn:
        _NEW_TOKEN.execute(conn, _token(requester, "twice", "SendBonus"))
    with pytest.raises(IntegrityError) as raised, services.db.write() as conn:
        _NEW_TOKEN.execute(conn, _token(requester, "twice", "SendBonus"))
    assert isinstance(raised.value, DBAPIError)
    assert not raised.value.connection_invalidated
    # The failed transaction rolled back and the connection is usable again.
    with services.db.read() as conn:
        assert len(_TOKENS.execute(conn, {"requester_id": requester, "since": WHEN}).all()) == 1
