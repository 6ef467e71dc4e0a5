"""Time periods of the legacy statistics and the arithmetic they share.

LifeToDate is everything up to now; ThirtyDays and SevenDays the last 30 or 7 x 24 hours; OneDay gives
``count`` data points, one per calendar day (UTC) up to and including today.  An aggregate's data point
is dated now, a day's at the start of that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.engine import Connection

from openturk.errors import ParameterOutOfRangeError

PERIODS = ("OneDay", "SevenDays", "ThirtyDays", "LifeToDate")
MAX_COUNT = 1000  # OneDay data points in one call (MTurk documented no limit)
_DAYS = {"SevenDays": 7, "ThirtyDays": 30}
_FRACTION = Decimal("0.000001")

Value = int | Decimal


@dataclass(frozen=True, slots=True)
class DataPoint:
    date: datetime
    value: Value


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime | None  # None: since the beginning
    end: datetime | None  # None: up to now (and anything a clock a little ahead wrote since)


def fraction(part: int, whole: int) -> Decimal:
    """part / whole between 0 and 1, to six places (0 when there is nothing to divide)."""
    return (Decimal(part) / Decimal(whole)).quantize(_FRACTION) if whole else Decimal(0)


def percent(part: int, whole: int) -> Decimal:
    """The worker statistics' "rounded percentage" (0 to 100)."""
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal(1)) if whole else Decimal(0)


def dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)  # 1250 -> 12.50, exact


def within(column: Any, window: Window) -> ColumnElement[bool]:
    bounds: list[ColumnElement[bool]] = []
    if window.start is not None:
        bounds.append(column >= window.start)
    if window.end is not None:
        bounds.append(column < window.end)
    return and_(true(), *bounds)


def scalar(conn: Connection, query: Any) -> int:
    return int(conn.execute(query).scalar_one() or 0)


def windows(period: str, count: int | None, now: datetime) -> list[tuple[datetime, Window]]:
    """The data points' dates and windows for a TimePeriod (and Count, OneDay only)."""
    if period == "LifeToDate":
        return [(now, Window(None, None))]
    if period in _DAYS:
        return [(now, Window(now - timedelta(days=_DAYS[period]), None))]
    days = 1 if count is None else count
    if not 1 <= days <= MAX_COUNT:
        raise ParameterOutOfRangeError(
            f"The value {days} for Count is out of range. It must be between 1 and {MAX_COUNT}.",
            data={"Count": str(days)},
        )
    today = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    starts = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    ends: list[datetime | None] = [*starts[1:], None]  # today runs up to now
    return [(start, Window(start, end)) for start, end in zip(starts, ends, strict=True)]
