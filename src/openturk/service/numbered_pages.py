"""Numbered pages for the legacy API: PageSize (1-100, default 10) and PageNumber (from 1).

The 2017 listings page by keyset (``service.paging``); the legacy operations name a page by its number
and report the total.  GetBonusPayments, SearchHITs, GetReviewableHITs and GetAssignmentsForHIT have
their queries here; every other legacy listing (qualification types, their workers, HITs and requests,
worker blocks) pages the very ``keyset_pages.Listing`` its 2017 counterpart pages, with ``numbered_page``.
Each query is read-only, isolated per requester and ordered exactly like its 2017 counterpart (grant,
creation or submission time, then id) unless a legacy SortProperty asks otherwise, so a row has the same
position through both APIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.engine import Connection

from openturk.errors import ParameterError
from openturk.service import slots, transitions
from openturk.service.bonuses import Bonus
from openturk.service.keyset_pages import Listing
from openturk.service.paging import NumberedPage, check_page
from openturk.service.records import Assignment, Hit
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import assignments, bonuses, hit_types, hits

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sort:
    """A legacy SortProperty and SortDirection: of SearchHITs and GetReviewableHITs
    (``HIT_SORT_PROPERTIES``) or of GetAssignmentsForHIT (``ASSIGNMENT_SORT_PROPERTIES``).  Ties keep
    the listing's own order."""

    prop: str
    descending: bool = False


_HIT_SORT_COLUMNS: dict[str, Any] = {
    "Title": hit_types.c.title,
    "Reward": hits.c.reward_cents,
    "Expiration": hits.c.expires_at,
    "CreationTime": hits.c.created_at,
    "Enumeration": hits.c.created_at,  # the order the HITs were made in
}
HIT_SORT_PROPERTIES = tuple(_HIT_SORT_COLUMNS)
_ASSIGNMENT_SORT_COLUMNS: dict[str, Any] = {
    "AcceptTime": assignments.c.accepted_at,
    "SubmitTime": assignments.c.submitted_at,
    "AssignmentStatus": assignments.c.status,
}
ASSIGNMENT_SORT_PROPERTIES = tuple(_ASSIGNMENT_SORT_COLUMNS)


def _order(sort: Sort | None, columns: dict[str, Any]) -> list[Any]:
    if sort is None:
        return []
    column = columns[sort.prop]
    return [column.desc() if sort.descending else column.asc()]


