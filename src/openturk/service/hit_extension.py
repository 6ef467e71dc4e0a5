"""Growing a HIT: more assignments (CreateAdditionalAssignmentsForHIT), a new expiration
(UpdateExpirationForHIT), or both at once (the legacy ExtendHIT).

Each is done on a connection inside the caller's write transaction, so that ExtendHIT's two changes, their
money and their UniqueRequestToken are committed together or not at all: a refused expiration never leaves
paid-for assignments behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection, Row

from openturk.errors import (
    InvalidMaximumAssignmentsIncreaseError,
    ParameterError,
    ParameterOutOfRangeError,
)
from openturk.service import events, slots
from openturk.service.limits import check_range
from openturk.storage.schema import hits

# ExtendHIT's ExpirationIncrementInSeconds: a minute to a year (the legacy API's documented range).
INCREMENT_RANGE = (60, 31_536_000)


def check_count(count: int) -> None:
    if count < 1:
        raise ParameterError(
            f"The value {count} is not valid for NumberOfAdditionalAssignments. It must be at least 1."
        )


def check_increment(increment_s: int) -> None:
    low, high = INCREMENT_RANGE
    if not low <= increment_s <= high:
        raise ParameterOutOfRangeError(
            f"The value {increment_s} for ExpirationIncrementInSeconds is out of range. "
            f"It must be between {low} and {high}.",
            data={"ExpirationIncrementInSeconds": str(increment_s)},
        )


def extended_expiration(hit: Row[Any], now: datetime, increment_s: int) -> datetime:
    """The current expiration (or now, once expired) plus the increment."""
    current: datetime = max(hit.expires_at, now)
    try:
        return current + timedelta(seconds=increment_s)
    except OverflowError:  # a HIT already set to expire at the end of year 9999
        raise ParameterOutOfRangeError(
            f"The HIT already expires at {current.isoformat()}; it cannot be extended further.",
            data={"ExpirationIncrementInSeconds": str(increment_s)},
        ) from None


def add_assignments(
    conn: Connection, now: datetime, hit: Row[Any], count: int, threshold: int, request_id: str
) -> None:
    """Reserve the price of ``count`` more assignments and offer them (``threshold``: the fee setting's
    number of assignments from which the higher commission applies, which a HIT may not grow across)."""
    if hit.max_assignments < threshold <= hit.max_assignments + count:
        raise InvalidMaximumAssignmentsIncreaseError(
            f"HITs created with fewer than {threshold} assignments cannot be extended to have "
            f"{threshold} or more assignments.",
            data={"HITId": hit.id},
        )
    check_range("MaxAssignments", hit.max_assignments + count)
    slots.reserve(conn, hit, count, at=now, request_id=request_id)
    conn.execute(
        update(hits).where(hits.c.id == hit.id).values(max_assignments=hits.c.max_assignments + count)
    )
    events.record_event(conn, now, "HITExtended", hit.id)
    slots.settle(conn, hit.id, now, request_id)


def set_expiration(
    conn: Connection, now: datetime, hit: Row[Any], expire_at: datetime, request_id: str
) -> None:
    """A time in the past expires the HIT now; a later one extends it, reserving again any slots whose
    money went back to the requester when it expired."""
    if expire_at <= now:
        conn.execute(update(hits).where(hits.c.id == hit.id).values(expires_at=min(hit.expires_at, now)))
    else:
        if hit.num_released:
            slots.reserve(conn, hit, hit.num_released, at=now, request_id=request_id)
        conn.execute(
            update(hits)
            .where(hits.c.id == hit.id)
            .values(expires_at=expire_at, num_released=0, expiry_settled=False)
        )
        events.record_event(conn, now, "HITExtended", hit.id)
    slots.settle(conn, hit.id, now, request_id)
