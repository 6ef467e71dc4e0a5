"""Opaque, tamper-evident NextTokens over keyset positions.

A token names the last row of a page by its ordering key, so the next page starts strictly after it:
rows added meanwhile never shift or repeat a page, unlike OFFSET.  The token is bound to the query it
came from (operation, requester, filters) and signed with a key kept in the database, so it cannot be
forged or replayed against another query.  As some real clients stop only at an empty page while boto3
stops when NextToken is absent, every non-empty page carries a NextToken and the empty page after the
last row carries none.

The legacy API's numbered pages (PageSize, PageNumber, a total) share the page sizes and live here too
(``NumberedPage``, ``check_page``); ``numbered_pages`` runs them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, ColumnElement, bindparam, tuple_

from openturk.errors import ParameterError, ParameterOutOfRangeError
from openturk.storage.types import from_micros

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Position:
    """The ordering key of the last row seen: a time in microseconds and an id as tie-breaker."""

    micros: int
    id: str


class PageTokens:
    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def encode(self, scope: str, position: Position) -> str:
        payload = json.dumps([position.micros, position.id], separators=(",", ":")).encode()
        return _b64(payload) + "." + _b64(self._sign(scope, payload))

    def decode(self, scope: str, token: str | None) -> Position | None:
        if token is None:
            return None
        try:
            body, signature = token.split(".")
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(signature), self._sign(scope, payload)):
                raise ValueError("bad signature")
            micros, last_id = json.loads(payload)
            if not isinstance(micros, int) or not isinstance(last_id, str):
                raise ValueError("bad payload")
        except ValueError:
            raise _invalid(token) from None
        return Position(micros, last_id)

    def _sign(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]


@dataclass(frozen=True, slots=True)
class Page(Sequence[T]):
    items: tuple[T, ...]
    next_token: str | None

    def __getitem__(self, index: int) -> T:  # type: ignore[override]
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)


def after(time_column: Column[Any], id_column: Column[Any], position: Position) -> ColumnElement[bool]:
    """Rows strictly after ``position`` in (time, id) order, as a row-value comparison so the database
    seeks straight to it on the (filter, time, id) index instead of scanning from the first row.  An
    integer id (a bonus's entry) travels in the token as its digits."""
    at = bindparam(None, from_micros(position.micros), type_=time_column.type)
    last: Any = position.id
    if id_column.type.python_type is int:
        if not last.isdigit():  # signed by us, so never; but an int() error must not become a 500
            raise _invalid(None)
        last = int(last)
    return tuple_(time_column, id_column) > tuple_(at, bindparam(None, last, type_=id_column.type))


def _invalid(token: str | None) -> ParameterError:
    return ParameterError(
        "The NextToken is not valid for this request. Use the NextToken returned by the previous "
        "call with the same parameters.",
        data={"NextToken": token} if token is not None else None,
    )


@dataclass(frozen=True, slots=True)
class NumberedPage(Generic[T]):
    items: tuple[T, ...]
    page_number: int
    total: int


def check_page(
    page_size: int | None,
    page_number: int | None,
    *,
    default: int = DEFAULT_PAGE_SIZE,
    sizes: tuple[int, int] = (1, MAX_PAGE_SIZE),
) -> tuple[int, int]:
    """(size, number) with the legacy defaults (an operation may have its own ``default`` and range of
    ``sizes``); out of range is AWS.ParameterOutOfRange."""
    size = default if page_size is None else page_size
    number = 1 if page_number is None else page_number
    smallest, largest = sizes
    if not smallest <= size <= largest:
        raise ParameterOutOfRangeError(
            f"The value {size} for PageSize is out of range. It must be between {smallest} and {largest}.",
            data={"PageSize": str(size)},
        )
    if number < 1:
        raise ParameterOutOfRangeError(
            f"The value {number} for PageNumber is out of range. It must be 1 or more.",
            data={"PageNumber": str(number)},
        )
    return size, number


def page_size(max_results: int | None) -> int:
    return DEFAULT_PAGE_SIZE if max_results is None else max_results


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError(str(error)) from None
