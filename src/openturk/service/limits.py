"""MTurk's documented bounds on what a requester chooses: numbers of a HIT, lengths of texts.

The 2017 JSON API's model checks some of these lengths before a call gets here, the legacy API and a
client with its validation turned off do not; the database's column widths are these limits too, but
SQLite does not enforce them and PostgreSQL would only fail the write.  So the services check them,
once, for both APIs and both databases.
"""

from __future__ import annotations

from collections.abc import Mapping

from openturk.errors import ParameterError

NUMBERS = {
    "AssignmentDurationInSeconds": (30, 31_536_000),
    "LifetimeInSeconds": (30, 31_536_000),
    "AutoApprovalDelayInSeconds": (0, 2_592_000),
    "MaxAssignments": (1, 1_000_000),
}

# Characters, from the operations' documentation (CreateHIT, ApproveAssignment, NotifyWorkers, ...).
TEXTS = {
    "Title": 128,
    "Description": 2000,
    "Keywords": 1000,
    "RequesterAnnotation": 255,
    "RequesterFeedback": 1024,
    "UniqueRequestToken": 64,
    "Destination": 1024,
}


def check_range(name: str, value: int) -> None:
    low, high = NUMBERS[name]
    if not low <= value <= high:
        raise ParameterError(
            f"The value {value} is not valid for {name}. Valid values are between {low} and {high}.",
            data={name: str(value)},
        )


def check_length(name: str, value: str | None, limit: int | None = None) -> None:
    """``value`` (None: not given) fits ``name``'s documented length (or ``limit``)."""
    most = TEXTS[name] if limit is None else limit
    if value is not None and len(value) > most:
        raise ParameterError(
            f"The value of {name} is {len(value)} characters long; it can be at most {most} characters.",
            data={name: value[:most]},
        )


def check_lengths(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        check_length(name, value)
