"""A worker's locale as MTurk's Worker_Locale Qualification holds it: an ISO 3166-1 alpha-2 country
(``US``) and, optionally, the code of an ISO 3166-2 subdivision within it (``CA``), in capitals."""

from __future__ import annotations

from openturk.errors import ParameterError


def check_locale(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """The codes in capitals; refused unless a country is two letters and a subdivision one to three
    letters or digits."""
    if country is not None and not (country.isascii() and country.isalpha() and len(country) == 2):
        raise ParameterError(f"'{country}' is not an ISO 3166 country code such as US.")
    if subdivision is not None and not (
        subdivision.isascii() and subdivision.isalnum() and 1 <= len(subdivision) <= 3
    ):
        raise ParameterError(f"'{subdivision}' is not an ISO 3166-2 subdivision code such as CA.")
    return (country.upper() if country else None), (subdivision.upper() if subdivision else None)
