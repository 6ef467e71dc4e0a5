"""One page of a listing ordered by (time, id), resumed from a signed NextToken (see ``paging``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Row

from openturk.service import paging
from openturk.service.paging import Page, PageTokens, Position, page_size
from openturk.service.uow import MarketTransactions
from openturk.storage.types import to_micros


def keyset_page(
    tx: MarketTransactions,
    tokens: PageTokens,
    scope: str,
    next_token: str | None,
    max_results: int | None,
    query: Select[Any],
    key: tuple[Any, Any],
    make: Callable[[Row[Any], datetime], Any],
    check: Callable[[Connection], object] | None = None,
) -> Page[Any]:
    """Run ``query`` for the page after ``next_token``, ordered by ``key`` (a time and an id column),
    turning each row into an item with ``make`` (given the marketplace's now); ``scope`` binds the
    token to this listing.  ``check`` (the caller's access check, which raises) runs first, in the
    same snapshot."""
    time_column, id_column = key
    with tx.read() as (conn, now):
        if check is not None:
            check(conn)
        after = tokens.decode(scope, next_token)
        query = query.order_by(time_column, id_column).limit(page_size(max_results))
        if after is not None:
            query = query.where(paging.after(time_column, id_column, after))
        rows = conn.execute(query).all()
        items = tuple(make(r, now) for r in rows)
    if not rows:
        return Page((), None)
    last = rows[-1]._mapping
    position = Position(to_micros(last[time_column]), str(last[id_column]))
    return Page(items, tokens.encode(scope, position))
