"""The service layer assembled for one database: what the server, the CLI and tests share."""

from __future__ import annotations

from dataclasses import dataclass

from openturk.service.accounts import AccountService
from openturk.service.clock import MarketClock
from openturk.settings import Settings
from openturk.storage import migrate
from openturk.storage.db import Database


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    clock: MarketClock
    accounts: AccountService

    def close(self) -> None:
        self.db.dispose()


def open_services(settings: Settings) -> Services:
    """Connect, bring the schema to head (every command does), and wire the services."""
    db = Database(settings.db_url)
    migrate.upgrade(db)
    clock = MarketClock(db)
    return Services(settings=settings, db=db, clock=clock, accounts=AccountService(db, clock))
