"""The service layer assembled for one database: what the server, the CLI and tests share."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select

from openturk.service.accounts import AccountService
from openturk.service.assignments import AssignmentService
from openturk.service.bonuses import BonusService
from openturk.service.clock import MarketClock
from openturk.service.disable_hit import HitDisabler
from openturk.service.file_uploads import FileService
from openturk.service.hits import HitService
from openturk.service.notifications import NotificationService
from openturk.service.numbered_pages import NumberedPages
from openturk.service.paging import PageTokens
from openturk.service.qualification_grants import QualificationGrantService
from openturk.service.qualifications import QualificationService
from openturk.service.review_policies import ReviewPolicyService
from openturk.service.statistics import StatisticsService
from openturk.service.uow import MarketTransactions
from openturk.service.worker_market import WorkerMarket
from openturk.service.worker_qualifications import WorkerQualificationService
from openturk.service.worker_relations import WorkerRelationsService
from openturk.service.worker_sign_in import WorkerSignIn
from openturk.service.workers import WorkerService
from openturk.settings import Settings
from openturk.storage import migrate
from openturk.storage.db import Database, retry_service_calls
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
    # The legacy query API's page-number listings and DisableHIT (issue 5).
    numbered_pages: NumberedPages
    hit_disabler: HitDisabler
    # Qualifications, worker blocks and messages, and the marketplace as a worker sees it (issue 7).
    qualifications: QualificationService
    qualification_grants: QualificationGrantService
    worker_qualifications: WorkerQualificationService
    worker_relations: WorkerRelationsService
    worker_market: WorkerMarket
    worker_sign_in: WorkerSignIn
    # Notification settings and the outbox, review policy results, uploaded files (issue 8).
    notifications: NotificationService
    review_policies: ReviewPolicyService
    files: FileService
    # The legacy API's GetRequesterStatistic and GetRequesterWorkerStatistic.
    statistics: StatisticsService

    def close(self) -> None:
        self.db.dispose()


def open_services(settings: Settings) -> Services:
    """Connect, bring the schema to head (every command does), and wire the services."""
    db = Database(settings.db_url)
    migrate.upgrade(db)
    with db.read() as conn:
        secret = str(conn.execute(select(marketplace.c.token_key)).scalar_one())
    tokens = PageTokens(secret)
    clock = MarketClock(db)
    tx = MarketTransactions(db, clock, settings.token_lifetime)
    hits = HitService(tx, settings, tokens)
    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        tx=tx,
        accounts=AccountService(tx),
        hits=hits,
        assignments=AssignmentService(tx, tokens),
        workers=WorkerService(tx),
        bonuses=BonusService(tx, settings, tokens),
        numbered_pages=NumberedPages(tx),
        hit_disabler=HitDisabler(tx, hits),
        qualifications=QualificationService(tx, tokens),
        qualification_grants=QualificationGrantService(tx, tokens),
        worker_qualifications=WorkerQualificationService(tx),
        worker_relations=WorkerRelationsService(tx, tokens),
        worker_market=WorkerMarket(tx, tokens),
        worker_sign_in=WorkerSignIn(tx, secret),
        notifications=NotificationService(tx),
        review_policies=ReviewPolicyService(tx, tokens),
        files=FileService.for_database(tx),
        statistics=StatisticsService(tx),
    )
    # A deadlock, a PostgreSQL restart or a busy SQLite file rolls back a whole call: run it again.
    for field in fields(services):
        if field.name not in ("settings", "db", "tx"):
            retry_service_calls(getattr(services, field.name))
    return services
