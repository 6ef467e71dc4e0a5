"""Bring any database to the newest schema; every command calls this before doing anything else.

Several processes may start at once on a fresh database (``serve --workers N``, parallel CLI calls), so the
check and the upgrade run inside one write transaction that serialises them: the first upgrades, the rest
find the schema at head and do nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from openturk.storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 7_310_017  # any constant shared by all OpenTurk processes


@cache
def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(db: Database) -> str | None:
    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database) -> None:
    if _at_head(db):
        return
    with db.write() as conn:
        if not db.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        if MigrationContext.configure(conn).get_current_revision() == head_revision():
            return
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _at_head(db: Database) -> bool:
    try:
        return current_revision(db) == head_revision()
    except Exception:
        return False
