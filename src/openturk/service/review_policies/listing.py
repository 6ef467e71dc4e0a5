"""ListReviewPolicyResultsForHIT: the HIT's stored policies and a page of its review records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from openturk.service import slots
from openturk.service.paging import PageTokens, Position, page_size
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
        wanted_levels = tuple(sorted(set(levels or ("Assignment", "HIT"))))
        kinds = tuple(k for k, on in (("action", retrieve_actions), ("result", retrieve_results)) if on)
        scope = ":".join(
            ("ListReviewPolicyResultsForHIT", requester_id, hit_id, ",".join(wanted_levels), ",".join(kinds))
        )
        after = self._tokens.decode(scope, next_token)
        with self._tx.read() as (conn, _now):
            slots.load_hit(conn, hit_id, requester_id)
            stored = stored_policies(conn, hit_id)
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
        return ReviewReport(
            hit_id=hit_id,
            assignment_policy=None if stored is None or stored.assignment_policy is None
            else json.loads(stored.assignment_policy),
            hit_policy=None if stored is None or stored.hit_policy is None else json.loads(stored.hit_policy),
            records=records,
            next_token=token,
        )  # fmt: skip
