"""Durations as people type them: ``90s``, ``15m``, ``3d``, ``1d12h``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    compact = text.strip().lower()
    if not compact or _PART.sub("", compact):
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 2h, 3d or 1d12h")
    total = timedelta()
    try:
        for amount, unit in _PART.findall(compact):
            total += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        raise ValueError(f"{text!r} is longer than any duration the clock can move") from None
    return total
