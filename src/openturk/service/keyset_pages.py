"""A listing ordered by (time, id), and its page resumed from a signed NextToken (see ``paging``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Row

from openturk.service import paging
from openturk.service.paging import Page, PageTokens, Position, page_size
from openturk.service.uow import MarketTransactions
from openturk.storage.types import to_micros

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """A listing that both paging styles serve: keyset pages with a NextToken (the 2017 API) and
    numbered pages with a total (the legacy API, ``numbered_pages.numbered_page``), so the two front
    doors list the same rows in the same order.

    ``query`` selects the rows (unordered, unlimited); ``key`` is its order, a time column and an id
    column; ``make`` turns a row into an item (given the marketplace's now); ``check`` is the caller's
    access check, which raises, run first in the listing's own snapshot; ``scope`` binds a NextToken
    to this listing."""

    scope: str
    query: Select[Any]
    key: tuple[Any, Any]
    make: Callable[[Row[Any], datetime], T]
    check: Callable[[Connection], object] | None = None


def keyset_page(
    tx: MarketTransactions,
    tokens: PageTokens,
    listing: Listing[T],
    next_token: str | None,
    max_results: int | None,
) -> Page[T]:
    """The page of ``listing`` after ``next_token``."""
    time_column, id_column = listing.key
    with tx.read() as (conn, now):
        if listing.check is not None:
            listing.check(conn)
        after = tokens.decode(listing.scope, next_token)
        query = listing.query.order_by(time_column, id_column).limit(page_size(max_results))
        if after is not None:
            query = query.where(paging.after(time_column, id_column, after))
        rows = conn.execute(query).all()
        items = tuple(listing.make(r, now) for r in rows)
    if not rows:
        return Page((), None)
    last = rows[-1]._mapping
    position = Position(to_micros(last[time_column]), str(last[id_column]))
    return Page(items, tokens.encode(listing.scope, position))
