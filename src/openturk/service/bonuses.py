"""Bonuses: SendBonus / GrantBonus and ListBonusPayments / GetBonusPayments.

One bonus is one write transaction holding, together or not at all: the UniqueRequestToken claim, the
journal entry (requester -> worker for the bonus, requester -> marketplace for the fee; the conditional
debit refuses an overdraft) and the bonus row pointing at that entry.  No crash or race can leave a token
without its payment or a payment without its token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, select
from sqlalchemy.engine import Connection, Row

from openturk.errors import ParameterError
from openturk.money import format_amount
from openturk.service import ledger, paging, slots, transitions
from openturk.service.paging import Page, PageTokens, Position, page_size
from openturk.service.pricing import bonus_fee
from openturk.service.uow import MarketTransactions
from openturk.settings import Settings
from openturk.storage.prepared import Prepared, binds
from openturk.storage.schema import bonuses
from openturk.storage.types import to_micros


@dataclass(frozen=True, slots=True)
class Bonus:
    entry_id: int  # the journal entry that paid it: a bonus's identity
    worker_id: str
    assignment_id: str
    hit_id: str
    amount_cents: int
    fee_cents: int
    reason: str
    granted_at: datetime
    request_id: str

    @classmethod
    def from_row(cls, r: Row[Any]) -> Bonus:
        return cls(
            int(r.entry_id),
            r.worker_id,
            r.assignment_id,
            r.hit_id,
            int(r.amount_cents),
            int(r.fee_cents),
            r.reason,
            r.granted_at,
            r.request_id,
        )


_NEW_BONUS = Prepared(insert(bonuses).values(binds(c.name for c in bonuses.columns)))


class BonusService:
    def __init__(self, tx: MarketTransactions, settings: Settings, tokens: PageTokens) -> None:
        self._tx = tx
        self._settings = settings
        self._tokens = tokens

    def send(
        self,
        requester_id: str,
        worker_id: str,
        assignment_id: str,
        amount_cents: int,
        reason: str,
        token: str | None,
        *,
        request_id: str,
    ) -> Bonus:
        if amount_cents <= 0:
            raise ParameterError(
                "The bonus amount must be at least 0.01.", data={"BonusAmount": format_amount(amount_cents)}
            )
        if not reason.strip():  # the worker is shown it: a bonus says why it is paid
            raise ParameterError("The Reason must not be empty: the worker receiving the bonus sees it.")
        fee = bonus_fee(self._settings.fees, amount_cents)
        with self._tx.write() as (conn, now):
            # First, so a repeat is told so whatever else has changed since; the bonus row keeps this
            # request id, which is how the token and its bonus are matched (the audit does).
            self._tx.claim_token(conn, now, requester_id, token, "SendBonus", request_id)
            # Submitted, approved or rejected, on one of the caller's HITs; anything else does not exist.
            # Not locked: no change it can undergo meanwhile (approval, rejection, its override) makes
            # it one a bonus may not go to, and on one busy assignment the lock would queue the calls.
            assignment = transitions.load_assignment(conn, assignment_id, requester_id, lock=False)
            if assignment.worker_id != worker_id:
                raise ParameterError(
                    f'The value "{worker_id}" is not valid for the parameter WorkerId.',
                    data={"WorkerId": worker_id, "AssignmentId": assignment_id},
                )
            payer = slots.requester_account(conn, requester_id)
            postings = [ledger.Posting(payer, slots.worker_account(conn, worker_id), amount_cents)]
            if fee:
                postings.append(ledger.Posting(payer, ledger.account_id(conn, slots.FEES_ACCOUNT), fee))
            entry = ledger.post(
                conn,
                "bonus",
                postings,
                at=now,
                request_id=request_id,
                refs=ledger.EntryRefs(
                    requester_id=requester_id,
                    worker_id=worker_id,
                    hit_id=assignment.hit_id,
                    assignment_id=assignment_id,
                    memo=reason,
                ),
            )
            bonus = Bonus(
                entry,
                worker_id,
                assignment_id,
                assignment.hit_id,
                amount_cents,
                fee,
                reason,
                now,
                request_id,
            )
            _NEW_BONUS.execute(
                conn,
                {
                    "entry_id": entry,
                    "requester_id": requester_id,
                    "worker_id": worker_id,
                    "assignment_id": assignment_id,
                    "hit_id": assignment.hit_id,
                    "amount_cents": amount_cents,
                    "fee_cents": fee,
                    "reason": reason,
                    "granted_at": now,
                    "request_id": request_id,
                    "unique_request_token": token,
                },
            )
            return bonus

    def list_payments(
        self,
        requester_id: str,
        hit_id: str | None,
        assignment_id: str | None,
        next_token: str | None,
        max_results: int | None,
    ) -> Page[Bonus]:
        """In grant order; keyset paging on (granted_at, entry_id), indexed per HIT and per assignment."""
        where, scope = self._filter(requester_id, hit_id, assignment_id)
        after = self._tokens.decode(scope, next_token)
        query = (
            select(bonuses)
            .where(where)
            .order_by(bonuses.c.granted_at, bonuses.c.entry_id)
            .limit(page_size(max_results))
        )
        if after is not None:
            query = query.where(paging.after(bonuses.c.granted_at, bonuses.c.entry_id, after))
        with self._tx.read() as (conn, _now):
            self._check_owner(conn, requester_id, hit_id, assignment_id)
            items = tuple(Bonus.from_row(r) for r in conn.execute(query))
        if not items:
            return Page(items, None)
        last = Position(to_micros(items[-1].granted_at), str(items[-1].entry_id))
        return Page(items, self._tokens.encode(scope, last))

    def count(self, requester_id: str, hit_id: str | None, assignment_id: str | None) -> int:
        where, _scope = self._filter(requester_id, hit_id, assignment_id)
        with self._tx.read() as (conn, _now):
            self._check_owner(conn, requester_id, hit_id, assignment_id)
            return int(conn.execute(select(func.count()).select_from(bonuses).where(where)).scalar_one())

    @staticmethod
    def _filter(
        requester_id: str, hit_id: str | None, assignment_id: str | None
    ) -> tuple[ColumnElement[bool], str]:
        # "/2": since migration 0007 a page ends on an entry id, so a NextToken from before it (which
        # ended on a bonus id) no longer verifies and is refused as invalid rather than misread.
        if assignment_id is not None:
            where = and_(bonuses.c.assignment_id == assignment_id, bonuses.c.requester_id == requester_id)
            if hit_id is not None:  # both: the assignment's bonuses if it is that HIT's, else none
                return and_(
                    where, bonuses.c.hit_id == hit_id
                ), f"ListBonusPayments/2:{requester_id}:AH:{assignment_id}:{hit_id}"
            return where, f"ListBonusPayments/2:{requester_id}:A:{assignment_id}"
        if hit_id is not None:
            return (
                and_(bonuses.c.hit_id == hit_id, bonuses.c.requester_id == requester_id),
                f"ListBonusPayments/2:{requester_id}:H:{hit_id}",
            )
        raise ParameterError("Either the HITId parameter or the AssignmentId parameter must be specified.")

    @staticmethod
    def _check_owner(
        conn: Connection, requester_id: str, hit_id: str | None, assignment_id: str | None
    ) -> None:
        """Another requester's HIT or assignment answers as if it did not exist (both are checked when
        both are given: a HITId is never silently ignored)."""
        if assignment_id is not None:
            transitions.load_assignment(conn, assignment_id, requester_id)
        if hit_id is not None:
            slots.load_hit(conn, hit_id, requester_id)
