"""HIT types and HITs, from the requester's side: create, read, list, extend, expire, review, delete."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from openturk import ids
from openturk.errors import (
    HITTypeDoesNotExistError,
    InvalidHITStateError,
    ParameterError,
)
from openturk.service import (
    events,
    hit_extension,
    ledger,
    paging,
    request_tokens,
    requirement_checks,
    review_policies,
    slots,
)
from openturk.service.limits import check_length, check_lengths, check_range
from openturk.service.paging import Page, PageTokens, Position, page_size
from openturk.service.pricing import SlotPrice, slot_price
from openturk.service.questions import parse_question
from openturk.service.records import Hit, HitSpec, HitTypeSpec
from openturk.service.uow import MarketTransactions
from openturk.settings import Settings
from openturk.storage.schema import hit_types, hits
from openturk.storage.types import to_micros


class HitService:
    def __init__(self, tx: MarketTransactions, settings: Settings, tokens: PageTokens) -> None:
        self._tx = tx
        self._settings = settings
        self._tokens = tokens

    # --- HIT types ------------------------------------------------------------------------------

    def create_hit_type(self, requester_id: str, spec: HitTypeSpec) -> str:
        with self._tx.write() as (conn, now):
            return self._register_type(conn, requester_id, spec, now)

    def _register_type(self, conn: Connection, requester_id: str, spec: HitTypeSpec, now: datetime) -> str:
        check_range("AssignmentDurationInSeconds", spec.assignment_duration_s)
        check_range("AutoApprovalDelayInSeconds", spec.auto_approval_delay_s)
        check_lengths({"Title": spec.title, "Description": spec.description, "Keywords": spec.keywords})
        requirement_checks.validate(conn, requester_id, spec.qualification_requirements)
        requirements = json.dumps(
            list(spec.qualification_requirements), sort_keys=True, separators=(",", ":")
        )
        fingerprint = hashlib.sha256(
            json.dumps(
                [
                    spec.title,
                    spec.description,
                    spec.keywords,
                    spec.reward_cents,
                    spec.assignment_duration_s,
                    spec.auto_approval_delay_s,
                    requirements,
                ]
            ).encode()
        ).hexdigest()
        existing = conn.execute(
            select(hit_types.c.id).where(
                hit_types.c.requester_id == requester_id, hit_types.c.fingerprint == fingerprint
            )
        ).scalar_one_or_none()
        if existing is not None:
            return str(existing)
        type_id = ids.entity_id()
        conn.execute(
            insert(hit_types).values(
                id=type_id,
                requester_id=requester_id,
                fingerprint=fingerprint,
                title=spec.title,
                description=spec.description,
                keywords=spec.keywords,
                reward_cents=spec.reward_cents,
                assignment_duration_s=spec.assignment_duration_s,
                auto_approval_delay_s=spec.auto_approval_delay_s,
                qualification_requirements=requirements,
                created_at=now,
            )
        )
        requirement_checks.link(conn, type_id, spec.qualification_requirements)
        return type_id

    def _price(self, type_row: Row[Any], max_assignments: int) -> SlotPrice:
        requirements = json.loads(type_row.qualification_requirements)
        return slot_price(self._settings.fees, type_row.reward_cents, max_assignments, requirements)

    def _load_type(self, conn: Connection, requester_id: str, type_id: str) -> Row[Any]:
        row = conn.execute(
            select(hit_types).where(hit_types.c.id == type_id, hit_types.c.requester_id == requester_id)
        ).first()
        if row is None:
            raise HITTypeDoesNotExistError(type_id)
        return row

    # --- HITs -----------------------------------------------------------------------------------

    def create_hit(
        self, requester_id: str, hit_type: HitTypeSpec | str, spec: HitSpec, *, request_id: str
    ) -> Hit:
        """Create a HIT and reserve MaxAssignments x (reward + fee) at once, or create nothing."""
        check_range("LifetimeInSeconds", spec.lifetime_s)
        check_range("MaxAssignments", spec.max_assignments)
        check_length("RequesterAnnotation", spec.requester_annotation)
        if spec.question is None:
            raise ParameterError(
                "Either the Question parameter or the HITLayoutId parameter must be provided."
            )
        parse_question(spec.question)
        review_policies.validate(spec.assignment_review_policy, spec.hit_review_policy)
        with self._tx.write() as (conn, now):
            self._tx.claim_token(conn, now, requester_id, spec.unique_request_token, "CreateHIT", request_id)
            type_id = (
                hit_type
                if isinstance(hit_type, str)
                else self._register_type(conn, requester_id, hit_type, now)
            )
            type_row = self._load_type(conn, requester_id, type_id)
            requirement_checks.validate(conn, requester_id, json.loads(type_row.qualification_requirements))
            price = self._price(type_row, spec.max_assignments)
            hit_id = ids.entity_id()
            escrow = ledger.open_account(conn, f"escrow:{hit_id}", "escrow", no_overdraft=True)
            conn.execute(
                insert(hits).values(
                    id=hit_id,
                    requester_id=requester_id,
                    hit_type_id=type_id,
                    hit_group_id=_group_id(type_id),
                    question=spec.question,
                    requester_annotation=spec.requester_annotation,
                    created_at=now,
                    expires_at=now + timedelta(seconds=spec.lifetime_s),
                    max_assignments=spec.max_assignments,
                    reward_cents=price.reward_cents,
                    fee_cents=price.fee_cents,
                    escrow_account_id=escrow,
                    status="Assignable",
                )
            )
            review_policies.store(conn, hit_id, spec.assignment_review_policy, spec.hit_review_policy)
            events.record_event(conn, now, "HITCreated", hit_id)  # rolled back with the HIT if money fails
            slots.reserve(
                conn, slots.load_hit(conn, hit_id), spec.max_assignments, at=now, request_id=request_id
            )
            if spec.unique_request_token is not None:
                request_tokens.record_result(
                    conn, requester_id=requester_id, token=spec.unique_request_token, result_id=hit_id
                )
            return Hit.from_row(slots.settle(conn, hit_id, now, request_id), type_row, now)

    def get_hit(self, requester_id: str, hit_id: str) -> Hit:
        with self._tx.read() as (conn, now):
            return self._hit(conn, slots.load_hit(conn, hit_id, requester_id), now)

    def _hit(self, conn: Connection, row: Row[Any], now: datetime) -> Hit:
        type_row = slots.load_hit_type(conn, row)
        return Hit.from_row(row, type_row, now)

    def list_hits(self, requester_id: str, next_token: str | None, max_results: int | None) -> Page[Hit]:
        return self._page(
            f"ListHITs:{requester_id}",
            next_token,
            max_results,
            lambda q: q.where(hits.c.requester_id == requester_id, hits.c.status != "Disposed"),
        )

    def list_reviewable(
        self,
        requester_id: str,
        hit_type_id: str | None,
        status: str | None,
        next_token: str | None,
        max_results: int | None,
    ) -> Page[Hit]:
        wanted = status or "Reviewable"

        def where(q: Any) -> Any:
            q = q.where(hits.c.requester_id == requester_id, hits.c.status == wanted)
            return q if hit_type_id is None else q.where(hits.c.hit_type_id == hit_type_id)

        return self._page(
            f"ListReviewableHITs:{requester_id}:{hit_type_id}:{wanted}", next_token, max_results, where
        )

    def _page(
        self, scope: str, next_token: str | None, max_results: int | None, where: Callable[[Any], Any]
    ) -> Page[Hit]:
        after = self._tokens.decode(scope, next_token)
        size = page_size(max_results)
        query = select(hits, hit_types).join(hit_types, hit_types.c.id == hits.c.hit_type_id)
        query = where(query).order_by(hits.c.created_at, hits.c.id).limit(size)
        if after is not None:
            query = query.where(paging.after(hits.c.created_at, hits.c.id, after))
        with self._tx.read() as (conn, now):
            rows = conn.execute(query).all()
            items = tuple(Hit.from_row(r, r, now) for r in rows)
        if not items:
            return Page(items, None)
        last = items[-1]
        return Page(items, self._tokens.encode(scope, Position(to_micros(last.created_at), last.id)))

    def update_expiration(
        self, requester_id: str, hit_id: str, expire_at: datetime, *, request_id: str
    ) -> None:
        """A time in the past (or 0) expires the HIT now; a later one extends it, reserving again any
        slots whose money went back to the requester when it expired."""
        with self._tx.write() as (conn, now):
            hit = _live_hit(conn, hit_id, requester_id)
            hit_extension.set_expiration(conn, now, hit, expire_at, request_id)

    def create_additional_assignments(
        self, requester_id: str, hit_id: str, count: int, token: str | None, *, request_id: str
    ) -> None:
        hit_extension.check_count(count)
        with self._tx.write() as (conn, now):
            self._tx.claim_token(
                conn, now, requester_id, token, "CreateAdditionalAssignmentsForHIT", request_id
            )
            hit = _live_hit(conn, hit_id, requester_id)
            threshold = self._settings.fees.large_hit_threshold
            hit_extension.add_assignments(conn, now, hit, count, threshold, request_id)

    def extend(
        self,
        requester_id: str,
        hit_id: str,
        count: int | None,
        increment_s: int | None,
        token: str | None,
        *,
        request_id: str,
    ) -> None:
        """The legacy ExtendHIT: ``count`` more assignments and/or the expiration (or now, once expired)
        moved ``increment_s`` later, both checked before either is made, in one transaction."""
        if count is not None:
            hit_extension.check_count(count)
        if increment_s is not None:
            hit_extension.check_increment(increment_s)
        with self._tx.write() as (conn, now):
            self._tx.claim_token(conn, now, requester_id, token, "ExtendHIT", request_id)
            hit = _live_hit(conn, hit_id, requester_id)
            if increment_s is not None:  # first: an expired HIT's new slots are then not released at once
                later = hit_extension.extended_expiration(hit, now, increment_s)
                hit_extension.set_expiration(conn, now, hit, later, request_id)
                hit = _live_hit(conn, hit_id, requester_id)
            if count is not None:
                threshold = self._settings.fees.large_hit_threshold
                hit_extension.add_assignments(conn, now, hit, count, threshold, request_id)

    def update_review_status(self, requester_id: str, hit_id: str, revert: bool) -> None:
        with self._tx.write() as (conn, now):
            hit = slots.load_hit(conn, hit_id, requester_id)
            needed = "Reviewing" if revert else "Reviewable"
            if hit.status != needed:
                raise InvalidHITStateError(
                    f"This HIT is currently in the state '{hit.status}'.  This operation can be called with "
                    f"a status of: {needed}",
                    data={"HITId": hit_id},
                )
            conn.execute(update(hits).where(hits.c.id == hit_id).values(reviewing=not revert))
            slots.settle(conn, hit_id, now)

    def update_hit_type_of_hit(
        self, requester_id: str, hit_id: str, type_id: str, *, request_id: str
    ) -> None:
        """Move a HIT to another of the requester's types; a new reward re-prices every unsettled slot."""
        with self._tx.write() as (conn, now):
            hit = _live_hit(conn, hit_id, requester_id)
            type_row = self._load_type(conn, requester_id, type_id)
            # As for a new HIT of the type: its requirements may name a type deleted since.
            requirement_checks.validate(conn, requester_id, json.loads(type_row.qualification_requirements))
            price = self._price(type_row, hit.max_assignments)
            unsettled = slots.unsettled_slots(hit)
            old_unit, new_unit = hit.reward_cents + hit.fee_cents, price.total_cents
            if unsettled and new_unit > old_unit:
                slots.reserve(
                    conn,
                    hit,
                    unsettled,
                    at=now,
                    request_id=request_id,
                    kind="hit_reprice",
                    unit_cents=new_unit - old_unit,
                )
            elif unsettled and new_unit < old_unit:
                slots.release(
                    conn,
                    hit,
                    unsettled,
                    at=now,
                    request_id=request_id,
                    kind="hit_reprice",
                    unit_cents=old_unit - new_unit,
                )
            conn.execute(
                update(hits)
                .where(hits.c.id == hit_id)
                .values(
                    hit_type_id=type_id,
                    hit_group_id=_group_id(type_id),
                    reward_cents=price.reward_cents,
                    fee_cents=price.fee_cents,
                )
            )
            slots.settle(conn, hit_id, now, request_id)

    def delete_hit(self, requester_id: str, hit_id: str, *, request_id: str) -> None:
        """Only a Reviewable HIT whose submitted assignments are all approved or rejected, as on MTurk."""
        with self._tx.write() as (conn, now):
            hit = slots.load_hit(conn, hit_id, requester_id)
            if hit.status not in ("Reviewable", "Reviewing") or hit.num_submitted:
                shown = "Reviewable (with every submitted assignment approved or rejected)"
                raise InvalidHITStateError(
                    f"This HIT is currently in the state '{hit.status}'.  "
                    f"This operation can be called with a status of: {shown}",
                    data={"HITId": hit_id},
                )
            unsettled = slots.unsettled_slots(hit)
            if unsettled:
                slots.release(conn, hit, unsettled, at=now, request_id=request_id)
            conn.execute(
                update(hits)
                .where(hits.c.id == hit_id)
                .values(status="Disposed", reviewing=False, num_released=hits.c.num_released + unsettled)
            )
            events.record_event(conn, now, "HITDisposed", hit_id)


def _group_id(type_id: str) -> str:
    """HITs of one type share a group id, distinct from the type id as on MTurk."""
    digest = hashlib.sha256(b"group:" + type_id.encode()).digest()
    return base64.b32encode(digest).decode()[:30]


def _live_hit(conn: Connection, hit_id: str, requester_id: str) -> Row[Any]:
    hit = slots.load_hit(conn, hit_id, requester_id)
    if hit.status == "Disposed":
        raise InvalidHITStateError(f"HIT {hit_id} has been deleted and cannot be changed.")
    return hit
