"""The books on a real SQLite database: balanced by construction, overdrafts refused by the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from openturk.errors import InsufficientFundsError
from openturk.service import ledger
from openturk.service.audit import run_audit
from openturk.service.records import HitSpec, HitTypeSpec
from openturk.service.services import Services, open_services
from openturk.settings import Settings
from openturk.storage import migrate
from openturk.storage.schema import accounts, bonuses, metadata, postings
from tests.hit_support import EXTERNAL

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    opened = open_services(Settings().with_db(db_url))
    yield opened
    opened.close()


def test_migrations_build_exactly_the_declared_schema(services: Services) -> None:
    with services.db.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert migrate.current_revision(services.db) == migrate.head_revision()


def test_upgrade_twice_is_a_no_op(services: Services) -> None:
    migrate.upgrade(services.db)
    assert migrate.current_revision(services.db) == migrate.head_revision()


def test_the_head_constant_is_the_scripts_head() -> None:
    """migrate.HEAD lets every command skip loading Alembic; it must follow the newest migration."""
    assert migrate.head_revision() == migrate.HEAD


def test_a_deposit_is_one_balanced_entry(services: Services) -> None:
    created = services.accounts.create_requester("lab", balance_cents=12_345)
    assert services.accounts.balance(created.requester.id).available_cents == 12_345
    report = run_audit(services.db)
    assert report.ok, report.problems
    assert (report.entries, report.postings, report.deposited_cents) == (1, 1, 12_345)


def test_overdraft_is_refused_and_moves_nothing(services: Services) -> None:
    created = services.accounts.create_requester("lab", balance_cents=100)

    def pay_fees(cents: int) -> None:
        with services.db.write() as conn:
            source = ledger.account_id(conn, f"requester:{created.requester.id}")
            fees = ledger.account_id(conn, "fees")
            ledger.post(conn, "test", [ledger.Posting(source, fees, cents)], at=NOW, request_id=None)

    with pytest.raises(InsufficientFundsError):
        pay_fees(101)
    assert services.accounts.balance(created.requester.id).available_cents == 100
    assert run_audit(services.db).entries == 1
    pay_fees(100)
    assert services.accounts.balance(created.requester.id).available_cents == 0
    assert run_audit(services.db).ok


def test_database_refuses_a_negative_or_one_sided_posting(services: Services) -> None:
    services.accounts.create_requester("lab", balance_cents=100)
    with pytest.raises(sa.exc.IntegrityError), services.db.write() as conn:
        conn.execute(
            sa.insert(postings).values(
                entry_id=1, seq=2, debit_account_id=1, credit_account_id=2, amount_cents=-5
            )
        )
    with pytest.raises(sa.exc.IntegrityError), services.db.write() as conn:
        conn.execute(
            sa.insert(postings).values(
                entry_id=1, seq=2, debit_account_id=2, credit_account_id=2, amount_cents=5
            )
        )
    # A posting is numbered within its entry from 1, and a number is used once.
    for seq in (0, 1):
        with pytest.raises(sa.exc.IntegrityError), services.db.write() as conn:
            conn.execute(
                sa.insert(postings).values(
                    entry_id=1, seq=seq, debit_account_id=1, credit_account_id=2, amount_cents=5
                )
            )


def test_database_refuses_an_overdraft_even_behind_the_ledgers_back(services: Services) -> None:
    created = services.accounts.create_requester("lab", balance_cents=100)
    with pytest.raises(sa.exc.IntegrityError), services.db.write() as conn:
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.code == f"requester:{created.requester.id}")
            .values(debits_posted=101)
        )


def test_audit_catches_a_cached_total_without_postings(services: Services) -> None:
    created = services.accounts.create_requester("lab", balance_cents=100)
    with services.db.write() as conn:
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.code == f"requester:{created.requester.id}")
            .values(credits_posted=accounts.c.credits_posted + 1)
        )
    report = run_audit(services.db)
    assert not report.ok
    assert any("postings add up to" in p for p in report.problems)
    assert any("were deposited" in p for p in report.problems)


def test_audit_catches_a_bonus_row_gone_behind_the_ledgers_back(services: Services) -> None:
    lab = services.accounts.create_requester("lab", balance_cents=1_000).requester.id
    hit = services.hits.create_hit(
        lab, HitTypeSpec("t", "d", 10, 3600), HitSpec(EXTERNAL, 3600), request_id="h"
    )
    worker = services.workers.create("w").id
    assignment = services.workers.accept(hit.id, worker).assignment_id
    services.workers.submit(assignment, [("answer", "done")])
    paid = services.bonuses.send(lab, worker, assignment, 25, "thanks", "tok-1", request_id="req-1")
    assert run_audit(services.db).ok
    with services.db.write() as conn:
        conn.execute(sa.delete(bonuses).where(bonuses.c.entry_id == paid.entry_id))
    problems = run_audit(services.db).problems
    assert f"journal entry {paid.entry_id} is a bonus without a bonus row" in problems
    assert "request token 'tok-1' is remembered without its bonus" in problems


def test_first_requester_is_created_once(services: Services) -> None:
    first = services.accounts.ensure_first_requester("default", 1_000_000)
    assert first is not None
    assert first.balance_cents == 1_000_000
    assert services.accounts.ensure_first_requester("default", 1_000_000) is None
    assert len(services.accounts.list_requesters()) == 1
