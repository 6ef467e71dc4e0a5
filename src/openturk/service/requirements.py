"""QualificationRequirements applied when a worker lists, previews or accepts a HIT.

* Every requirement other than ``DoesNotExist`` needs the worker to hold a Qualification of the type
  (granted, not revoked); ``NotEqualTo`` and ``NotIn`` too, as on MTurk.  The worker's values, system
  types included, are ``qualification_values``'; the checks made when a HIT type is registered are
  ``requirement_checks``.
* ``ActionsGuarded`` (Accept, PreviewAndAccept, DiscoverPreviewAndAccept) says which actions a failed
  requirement forbids; without it, ``RequiredToPreview`` true means PreviewAndAccept, else Accept.
* A worker blocked by a HIT's requester can neither see nor accept its HITs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from openturk.errors import DoesNotMeetRequirementsError
from openturk.service.qualification_values import Value, worker_values
from openturk.storage.schema import hit_types
from openturk.storage.schema_qualifications import qualification_types, worker_blocks


class Action(IntEnum):
    DISCOVER = 1
    PREVIEW = 2
    ACCEPT = 3


_GUARDED = {
    "Accept": frozenset({Action.ACCEPT}),
    "PreviewAndAccept": frozenset({Action.PREVIEW, Action.ACCEPT}),
    "DiscoverPreviewAndAccept": frozenset(Action),
}


def guarded_actions(requirement: Mapping[str, Any]) -> frozenset[Action]:
    guard = requirement.get("ActionsGuarded")
    if guard is None:
        guard = "PreviewAndAccept" if requirement.get("RequiredToPreview") else "Accept"
    return _GUARDED[guard]


def _locale_matches(wanted: Mapping[str, Any], value: Value) -> bool:
    if value.country is None or str(wanted.get("Country", "")).upper() != value.country.upper():
        return False
    subdivision = wanted.get("Subdivision")
    return subdivision is None or (value.subdivision or "").upper() == str(subdivision).upper()


def meets(requirement: Mapping[str, Any], value: Value | None) -> bool:
    """Whether a worker holding ``value`` (None: no Qualification of the type) meets the requirement."""
    comparator = requirement["Comparator"]
    if comparator == "Exists":
        return value is not None
    if comparator == "DoesNotExist":
        return value is None
    if value is None:
        return False
    locales = requirement.get("LocaleValues") or []
    if locales:
        if value.country is None:
            return False
        found = [_locale_matches(locale, value) for locale in locales]
        return {
            "EqualTo": found[0],
            "NotEqualTo": not found[0],
            "In": any(found),
            "NotIn": not any(found),
        }.get(comparator, False)
    numbers = requirement.get("IntegerValues") or []
    if value.integer is None or not numbers:
        return False
    mine, first = value.integer, numbers[0]
    results = {
        "LessThan": mine < first,
        "LessThanOrEqualTo": mine <= first,
        "GreaterThan": mine > first,
        "GreaterThanOrEqualTo": mine >= first,
        "EqualTo": mine == first,
        "NotEqualTo": mine != first,
        "In": mine in numbers,
        "NotIn": mine not in numbers,
    }
    return bool(results.get(comparator, False))


@dataclass(frozen=True, slots=True)
class Access:
    """What one worker may do with one HIT, and why not."""

    blocked: bool
    failed: tuple[tuple[Mapping[str, Any], Value | None], ...] = field(default=())

    def allows(self, action: Action) -> bool:
        return not self.blocked and not any(action in guarded_actions(r) for r, _ in self.failed)

    def failing(self, action: Action) -> list[tuple[Mapping[str, Any], Value | None]]:
        return [(r, v) for r, v in self.failed if action in guarded_actions(r)]


def requirements_of(conn: Connection, hit_type_id: str) -> list[dict[str, Any]]:
    raw = conn.execute(
        select(hit_types.c.qualification_requirements).where(hit_types.c.id == hit_type_id)
    ).scalar_one()
    loaded: list[dict[str, Any]] = json.loads(raw)
    return loaded


def blocked_by(conn: Connection, worker_id: str) -> set[str]:
    """The requesters who block the worker."""
    return set(
        conn.execute(
            select(worker_blocks.c.requester_id).where(worker_blocks.c.worker_id == worker_id)
        ).scalars()
    )


def access(
    requirements: Sequence[Mapping[str, Any]], values: Mapping[str, Value | None], *, blocked: bool
) -> Access:
    failed = tuple(
        (r, values.get(str(r["QualificationTypeId"])))
        for r in requirements
        if not meets(r, values.get(str(r["QualificationTypeId"])))
    )
    return Access(blocked, failed)


def access_to_hit(conn: Connection, worker_id: str, hit: Row[Any]) -> Access:
    requirements = requirements_of(conn, hit.hit_type_id)
    values = worker_values(conn, worker_id, {str(r["QualificationTypeId"]) for r in requirements})
    return access(requirements, values, blocked=hit.requester_id in blocked_by(conn, worker_id))


def _shown(value: Value | None) -> str:
    if value is None:
        return "the worker has no such Qualification"
    if value.integer is not None:
        return f"the worker's value is {value.integer}"
    place = value.country or "none"
    return f"the worker's locale is {place}{'-' + value.subdivision if value.subdivision else ''}"


def _wanted(requirement: Mapping[str, Any]) -> str:
    comparator = requirement["Comparator"]
    if requirement.get("LocaleValues"):
        shown = ", ".join(
            str(loc.get("Country")) + (f"-{loc['Subdivision']}" if loc.get("Subdivision") else "")
            for loc in requirement["LocaleValues"]
        )
        return f"{comparator} {shown}"
    numbers = requirement.get("IntegerValues") or []
    return f"{comparator} {', '.join(str(n) for n in numbers)}".strip()


_VERBS = {Action.DISCOVER: "see", Action.PREVIEW: "preview", Action.ACCEPT: "accept"}


def require(conn: Connection, worker_id: str, hit: Row[Any], action: Action) -> Access:
    """Raise unless the worker may take ``action`` on the HIT (a row of ``hits``)."""
    found = access_to_hit(conn, worker_id, hit)
    verb = _VERBS[action]
    if found.blocked:
        raise DoesNotMeetRequirementsError(
            f"Worker {worker_id} cannot {verb} HIT {hit.id}: the requester has blocked this worker.",
            data={"HITId": hit.id, "WorkerId": worker_id},
        )
    failing = found.failing(action)
    if failing:
        ids = {str(r["QualificationTypeId"]) for r, _ in failing}
        names = dict(
            conn.execute(
                select(qualification_types.c.id, qualification_types.c.name).where(
                    qualification_types.c.id.in_(ids)
                )
            ).all()
        )
        reasons = "; ".join(
            f"{names.get(str(r['QualificationTypeId']), 'QualificationType')} ({r['QualificationTypeId']}) "
            f"must be {_wanted(r)}, but {_shown(v)}"
            for r, v in failing
        )
        raise DoesNotMeetRequirementsError(
            f"Worker {worker_id} does not meet the QualificationRequirements to {verb} HIT {hit.id}: "
            f"{reasons}.",
            data={"HITId": hit.id, "WorkerId": worker_id},
        )
    return found


def require_visitor(conn: Connection, hit: Row[Any], action: Action) -> Access:
    """``require`` for someone who is not (yet) a worker, as a logged-out visitor previews on MTurk: they
    hold no Qualification, so a HIT whose requirements guard ``action`` is refused."""
    found = access(requirements_of(conn, hit.hit_type_id), {}, blocked=False)
    if not found.allows(action):
        raise DoesNotMeetRequirementsError(
            f"Only workers who meet the QualificationRequirements of HIT {hit.id} can {_VERBS[action]} it: "
            "open it with your workerId.",
            data={"HITId": hit.id},
        )
    return found
