"""Requesters: who they are, how they authenticate, and the money they hold with the marketplace."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection

from openturk import ids
from openturk.errors import RequesterDoesNotExistError
from openturk.service import ledger
from openturk.service.uow import MarketTransactions
from openturk.storage.schema import accounts, credentials, marketplace, requesters

DEPOSITS = "deposits"
MAX_NAME = 255  # requesters.name
_IDENTITY_TTL_SECONDS = 10.0
_IDENTITY_CACHE_SIZE = 10_000
_ACCOUNT_OF = select(requesters.c.account_id).where(requesters.c.id == bindparam("id"))


@dataclass(frozen=True, slots=True)
class Requester:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Identity:
    """Whom an active access key belongs to, and the secret its requests are signed with."""

    requester_id: str
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True, slots=True)
class NewRequester:
    """Returned once, at creation: the only time the secret is shown."""

    requester: Requester
    access_key_id: str
    secret_access_key: str
    balance_cents: int


@dataclass(frozen=True, slots=True)
class RequesterSummary:
    requester: Requester
    access_key_ids: tuple[str, ...]
    balance_cents: int


@dataclass(frozen=True, slots=True)
class Balance:
    available_cents: int
    on_hold_cents: int = 0  # MTurk: "Not used. This value is always 0."


def requester_account_code(requester_id: str) -> str:
    return f"requester:{requester_id}"


class AccountService:
    def __init__(self, tx: MarketTransactions) -> None:
        self._tx = tx
        self._db = tx.db
        self._clock = tx.clock
        self._identities: dict[str, tuple[float, Identity]] = {}

    def create_requester(self, name: str, *, balance_cents: int = 0) -> NewRequester:
        if balance_cents < 0:
            raise ValueError("a starting balance cannot be negative")
        if not name.strip():
            raise ValueError("a requester needs a name")
        if len(name) > MAX_NAME:
            raise ValueError(f"a requester's name can be at most {MAX_NAME} characters")
        with self._db.write() as conn:
            return self._create(conn, name, balance_cents)

    def ensure_first_requester(self, name: str, balance_cents: int) -> NewRequester | None:
        """Create a funded requester if the marketplace has none (a newcomer's first start).

        The check and the creation share one write transaction, so several server processes starting
        together on an empty database create exactly one.
        """
        with self._db.write() as conn:
            # PostgreSQL: the marketplace row lock serialises the starters (SQLite's BEGIN IMMEDIATE does).
            conn.execute(select(marketplace.c.id).with_for_update())
            if conn.execute(select(func.count()).select_from(requesters)).scalar_one():
                return None
            return self._create(conn, name, balance_cents)

    def _create(self, conn: Connection, name: str, balance_cents: int) -> NewRequester:
        requester_id = ids.worker_id()  # requester ids share the worker id shape on MTurk
        key, secret = ids.access_key_id(), ids.secret_access_key()
        now = self._clock.now(conn)
        account = ledger.open_account(
            conn, requester_account_code(requester_id), "requester", no_overdraft=True
        )
        conn.execute(
            insert(requesters).values(id=requester_id, name=name, account_id=account, created_at=now)
        )
        conn.execute(
            insert(credentials).values(
                access_key_id=key,
                secret_access_key=secret,
                requester_id=requester_id,
                active=True,
                created_at=now,
            )
        )
        if balance_cents:
            self._deposit(conn, requester_id, account, balance_cents, now)
        return NewRequester(Requester(requester_id, name, now), key, secret, balance_cents)

    def fund(self, access_key_id: str, cents: int) -> int:
        """Deposit ``cents`` (positive) for the requester owning the key; return the new balance."""
        if cents <= 0:
            raise ValueError("a deposit must be a positive amount")
        with self._db.write() as conn:
            requester_id = self._requester_for_key(conn, access_key_id)
            account = self._account_of(conn, requester_id)
            self._deposit(conn, requester_id, account, cents, self._clock.now(conn))
            return ledger.balance(conn, account)

    def list_requesters(self) -> list[RequesterSummary]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(requesters, accounts.c.credits_posted, accounts.c.debits_posted)
                .join(accounts, accounts.c.id == requesters.c.account_id)
                .order_by(requesters.c.created_at, requesters.c.id)
            ).all()
            keys: dict[str, list[str]] = {}
            for key_row in conn.execute(
                select(credentials.c.requester_id, credentials.c.access_key_id)
                .where(credentials.c.active)
                .order_by(credentials.c.created_at)
            ):
                keys.setdefault(key_row.requester_id, []).append(key_row.access_key_id)
        return [
            RequesterSummary(
                Requester(r.id, r.name, r.created_at),
                tuple(keys.get(r.id, ())),
                int(r.credits_posted) - int(r.debits_posted),
            )
            for r in rows
        ]

    def authenticate(self, access_key_id: str) -> Identity | None:
        """The identity behind an active key, else None.

        Every API request asks this, so known keys are remembered for a few seconds; unknown keys are
        never remembered, so a key created a moment ago works at once.
        """
        now = time.monotonic()
        cached = self._identities.get(access_key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self._db.read() as conn:
            row = conn.execute(
                select(credentials.c.requester_id, credentials.c.secret_access_key).where(
                    credentials.c.access_key_id == access_key_id, credentials.c.active
                )
            ).first()
        if row is None:
            self._identities.pop(access_key_id, None)
            return None
        identity = Identity(str(row.requester_id), access_key_id, str(row.secret_access_key))
        if len(self._identities) >= _IDENTITY_CACHE_SIZE:
            self._identities.clear()
        self._identities[access_key_id] = (now + _IDENTITY_TTL_SECONDS, identity)
        return identity

    def balance(self, requester_id: str) -> Balance:
        """As of now: refunds and payments the clock has made due are settled first."""
        with self._tx.read() as (conn, _now):
            return Balance(ledger.balance(conn, self._account_of(conn, requester_id)))

    def _deposit(self, conn: Connection, requester_id: str, account: int, cents: int, at: datetime) -> None:
        ledger.post(
            conn,
            "deposit",
            [
                ledger.Posting(
                    debit_account=ledger.account_id(conn, DEPOSITS), credit_account=account, cents=cents
                )
            ],
            at=at,
            request_id=None,
            refs=ledger.EntryRefs(requester_id=requester_id),
        )

    @staticmethod
    def _requester_for_key(conn: Connection, access_key_id: str) -> str:
        found = conn.execute(
            select(credentials.c.requester_id).where(credentials.c.access_key_id == access_key_id)
        ).scalar_one_or_none()
        if found is None:
            raise RequesterDoesNotExistError(access_key_id)
        return str(found)

    @staticmethod
    def _account_of(conn: Connection, requester_id: str) -> int:
        known = ledger.remembered(conn, "requester", requester_id)
        if known is not None:
            return known
        found = conn.execute(_ACCOUNT_OF, {"id": requester_id}).scalar_one_or_none()
        if found is None:
            raise RequesterDoesNotExistError(requester_id)
        return ledger.remember(conn, "requester", requester_id, int(found))
