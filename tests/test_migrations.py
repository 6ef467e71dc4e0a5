"""Migrations over a database with money in it, on SQLite and (in the PostgreSQL run) PostgreSQL.

0007 changes the keys of bonuses, postings and request tokens.  A database with rewards, bonuses (with
and without tokens) and their fees is taken back to 0006 and brought forward again: every movement,
balance, bonus and token must come back as it was, the audit must pass, and the service must carry on
(a remembered token still refuses its repeat; new bonuses are paid and listed after the old ones).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from openturk.errors import DuplicateRequestError
from openturk.service.audit import run_audit
from openturk.service.exports import movements
from openturk.service.records import HitSpec, HitTypeSpec
from openturk.service.services import Services, open_services
from openturk.settings import Settings
from openturk.storage import migrate
from openturk.storage.db import Database
from tests.hit_support import EXTERNAL


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    opened = open_services(Settings().with_db(db_url))
    yield opened
    opened.close()


def _to(db: Database, revision: str) -> None:
    from alembic import command

    with db.write() as conn:
        config = migrate._config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _books(services: Services, requester_id: str, hit_ids: list[str]) -> dict[str, Any]:
    listed = {}
    for hit_id in hit_ids:
        page = services.bonuses.list_payments(requester_id, hit_id, None, None, 100)
        listed[hit_id] = [(b.entry_id, b.worker_id, b.amount_cents, b.reason, b.granted_at) for b in page]
    return {
        "movements": list(movements(services.db)),
        "balance": services.accounts.balance(requester_id),
        "bonuses": listed,
    }


def test_0007_keeps_every_movement_bonus_and_token(services: Services) -> None:
    lab = services.accounts.create_requester("lab", balance_cents=100_000).requester.id
    hit_ids, paid = [], []
    for n in range(3):
        hit = services.hits.create_hit(
            lab, HitTypeSpec(f"task {n}", "d", 25, 3600), HitSpec(EXTERNAL, 86_400, 2), request_id=f"h{n}"
        )
        hit_ids.append(hit.id)
        for w in range(2):
            worker = services.workers.create(f"w{n}{w}").id
            assignment = services.workers.accept(hit.id, worker).assignment_id
            services.workers.submit(assignment, [("answer", "done")])
            services.assignments.approve(lab, assignment, None, False, request_id=f"a{n}{w}")
            for b in range(2):
                token = f"tok-{n}-{w}-{b}" if b else None
                services.bonuses.send(
                    lab, worker, assignment, 7 + n + b, "thanks", token, request_id=f"req-{n}-{w}-{b}"
                )
                paid.append((worker, assignment))
    before = _books(services, lab, hit_ids)
    assert run_audit(services.db).ok

    _to(services.db, "0006")
    with services.db.read() as conn:  # 0006's shapes, with made-up ids that hold together
        ids = conn.execute(sa.text("SELECT id, entry_id FROM bonuses")).all()
        assert len(ids) == 12
        assert all(bonus == f"B{entry}" for bonus, entry in ids)
        pointers = conn.execute(
            sa.text(
                "SELECT t.result_id, b.id FROM request_tokens t JOIN bonuses b ON b.request_id = t.request_id"
                " WHERE t.operation = 'SendBonus'"
            )
        ).all()
        assert len(pointers) == 6
        assert all(result == bonus for result, bonus in pointers)
    migrate.upgrade(services.db)
    assert migrate.current_revision(services.db) == migrate.HEAD

    assert _books(services, lab, hit_ids) == before
    report = run_audit(services.db)
    assert report.ok, report.problems
    worker, assignment = paid[1]
    with pytest.raises(DuplicateRequestError) as repeat:
        services.bonuses.send(lab, worker, assignment, 9, "again", "tok-0-0-1", request_id="later")
    assert "req-0-0-1" in repeat.value.message
    worker, assignment = paid[0]
    new = services.bonuses.send(lab, worker, assignment, 11, "more", "tok-new", request_id="req-new")
    listed = services.bonuses.list_payments(lab, hit_ids[0], None, None, 100)
    assert [b.entry_id for b in listed][-1] == new.entry_id
    assert [b.entry_id for b in listed][:-1] == [b[0] for b in before["bonuses"][hit_ids[0]]]
    assert run_audit(services.db).ok
