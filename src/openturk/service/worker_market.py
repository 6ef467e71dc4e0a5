"""What a worker can find and preview: the marketplace as one worker sees it (``openturk worker hits``,
``openturk worker preview``).

A HIT is listed when it is Assignable and not expired, its requester has not blocked the worker, and the
worker meets every requirement guarding discovery (``DiscoverPreviewAndAccept``).  Each listing says
whether the worker may also preview and accept it.  Pages are keyset pages over (creation time, HIT id),
filled past HITs the worker cannot see, so a page is short only at the end.

A preview is of an Assignable HIT only (an expired, full, reviewable or deleted one is refused, as the
listing leaves it out).  The preview of an HTMLQuestion loads its content from a second address; the
preview hands out a ``content_ticket`` for it (signed, about the HIT alone, valid for an hour of the
marketplace clock) so that the content's address proves the preview check was passed without naming
the worker: MTurk tells a HIT's page nothing about who previews it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from openturk.errors import InvalidHITStateError, ParameterError
from openturk.service import paging, qualification_values, requirements, slots
from openturk.service.paging import Page, PageTokens, Position, page_size
from openturk.service.qualification_values import Value
from openturk.service.questions import Question, parse_question
from openturk.service.records import Hit
from openturk.service.requirements import Action
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import hit_types, hits
from openturk.storage.types import from_micros, to_micros

CONTENT_TICKET_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Listing:
    hit: Hit
    can_preview: bool
    can_accept: bool


@dataclass(frozen=True, slots=True)
class Preview:
    hit: Hit
    question: Question
    can_accept: bool
    content_ticket: str  # see preview_content


class WorkerMarket:
    def __init__(self, tx: MarketTransactions, tokens: PageTokens) -> None:
        self._tx = tx
        self._tokens = tokens

    def available(self, worker_id: str, next_token: str | None, max_results: int | None) -> Page[Listing]:
        scope = f"WorkerHITs:{worker_id}"
        after = self._tokens.decode(scope, next_token)
        size = page_size(max_results)
        found: list[Listing] = []
        last_key: tuple[datetime, str] | None = None
        values: dict[str, Value | None] = {}
        with self._tx.read() as (conn, now):
            qualification_values.worker_values(conn, worker_id, ())  # raises if there is no such worker
            blocked = requirements.blocked_by(conn, worker_id)
            while len(found) < size:
                query = (
                    select(hits, hit_types)
                    .join(hit_types, hit_types.c.id == hits.c.hit_type_id)
                    .where(hits.c.status == "Assignable", hits.c.expires_at > now)
                    .order_by(hits.c.created_at, hits.c.id)
                    .limit(size * 2)
                )
                if blocked:
                    query = query.where(hits.c.requester_id.not_in(blocked))
                if after is not None:
                    query = query.where(paging.after(hits.c.created_at, hits.c.id, after))
                rows = conn.execute(query).all()
                for row in rows:
                    wanted: list[dict[str, Any]] = json.loads(row.qualification_requirements)
                    missing = {str(r["QualificationTypeId"]) for r in wanted} - values.keys()
                    if missing:
                        values.update(qualification_values.worker_values(conn, worker_id, missing))
                    access = requirements.access(wanted, values, blocked=False)
                    last_key = (row.created_at, row.id)
                    if access.allows(Action.DISCOVER):
                        hit = Hit.from_row(row, row, now)
                        found.append(
                            Listing(hit, access.allows(Action.PREVIEW), access.allows(Action.ACCEPT))
                        )
                        if len(found) == size:
                            break
                if len(rows) < size * 2 or last_key is None:
                    break
                after = Position(to_micros(last_key[0]), last_key[1])
        if not found:
            return Page((), None)
        last = found[-1].hit
        return Page(tuple(found), self._tokens.encode(scope, Position(to_micros(last.created_at), last.id)))

    def preview(self, worker_id: str | None, hit_id: str) -> Preview:
        """The HIT's question as the worker (None: an anonymous visitor) may preview it; refused when a
        requirement they do not meet guards preview, or when the HIT is not Assignable."""
        with self._tx.read() as (conn, now):
            row = slots.load_hit(conn, hit_id)
            _require_assignable(row, now)
            if worker_id is None:
                access = requirements.require_visitor(conn, row, Action.PREVIEW)
            else:
                access = requirements.require(conn, worker_id, row, Action.PREVIEW)
            type_row = slots.load_hit_type(conn, row)
            hit = Hit.from_row(row, type_row, now)
        expiry = Position(to_micros(now + CONTENT_TICKET_LIFETIME), "")
        ticket = self._tokens.encode(_ticket_scope(hit_id), expiry)
        return Preview(hit, parse_question(hit.question), access.allows(Action.ACCEPT), ticket)

    def preview_content(self, hit_id: str, ticket: str | None) -> Preview:
        """The preview of an HTMLQuestion's content: with a live ticket from ``preview`` of this HIT, as
        the one who previewed it; without one, as an anonymous visitor."""
        with self._tx.read() as (conn, now):
            row = slots.load_hit(conn, hit_id)
            _require_assignable(row, now)
            if ticket is None or not _ticket_live(self._tokens, hit_id, ticket, now):
                requirements.require_visitor(conn, row, Action.PREVIEW)
            type_row = slots.load_hit_type(conn, row)
            hit = Hit.from_row(row, type_row, now)
        # Only the content is shown from here, never an Accept form: whether one may accept is not asked.
        return Preview(hit, parse_question(hit.question), False, ticket or "")


def _require_assignable(row: Any, now: datetime) -> None:
    if row.status == "Assignable" and row.expires_at > now:
        return
    reason = "has no assignments available"
    if row.status == "Disposed":
        reason = "has been deleted"
    elif row.expires_at <= now:
        reason = "has expired"
    raise InvalidHITStateError(
        f"HIT {row.id} {reason}; it cannot be previewed.", data={"HITId": row.id, "HITStatus": row.status}
    )


def _ticket_scope(hit_id: str) -> str:
    return f"PreviewContent:{hit_id}"


def _ticket_live(tokens: PageTokens, hit_id: str, ticket: str, now: datetime) -> bool:
    try:
        position = tokens.decode(_ticket_scope(hit_id), ticket)
    except ParameterError:
        return False
    return position is not None and from_micros(position.micros) > now
