"""ListReviewPolicyResultsForHIT: the HIT's stored policies and a page of its review records; and the
legacy GetReviewResultsForHIT, which pages each policy level's records by number."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Row

from openturk.service import slots
from openturk.service.paging import NumberedPage, PageTokens, Position, check_page, page_size
from openturk.service.review_policies.records import stored_policies
from openturk.storage.schema_events import review_records

if TYPE_CHECKING:  # uow imports transitions, which imports the review_policies package
    from openturk.service.uow import MarketTransactions


@dataclass(frozen=True, slots=True)
class ReviewReport:
    hit_id: str
    assignment_policy: dict[str, Any] | None
    hit_policy: dict[str, Any] | None
    records: tuple[Row[Any], ...]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class LevelPage:
    """One policy level's records (results and actions, in the order they were made), numbered."""

    level: str  # Assignment or HIT
    records: NumberedPage[Row[Any]]


@dataclass(frozen=True, slots=True)
class NumberedReviewReport:
    hit_id: str
    assignment_policy: dict[str, Any] | None
    hit_policy: dict[str, Any] | None
    levels: tuple[LevelPage, ...]


def _levels_and_kinds(
    levels: Sequence[str] | None, retrieve_actions: bool, retrieve_results: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    wanted_levels = tuple(sorted(set(levels or ("Assignment", "HIT"))))
    kinds = tuple(k for k, on in (("action", retrieve_actions), ("result", retrieve_results)) if on)
    return wanted_levels, kinds


def _policies(conn: Connection, hit_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    stored = stored_policies(conn, hit_id)
    if stored is None:
        return None, None
    assignment = None if stored.assignment_policy is None else json.loads(stored.assignment_policy)
    hit = None if stored.hit_policy is None else json.loads(stored.hit_policy)
    return assignment, hit


class ReviewPolicyService:
    def __init__(self, tx: MarketTransactions, tokens: PageTokens) -> None:
        self._tx = tx
        self._tokens = tokens

    def results(
        self,
        requester_id: str,
        hit_id: str,
        levels: Sequence[str] | None,
        retrieve_actions: bool,
        retrieve_results: bool,
        next_token: str | None,
        max_results: int | None,
    ) -> ReviewReport:
        wanted_levels, kinds = _levels_and_kinds(levels, retrieve_actions, retrieve_results)
        scope = ":".join(
            ("ListReviewPolicyResultsForHIT", requester_id, hit_id, ",".join(wanted_levels), ",".join(kinds))
        )
        after = self._tokens.decode(scope, next_token)
        with self._tx.read() as (conn, _now):
            slots.load_hit(conn, hit_id, requester_id)
            assignment_policy, hit_policy = _policies(conn, hit_id)
            query = (
                select(review_records)
                .where(
                    review_records.c.hit_id == hit_id,
                    review_records.c.level.in_(wanted_levels),
                    review_records.c.kind.in_(kinds),
                )
                .order_by(review_records.c.id)
                .limit(page_size(max_results))
            )
            if after is not None:
                query = query.where(review_records.c.id > after.micros)
            records = tuple(conn.execute(query).all()) if kinds else ()
        token = self._tokens.encode(scope, Position(int(records[-1].id), "")) if records else None
        return ReviewReport(hit_id, assignment_policy, hit_policy, records, token)

    def results_pages(
        self,
        requester_id: str,
        hit_id: str,
        levels: Sequence[str] | None,
        retrieve_actions: bool,
        retrieve_results: bool,
        page_size: int | None,
        page_number: int | None,
        assignment_id: str | None = None,
    ) -> NumberedReviewReport:
        """The legacy GetReviewResultsForHIT: page ``page_number`` of each level's records (PageSize
        100 to 65535, 400 by default, as that operation documented), optionally only the records about
        one assignment."""
        size, number = check_page(page_size, page_number, default=400, sizes=(100, 65_535))
        wanted_levels, kinds = _levels_and_kinds(levels, retrieve_actions, retrieve_results)
        r = review_records.c
        pages = []
        with self._tx.read() as (conn, _now):
            slots.load_hit(conn, hit_id, requester_id)
            assignment_policy, hit_policy = _policies(conn, hit_id)
            for level in wanted_levels:
                where = and_(r.hit_id == hit_id, r.level == level, r.kind.in_(kinds))
                if assignment_id is not None:
                    where = and_(where, r.subject_id == assignment_id)
                total = conn.execute(
                    select(func.count()).select_from(review_records).where(where)
                ).scalar_one()
                query = (
                    select(review_records).where(where).order_by(r.id).limit(size).offset((number - 1) * size)
                )
                rows = tuple(conn.execute(query).all()) if kinds else ()
                pages.append(LevelPage(level, NumberedPage(rows, number, int(total))))
        return NumberedReviewReport(hit_id, assignment_policy, hit_policy, tuple(pages))
