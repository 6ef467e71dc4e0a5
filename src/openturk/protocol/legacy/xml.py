"""Compact XML as the legacy service wrote it: no declaration, no namespace, no whitespace between tags.

Some clients split the raw text instead of parsing it, so the layout is exact: elements in the legacy
WSDL's order, absent values left out, dates as ``2005-01-31T23:59:59Z``, money as Price structures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from openturk.money import format_amount, formatted_price

# Characters XML 1.0 cannot carry at all; they are dropped rather than break every client's parser.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Xml = str


def escape(text: str) -> str:
    text = _NOT_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def el(name: str, *children: Xml | None) -> Xml:
    """``<name>children</name>``; children are XML already (see ``text``), None ones are skipped."""
    return f"<{name}>{''.join(c for c in children if c is not None)}</{name}>"


def text(name: str, value: str | int | None) -> Xml | None:
    """A leaf element, or None (left out) when there is no value."""
    if value is None:
        return None
    return f"<{name}>{escape(str(value))}</{name}>"


def date(name: str, value: datetime | None) -> Xml | None:
    if value is None:
        return None
    return text(name, value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def boolean(name: str, value: bool | None) -> Xml | None:
    return None if value is None else text(name, "true" if value else "false")


def price(name: str, cents: int) -> Xml:
    return el(
        name,
        text("Amount", format_amount(cents)),
        text("CurrencyCode", "USD"),
        text("FormattedPrice", formatted_price(cents)),
    )


def concat(parts: Iterable[Xml | None]) -> Xml:
    return "".join(p for p in parts if p is not None)


def request_valid() -> Xml:
    return "<Request><IsValid>True</IsValid></Request>"


def response(root: str, request_id: str, result: Xml) -> bytes:
    return (
        f"<{root}><OperationRequest><RequestId>{escape(request_id)}</RequestId></OperationRequest>"
        f"{result}</{root}>"
    ).encode()
