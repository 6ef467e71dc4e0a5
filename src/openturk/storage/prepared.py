"""Core statements run straight on the driver's connection, for the handful on every request's path.

Executing a Core statement through ``Connection.execute`` costs about 25 microseconds of Python (cache
look-up, execution context, events, result set-up) around a statement SQLite itself runs in 2 or 3; a
SendBonus runs about ten.  A ``Prepared`` statement is still written with Core, against the schema's
tables, and compiled by SQLAlchemy for the connection's dialect, once; running it binds the
parameters with the statement's own type processors (``UtcTimestamp`` and the like), calls the DBAPI
connection's ``execute`` and hands back plain rows, converted by the result columns' types.

It runs inside the caller's SQLAlchemy transaction, on the same DBAPI connection, so it sees and is
part of everything the transaction did.  A driver error is raised as SQLAlchemy's (``DBAPIError``),
which is what ``storage.db``'s retry logic and everyone else expects.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import BindParameter, bindparam
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None  # positional paramstyle: the arguments
    constants: dict[str, Any]  # values the statement carries itself (literals, IN lists), bound
    processors: dict[str, Processor]  # for the names callers pass
    row: type[tuple[Any, ...]] | None
    converters: tuple[Processor | None, ...]


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._plans: dict[str, _Plan] = {}

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Rows:
        plan = self._plans.get(conn.dialect.name) or self._plan(conn.dialect)
        args = _bind(plan, params or {})
        raw: Any = conn.connection.driver_connection
        try:
            cursor = raw.execute(plan.sql, args)
        except conn.dialect.loaded_dbapi.Error as error:
            raise _wrapped(conn, plan.sql, args, error) from error
        return Rows(plan, cursor)

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        plan = self._plans.get(conn.dialect.name) or self._plan(conn.dialect)
        args = [_bind(plan, row) for row in rows]
        raw: Any = conn.connection.driver_connection
        try:
            raw.cursor().executemany(plan.sql, args)
        except conn.dialect.loaded_dbapi.Error as error:
            raise _wrapped(conn, plan.sql, args, error) from error

    def _plan(self, dialect: Dialect) -> _Plan:
        compiled = self._statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        callers = {name for name, bind in compiled.binds.items() if bind.required}
        # Expands IN lists of constants into one placeholder each, and gives every constant its value.
        expanded = compiled.construct_expanded_state(dict.fromkeys(callers))
        processors: dict[str, Processor] = {}
        for name in callers:
            processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        constants = {
            name: _process(compiled, dialect, name, value)
            for name, value in expanded.parameters.items()
            if name not in callers
        }
        columns = _result_columns(self._statement)
        row = None
        converters: tuple[Processor | None, ...] = ()
        if columns:
            base = namedtuple("PreparedRow", [name for name, _type in columns], rename=True)  # type: ignore[misc]
            row = type("PreparedRow", (base,), {"__slots__": (), "_mapping": property(_as_mapping)})
            converters = tuple(
                kind.dialect_impl(dialect).result_processor(dialect, None) for _name, kind in columns
            )
        order = expanded.positiontup
        pick = _picker(tuple(order)) if order is not None else None
        plan = _Plan(expanded.statement, pick, constants, processors, row, converters)
        self._plans[dialect.name] = plan
        return plan


def binds(names: Iterable[str]) -> dict[str, BindParameter[Any]]:
    """A bind parameter named after each column, for ``insert(table).values(binds(...))``: the INSERT
    then takes the row as a dict of those names."""
    return {name: bindparam(name) for name in names}


def run_driver_sql(conn: Connection, sql: str) -> None:
    """A fixed statement without parameters (``BEGIN IMMEDIATE``), the same way."""
    raw: Any = conn.connection.driver_connection
    try:
        raw.execute(sql)
    except conn.dialect.loaded_dbapi.Error as error:
        raise _wrapped(conn, sql, (), error) from error


class Rows:
    """The few ways the hot paths read a result; rows are tuples with attribute names (and ``_mapping``)."""

    __slots__ = ("_cursor", "_plan")

    def __init__(self, plan: _Plan, cursor: Any) -> None:
        self._plan = plan
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    def first(self) -> Any:
        raw = self._cursor.fetchone()
        self._cursor.close()  # the statement is done with: it must not hold on to anything until GC
        return None if raw is None else self._row(raw)

    def one(self) -> Any:
        row = self.first()
        if row is None:
            raise LookupError("the statement returned no row")
        return row

    def scalar_one(self) -> Any:
        return self.one()[0]

    def all(self) -> list[Any]:
        raws = self._cursor.fetchall()
        self._cursor.close()
        return [self._row(raw) for raw in raws]

    def _row(self, raw: Sequence[Any]) -> Any:
        plan = self._plan
        assert plan.row is not None, "a statement that returns no columns has no rows"
        return plan.row._make(  # type: ignore[attr-defined]
            value if convert is None else convert(value)
            for value, convert in zip(raw, plan.converters, strict=True)
        )


def _bind(plan: _Plan, params: Mapping[str, Any]) -> Any:
    values = {**plan.constants, **params}
    for name, processor in plan.processors.items():
        values[name] = processor(values[name])
    return values if plan.pick is None else plan.pick(values)


def _picker(order: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """Positional arguments from the bound values, in placeholder order (a name may repeat)."""
    if len(order) == 1:
        only = order[0]
        return lambda values: (values[only],)
    if not order:
        return lambda values: ()
    return itemgetter(*order)  # a tuple for two names or more


def _process(compiled: SQLCompiler, dialect: Dialect, name: str, value: Any) -> Any:
    bind = compiled.binds.get(name)
    if bind is None:  # one element of an expanded IN list, named after its list
        bind = compiled.binds.get(name.rpartition("_")[0])
    if bind is None or value is None:
        return value
    processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
    return value if processor is None else processor(value)


def _result_columns(statement: ClauseElement) -> list[tuple[str, Any]]:
    descriptions = getattr(statement, "column_descriptions", None)
    if descriptions is None:  # INSERT/UPDATE ... RETURNING
        descriptions = getattr(statement, "returning_column_descriptions", None) or []
    return [(str(d["name"]), d["type"]) for d in descriptions]


def _as_mapping(row: Any) -> dict[str, Any]:
    return dict(zip(row._fields, row, strict=True))


def _wrapped(conn: Connection, sql: str, args: Any, error: Exception) -> DBAPIError:
    raw = conn.connection.dbapi_connection
    invalidated = bool(conn.dialect.is_disconnect(error, raw, None))  # type: ignore[arg-type]
    if invalidated:
        conn.invalidate(error)
    wrapped = DBAPIError.instance(
        sql,
        args,
        error,
        conn.dialect.loaded_dbapi.Error,
        connection_invalidated=invalidated,
        dialect=conn.dialect,
    )
    assert isinstance(wrapped, DBAPIError)  # a driver error is always wrapped as one
    return wrapped
