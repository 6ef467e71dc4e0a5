"""Money as integer cents: parsing, formatting and fees. No float is ever involved.

The JSON API carries amounts as strings ("5", "101.42", "0.5"); the legacy API as Price structures with
FormattedPrice ("$10,000.00").  Everything in between is an ``int`` of US cents.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from openturk.errors import ParameterError

_AMOUNT = re.compile(r"^([0-9]+)(?:\.([0-9]{0,2}))?$")
CENT = Decimal("0.01")
# Ten billion dollars: far above any real payment, far below what a 64-bit column holds.
MAX_CENTS = 10**12


class MoneyFormatError(ParameterError, ValueError):
    """A string that is not a dollar amount with at most two decimals, or an absurdly large one."""


def parse_cents(text: str) -> int:
    """ "5" -> 500, "101.42" -> 10142, "0.5" -> 50, "7." -> 700.  Anything else raises MoneyFormatError."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise MoneyFormatError(f"{text!r} is not an amount in dollars with at most two decimals")
    dollars, fraction = match.group(1), (match.group(2) or "")
    if len(dollars.lstrip("0")) > 11:
        raise MoneyFormatError(
            f"{text!r} is more than the largest amount OpenTurk handles ({MAX_CENTS // 100:,} dollars)"
        )
    cents = int(dollars) * 100 + int(fraction.ljust(2, "0"))
    if cents > MAX_CENTS:
        raise MoneyFormatError(
            f"{text!r} is more than the largest amount OpenTurk handles ({MAX_CENTS // 100:,} dollars)"
        )
    return cents


def format_amount(cents: int) -> str:
    """500 -> "5.00": the form the 2017 API and the CLI's JSON use."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def formatted_price(cents: int) -> str:
    """1000000 -> "$10,000.00": the legacy Price structure's FormattedPrice."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def percent_of(cents: int, rate: Decimal) -> int:
    """``rate`` (0.20 for 20%) of an amount, rounded half-up to the cent."""
    return int((Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fee_cents(cents: int, rate: Decimal, minimum: int) -> int:
    """A commission on one assignment or one bonus: ``rate`` of it, half-up, never below ``minimum``;
    no commission at all on nothing, or when the rate is zero (an operator who waives fees)."""
    if cents == 0 or rate == 0:
        return 0
    return max(percent_of(cents, rate), minimum)
