"""The benchmark's databases: a fresh SQLite file made through the service layer, and a copy of it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bench.bulk import Target
from openturk.service.records import HitSpec, HitTypeSpec
from openturk.service.services import Services, open_services
from openturk.settings import Settings

EXTERNAL = (
    '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/'
    'ExternalQuestion.xsd"><ExternalURL>https://tasks.example.org/bench</ExternalURL>'
    "<FrameHeight>600</FrameHeight></ExternalQuestion>"
)


@dataclass(frozen=True, slots=True)
class Fixture:
    db_url: str
    access_key: str
    secret: str
    requester_id: str
    send: Target  # SendBonus goes here
    small: Target  # the HIT with the small number of bonuses
    big: Target  # the HIT that gets the big number of bonuses, in the copy only


def db_url(path: Path) -> str:
    return f"sqlite:///{path}"


def open_db(url: str) -> Services:
    """Services on ``url`` with the settings a server process would read from the environment."""
    return open_services(Settings.from_env(db_url=url))


def build(path: Path, balance_cents: int) -> Fixture:
    """A fresh database with one well-funded requester and three submitted assignments on three HITs
    (auto-approval three days away, so they stay submitted for the whole run)."""
    return build_at(db_url(path), balance_cents)


def build_at(url: str, balance_cents: int) -> Fixture:
    """``build`` on any database URL (an empty PostgreSQL database, say)."""
    services = open_db(url)
    try:
        lab = services.accounts.create_requester("bench", balance_cents=balance_cents)
        requester_id = lab.requester.id
        send, small, big = (_submitted(services, requester_id, name) for name in ("send", "small", "big"))
    finally:
        services.close()
    return Fixture(url, lab.access_key_id, lab.secret_access_key, requester_id, send, small, big)


def _submitted(services: Services, requester_id: str, name: str) -> Target:
    hit = services.hits.create_hit(
        requester_id,
        HitTypeSpec(f"bench {name}", "benchmark target", 0, 3600),
        HitSpec(EXTERNAL, 86_400),
        request_id="bench-setup",
    )
    worker = services.workers.create(f"bench {name}").id
    assignment = services.workers.accept(hit.id, worker).assignment_id
    services.workers.submit(assignment, [("answer", "done")])
    return Target(requester_id, worker, hit.id, assignment)


def copy_db(source: Path, destination: Path) -> None:
    """A consistent copy through SQLite's backup API (whatever is still in the WAL comes along)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
