"""Reading a legacy request's parameters: a GET query or a POST form body, with flattened structures.

Structures arrive flattened with a 1-based index (``Reward.1.Amount``, ``BonusAmount.1.CurrencyCode``,
``QualificationRequirement.2.IntegerValue.1``); clients also send the index-less form for a single
element (``Reward.Amount``, ``QualificationRequirement.1.LocaleValue.Country``).  Every helper raises
the legacy-coded errors of ``openturk.errors``; none decides anything about the marketplace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
        price = self.structure(name)
        amount = None if price is None else price.text("Amount")
        if price is None or amount is None:
            if required:
                self.required(f"{name}.1.Amount")
            return None
        currency = price.text("CurrencyCode") or "USD"
        if currency != "USD":
            raise ParameterError(
                f'The value "{currency}" is not valid for the parameter {name}.1.CurrencyCode. '
                "Only USD is supported.",
                data={f"{name}.1.CurrencyCode": currency},
            )
        return legacy_cents(amount.strip())

    def structure(self, name: str) -> Params | None:
        """A flattened structure (``Name.1.Member=...`` or ``Name.Member=...``) as the Params of its
        members, or None when the request has none of them; more than one is refused."""
        found = self.structures(name)
        if len(found) > 1:
            raise ParameterError(
                f"The parameter {name} takes one structure; the request has {len(found)}.",
                data={"Parameter": name},
            )
        return found[0][1] if found else None

    def structures(self, name: str) -> list[tuple[str, Params]]:
        """Numbered structures (``Name.1.Member``, ``Name.2.Member``...) in index order, each as its
        full prefix (``Name.1``, for errors) and the Params of its members; a single one may come
        without its index (``Name.Member``), but not beside numbered ones."""
        numbered, plain = self._forms(name, nested=True)
        if plain:
            return [(name, Params(plain))]
        found = []
        for n in sorted(numbered):
            prefix = f"{name}.{numbered[n]}"
            members = {k[len(prefix) + 1 :]: v for k, v in self.values.items() if k.startswith(prefix + ".")}
            found.append((prefix, Params(members)))
        return found

    def indexed(self, name: str) -> list[str]:
        """A list sent as ``Name.1``, ``Name.2``... (or a single ``Name``), in index order."""
        numbered, _plain = self._forms(name, nested=False)
        single = self.values.get(name)
        if numbered and single is not None:
            raise _given_twice(name, name, f"{name}.{numbered[min(numbered)]}")
        if numbered:
            return [self.values[f"{name}.{numbered[n]}"] for n in sorted(numbered)]
        return [] if single is None else [single]

    def _forms(self, name: str, *, nested: bool) -> tuple[dict[int, str], dict[str, str]]:
        """How ``name`` was sent: ``{index: the index as written}`` of ``Name.N`` (``Name.N.Member``
        when ``nested``), and the members sent without an index (``Name.Member``).  An index written
        two ways (``Name.1`` and ``Name.01``) or both forms at once are refused: which one the client
        meant is not ours to guess, and dropping either could drop a QualificationRequirement."""
        numbered: dict[int, str] = {}
        plain: dict[str, str] = {}
        head = name + "."
        for key, value in self.values.items():
            if not key.startswith(head):
                continue
            rest = key[len(head) :]
            index, dot, _member = rest.partition(".")
            numeral = index.isdigit() and index.isascii()
            if numeral and bool(dot) == nested:
                if numbered.setdefault(int(index), index) != index:
                    raise _given_twice(name, f"{name}.{numbered[int(index)]}", f"{name}.{index}")
            elif nested and not numeral:
                plain[rest] = value
        if numbered and plain:
            first = f"{name}.{numbered[min(numbered)]}"
            raise _given_twice(name, f"{name}.{next(iter(plain))}", f"{first}...")
        return numbered, plain


def legacy_cents(text: str) -> int:
    """A Price Amount: as the 2017 API's amounts, plus zeros beyond the cents ("5.000", "0.50")
    that old SDKs print from floats.  Anything finer than a cent is refused, never rounded."""
    match = _EXTRA_ZEROS.fullmatch(text)
    return parse_cents(match.group(1) if match else text)


def _given_twice(name: str, one: str, other: str) -> ParameterError:
    return ParameterError(
        f"The parameter {name} is given more than once, as {one} and as {other}.",
        data={"Parameter": name},
    )


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