class NumberedPages:
    def __init__(self, tx: MarketTransactions) -> None:
        self._tx = tx

    def bonus_payments(
        self,
        requester_id: str,
        hit_id: str | None,
        assignment_id: str | None,
        page_size: int | None,
        page_number: int | None,
    ) -> NumberedPage[Bonus]:
        size, number = check_page(page_size, page_number)
        if assignment_id is not None:
            where = and_(bonuses.c.assignment_id == assignment_id, bonuses.c.requester_id == requester_id)
        elif hit_id is not None:
            where = and_(bonuses.c.hit_id == hit_id, bonuses.c.requester_id == requester_id)
        else:
            raise ParameterError(
                "Either the HITId parameter or the AssignmentId parameter must be specified."
            )
        query = select(bonuses).where(where).order_by(bonuses.c.granted_at, bonuses.c.entry_id)
        with self._tx.read() as (conn, _now):
            # Another requester's HIT or assignment answers as if it did not exist.
            if assignment_id is not None:
                transitions.load_assignment(conn, assignment_id, requester_id)
            elif hit_id is not None:
                slots.load_hit(conn, hit_id, requester_id)
            rows, total = _numbered(conn, query, _count(bonuses, where), size, number)
        return NumberedPage(tuple(Bonus.from_row(r) for r in rows), number, total)

    def hits(
        self,
        requester_id: str,
        page_size: int | None,
        page_number: int | None,
        sort: Sort | None = None,
    ) -> NumberedPage[Hit]:
        """Every HIT of the requester but the disposed ones, as ListHITs orders them unless ``sort``
        asks for another order."""
        where = and_(hits.c.requester_id == requester_id, hits.c.status != "Disposed")
        return self._hits(where, page_size, page_number, sort)

    def reviewable_hits(
        self,
        requester_id: str,
        hit_type_id: str | None,
        status: str | None,
        page_size: int | None,
        page_number: int | None,
        sort: Sort | None = None,
    ) -> NumberedPage[Hit]:
        """As ListReviewableHITs: Reviewable unless Reviewing is asked for, optionally of one HIT type."""
        where = and_(hits.c.requester_id == requester_id, hits.c.status == (status or "Reviewable"))
        if hit_type_id is not None:
            where = and_(where, hits.c.hit_type_id == hit_type_id)
        return self._hits(where, page_size, page_number, sort)

    def _hits(
        self,
        where: ColumnElement[bool],
        page_size: int | None,
        page_number: int | None,
        sort: Sort | None,
    ) -> NumberedPage[Hit]:
        size, number = check_page(page_size, page_number)
        query = (
            select(hits, hit_types)
            .join(hit_types, hit_types.c.id == hits.c.hit_type_id)
            .where(where)
            .order_by(*_order(sort, _HIT_SORT_COLUMNS), hits.c.created_at, hits.c.id)
        )
        with self._tx.read() as (conn, now):
            rows, total = _numbered(conn, query, _count(hits, where), size, number)
            items = tuple(Hit.from_row(r, r, now) for r in rows)
        return NumberedPage(items, number, total)

    def assignments_for_hit(
        self,
        requester_id: str,
        hit_id: str,
        statuses: Sequence[str] | None,
        page_size: int | None,
        page_number: int | None,
        sort: Sort | None = None,
    ) -> NumberedPage[Assignment]:
        """Submitted work only (as ListAssignmentsForHIT), in submission order unless ``sort`` asks
        for another."""
        size, number = check_page(page_size, page_number)
        visible = transitions.VISIBLE_TO_REQUESTER
        wanted = tuple(sorted(set(statuses or visible) & set(visible)))
        where = and_(assignments.c.hit_id == hit_id, assignments.c.status.in_(wanted))
        order = [*_order(sort, _ASSIGNMENT_SORT_COLUMNS), assignments.c.submitted_at, assignments.c.id]
        query = select(assignments).where(where).order_by(*order)
        with self._tx.read() as (conn, _now):
            slots.load_hit(conn, hit_id, requester_id)  # another requester's HIT does not exist
            rows, total = _numbered(conn, query, _count(assignments, where), size, number)
        return NumberedPage(tuple(Assignment.from_row(r) for r in rows), number, total)

    def similar_hits(self, requester_id: str, group_ids: Sequence[str]) -> dict[str, int]:
        """NumberOfSimilarHITs: per HIT group, how many of the requester's HITs in it are not disposed."""
        if not group_ids:
            return {}
        query = (
            select(hits.c.hit_group_id, func.count())
            .where(
                hits.c.requester_id == requester_id,
                hits.c.hit_group_id.in_(sorted(set(group_ids))),
                hits.c.status != "Disposed",
            )
            .group_by(hits.c.hit_group_id)
        )
        with self._tx.db.read() as conn:
            return {str(group): int(count) for group, count in conn.execute(query)}


def numbered_page(
    tx: MarketTransactions,
    listing: Listing[T],
    page_size: int | None,
    page_number: int | None,
    order: Sequence[Any] = (),
    *,
    descending: bool = False,
) -> NumberedPage[T]:
    """Page ``page_number`` of ``listing`` (the listing the 2017 operation pages by keyset), with the
    total; ``order`` (a legacy SortProperty) goes before the listing's own order, which breaks ties and
    runs backwards when ``descending``."""
    size, number = check_page(page_size, page_number)
    with tx.read() as (conn, now):
        if listing.check is not None:
            listing.check(conn)
        counted = listing.query.with_only_columns(func.count(), maintain_column_froms=True)
        key = [c.desc() for c in listing.key] if descending else list(listing.key)
        query = listing.query.order_by(*order, *key)
        rows, total = _numbered(conn, query, counted, size, number)
        items = tuple(listing.make(r, now) for r in rows)
    return NumberedPage(items, number, total)


def _numbered(
    conn: Connection, query: Select[Any], counted: Select[Any], size: int, number: int
) -> tuple[list[Any], int]:
    total = int(conn.execute(counted).scalar_one())
    rows = list(conn.execute(query.limit(size).offset((number - 1) * size)))
    return rows, total


def _count(table: Any, where: ColumnElement[bool]) -> Select[Any]:
    return select(func.count()).select_from(table).where(where)
