"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT ids for big journals.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UtcTimestamp(TypeDecorator[datetime]):
    """An aware UTC datetime stored as integer microseconds since the epoch.

    Integers compare and index identically on both databases (keyset paging relies on that) and
    avoid SQLite's text timestamps losing their zone.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"UtcTimestamp needs an aware datetime, got {value!r}")
        return to_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_micros(int(value))


def to_micros(value: datetime) -> int:
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)
