"""The service layer assembled for one database: what the server, the CLI and tests share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from openturk.service.accounts import AccountService
from openturk.service.assignments import AssignmentService
from openturk.service.bonuses import BonusService
from openturk.service.clock import MarketClock
from openturk.service.hits import HitService
from openturk.service.paging import PageTokens
from openturk.service.uow import MarketTransactions
from openturk.service.workers import WorkerService
from openturk.settings import Settings
from openturk.storage import migrate
from openturk.storage.db import Database
from openturk.storage.schema import marketplace


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    clock: MarketClock
    tx: MarketTransactions
    accounts: AccountService
    hits: HitService
    assignments: AssignmentService
    workers: WorkerService
    bonuses: BonusService

    def close(self) -> None:
        self.db.dispose()


def open_services(settings: Settings) -> Services:
    """Connect, bring the schema to head (every command does), and wire the services."""
    db = Database(settings.db_url)
    migrate.upgrade(db)
    with db.read() as conn:
        tokens = PageTokens(conn.execute(select(marketplace.c.token_key)).scalar_one())
    clock = MarketClock(db)
    tx = MarketTransactions(db, clock, settings.token_lifetime)
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        tx=tx,
        accounts=AccountService(tx),
        hits=HitService(tx, settings, tokens),
        assignments=AssignmentService(tx, tokens),
        workers=WorkerService(tx),
        bonuses=BonusService(tx, settings, tokens),
    )
