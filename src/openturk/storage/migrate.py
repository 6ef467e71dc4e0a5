"""Bring any database to the newest schema; every command calls this before doing anything else.

Several processes may start at once on a fresh database (``serve --workers N``, parallel CLI calls), so the
check and the upgrade run inside one write transaction that serialises them: the first upgrades, the rest
find the schema at head and do nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection

from openturk.storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision: a database already there is recognised with one SELECT, without
# loading Alembic (a tenth of a second on every CLI command).  A test holds it to the scripts' head.
HEAD = "0007"
_PG_MIGRATION_LOCK = 7_310_017  # any constant shared by all OpenTurk processes


@cache
def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    """The head as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(db: Database) -> str | None:
    with db.read() as conn:
        return _revision_of(conn)


def upgrade(db: Database) -> None:
    if _at_head(db):
        return
    from alembic import command

    with db.write() as conn:
        if not db.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        if _revision_of(conn) == head_revision():
            return
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _revision_of(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _at_head(db: Database) -> bool:
    try:
        with db.read() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception:  # no alembic_version table yet: a new database
        return False
    return rows == [HEAD]
