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

from sqlalchemy import ColumnElement, and_
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
    end: datetime


def fraction(part: int, whole: int) -> Decimal:
    """part / whole between 0 and 1, to six places (0 when there is nothing to divide)."""
    return (Decimal(part) / Decimal(whole)).quantize(_FRACTION) if whole else Decimal(0)


def percent(part: int, whole: int) -> Decimal:
    """The worker statistics' "rounded percentage" (0 to 100)."""
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal(1)) if whole else Decimal(0)


def dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)  # 1250 -> 12.50, exact


def within(column: Any, window: Window) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column < window.end
    if window.start is not None:
        condition = and_(column >= window.start, condition)
    return condition


def scalar(conn: Connection, query: Any) -> int:
    return int(conn.execute(query).scalar_one() or 0)


def windows(period: str, count: int | None, now: datetime) -> list[tuple[datetime, Window]]:
    """The data points' dates and windows for a TimePeriod (and Count, OneDay only)."""
    if period == "LifeToDate":
        return [(now, Window(None, now))]
    if period in _DAYS:
        return [(now, Window(now - timedelta(days=_DAYS[period]), now))]
    days = 1 if count is None else count
    if not 1 <= days <= MAX_COUNT:
        raise ParameterOutOfRangeError(
            f"The value {days} for Count is out of range. It must be between 1 and {MAX_COUNT}.",
            data={"Count": str(days)},
        )
    today = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    starts = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return [(start, Window(start, min(start + timedelta(days=1), now))) for start in starts]
