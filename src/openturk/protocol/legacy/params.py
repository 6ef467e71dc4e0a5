"""Reading a legacy request's parameters: a GET query or a POST form body, with flattened structures.

Structures arrive flattened with a 1-based index (``Reward.1.Amount``, ``BonusAmount.1.CurrencyCode``,
``QualificationRequirement.2.IntegerValue.1``); clients also send the index-less form for a single
element (``Reward.Amount``, ``QualificationRequirement.1.LocaleValue.Country``).  Every helper raises
the legacy-coded errors of ``openturk.errors``; none decides anything about the marketplace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qsl

from openturk.errors import MissingParameterError, ParameterError
from openturk.money import parse_cents

_INT = re.compile(r"^[+-]?[0-9]{1,18}$")
# Every integer of the legacy WSDL is an xs:int (and the columns behind them hold no more).
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_EXTRA_ZEROS = re.compile(r"^([0-9]+\.[0-9]{2})0+$")


def decode_pairs(text: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` as form decoding reads it (``+`` is a space); blank values are kept."""
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ParameterError("The request parameters are not valid UTF-8 form encoding.") from None


class Params:
    """A legacy request's parameters, as sent (values are never rewritten)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str) -> str | None:
        return self.values.get(name)

    def required(self, name: str, *, shown: str | None = None) -> str:
        """A parameter that must be present and not blank; ``shown`` is its full name in the error."""
        value = self.values.get(name)
        if value is None or value == "":
            shown = shown or name
            raise MissingParameterError(
                f"Your request is missing required parameters. Required parameters include {shown}.",
                data={"Parameter": shown},
            )
        return value

    def required_member(self, prefix: str, name: str) -> str:
        """A required member of a structure's Params (``structure``), named in full when missing."""
        return self.required(name, shown=f"{prefix}.{name}")

    def integer(self, name: str, *, required: bool = False) -> int | None:
        raw = self.required(name) if required else self.values.get(name)
        if raw is None or raw == "":
            return None
        return xs_int(raw, name)

    def required_integer(self, name: str) -> int:
        value = self.integer(name, required=True)
        assert value is not None
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        """One of an enumeration's values, exactly as written, or None when absent or blank."""
        raw = self.values.get(name) or None
        return None if raw is None else _one_of(name, raw, allowed)

    def choices(self, name: str, allowed: tuple[str, ...]) -> list[str]:
        """A list (``Name.1``, ``Name.2``... or one ``Name``) of an enumeration's values."""
        return [_one_of(name, value, allowed) for value in self.indexed(name)]

    def descending(self, *, default: bool = False) -> bool:
        """SortDirection: Ascending or Descending (``default`` when absent)."""
        direction = self.choice("SortDirection", ("Ascending", "Descending"))
        return default if direction is None else direction == "Descending"

    def boolean(self, name: str, *, letters: bool = False) -> bool | None:
        """true or false (any case); with ``letters`` also T or F, as GetReviewResultsForHIT's flags."""
        raw = self.values.get(name)
        if raw is None or raw == "":
            return None
        lowered = raw.strip().lower()
        if letters and lowered in ("t", "f"):
            return lowered == "t"
        if lowered not in ("true", "false"):
            raise ParameterError(
                f'The value "{raw}" is not valid for the parameter {name}. Use true or false.',
                data={name: raw},
            )
        return lowered == "true"

    def price_cents(self, name: str, *, required: bool = True) -> int | None:
        """A Price structure (``Name.1.Amount`` and ``Name.1.CurrencyCode``) as integer cents."""
        amount_key = _first_present(self.values, (f"{name}.1.Amount", f"{name}.Amount"))
        currency_key = _first_present(self.values, (f"{name}.1.CurrencyCode", f"{name}.CurrencyCode"))
        if amount_key is None:
            if required:
                self.required(f"{name}.1.Amount")
            return None
        currency = self.values.get(currency_key, "USD") if currency_key else "USD"
        if currency != "USD":
            raise ParameterError(
                f'The value "{currency}" is not valid for the parameter {name}.1.CurrencyCode. '
                "Only USD is supported.",
                data={f"{name}.1.CurrencyCode": currency},
            )
        return legacy_cents(self.values[amount_key].strip())

    def structure(self, name: str) -> Params | None:
        """A flattened structure (``Name.1.Member=...`` or ``Name.Member=...``) as the Params of its
        members, or None when the request has none of them."""
        for prefix in (f"{name}.1.", f"{name}."):
            members = {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}
            if members:
                return Params(members)
        return None

    def structures(self, name: str) -> list[tuple[str, Params]]:
        """Numbered structures (``Name.1.Member``, ``Name.2.Member``...) in index order, each as its
        full prefix (``Name.1``, for errors) and the Params of its members."""
        found = []
        for n in sorted(_indices(self.values, name, nested=True)):
            prefix = f"{name}.{n}"
            members = {k[len(prefix) + 1 :]: v for k, v in self.values.items() if k.startswith(prefix + ".")}
            found.append((prefix, Params(members)))
        return found

    def indexed(self, name: str) -> list[str]:
        """A list sent as ``Name.1``, ``Name.2``... (or a single ``Name``), in index order."""
        found = sorted(_indices(self.values, name))
        if found:
            return [self.values[f"{name}.{i}"] for i in found]
        single = self.values.get(name)
        return [] if single is None else [single]


def legacy_cents(text: str) -> int:
    """A Price Amount: as the 2017 API's amounts, plus zeros beyond the cents ("5.000", "0.50")
    that old SDKs print from floats.  Anything finer than a cent is refused, never rounded."""
    match = _EXTRA_ZEROS.fullmatch(text)
    return parse_cents(match.group(1) if match else text)


def _first_present(values: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if k in values), None)


def _indices(values: Mapping[str, str], name: str, *, nested: bool = False) -> Iterator[int]:
    pattern = re.compile(rf"^{re.escape(name)}\.([0-9]+)" + (r"\." if nested else "$"))
    seen: set[int] = set()
    for key in values:
        match = pattern.match(key)
        if match and int(match.group(1)) not in seen:
            seen.add(int(match.group(1)))
            yield int(match.group(1))


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ParameterError(
            f'The value "{value}" is not valid for the parameter {name}. Use one of {", ".join(allowed)}.',
            data={name: value},
        )
    return value


def xs_int(raw: str, name: str) -> int:
    """``raw``, a value of the parameter ``name``, as an xs:int."""
    if not _INT.fullmatch(raw.strip()) or not _INT_MIN <= int(raw.strip()) <= _INT_MAX:
        raise ParameterError(f'The value "{raw}" is not valid for the parameter {name}.', data={name: raw})
    return int(raw.strip())
