"""QualificationRequirements checked when a HIT type is registered: refused as MTurk refuses them,
and linked to the HIT type so ListHITsForQualificationType finds it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from openturk.errors import ParameterError, QualificationTypeDoesNotExistError
from openturk.service.qualification_values import LOCALE
from openturk.storage.schema_qualifications import hit_type_qualifications, qualification_types

MAX_REQUIREMENTS = 10
MAX_INTEGER_SET = 15
MAX_LOCALE_SET = 30

ORDERED = frozenset({"LessThan", "LessThanOrEqualTo", "GreaterThan", "GreaterThanOrEqualTo"})
EQUALITY = frozenset({"EqualTo", "NotEqualTo"})
SETS = frozenset({"In", "NotIn"})
PRESENCE = frozenset({"Exists", "DoesNotExist"})


def _bad(index: int, message: str) -> ParameterError:
    return ParameterError(
        f"QualificationRequirement {index}: {message}", data={"QualificationRequirement": str(index)}
    )


def validate(conn: Connection, requester_id: str, requirements: Sequence[Mapping[str, Any]]) -> None:
    """Refuse requirements MTurk refuses: unknown, inactive or deleted types, and values that do not fit
    the comparator or the type.  Another requester's Inactive type is, to the caller, one that does not
    exist (as GetQualificationType says): the refusal must not tell them otherwise."""
    if len(requirements) > MAX_REQUIREMENTS:
        raise ParameterError(
            f"A HIT can have at most {MAX_REQUIREMENTS} QualificationRequirements; "
            f"{len(requirements)} were given."
        )
    wanted = {str(r["QualificationTypeId"]) for r in requirements}
    rows = {
        row.id: row
        for row in conn.execute(
            select(
                qualification_types.c.id, qualification_types.c.status, qualification_types.c.requester_id
            ).where(qualification_types.c.id.in_(wanted))
        )
    }
    for index, requirement in enumerate(requirements, 1):
        type_id = str(requirement["QualificationTypeId"])
        row = rows.get(type_id)
        hidden = row is not None and row.status == "Inactive" and row.requester_id != requester_id
        if row is None or row.status == "Disposed" or hidden:
            raise QualificationTypeDoesNotExistError(type_id)
        if row.status != "Active":
            raise _bad(
                index, f"QualificationType {type_id} is {row.status}; HITs can only require Active types."
            )
        _check_values(index, type_id, requirement)


COMPARATORS = ORDERED | EQUALITY | SETS | PRESENCE


def _check_values(index: int, type_id: str, requirement: Mapping[str, Any]) -> None:
    comparator = requirement["Comparator"]
    if comparator not in COMPARATORS:  # the JSON model's enum; the legacy API brings any text
        raise _bad(index, f"'{comparator}' is not a comparator; use one of {', '.join(sorted(COMPARATORS))}.")
    numbers = requirement.get("IntegerValues") or []
    locales = requirement.get("LocaleValues") or []
    if requirement.get("ActionsGuarded") is not None and requirement.get("RequiredToPreview"):
        raise _bad(
            index, "RequiredToPreview cannot be used together with ActionsGuarded; use ActionsGuarded."
        )
    if comparator in PRESENCE:
        if numbers or locales:
            raise _bad(
                index, f"IntegerValues and LocaleValues must not be present with the comparator {comparator}."
            )
        return
    if numbers and locales:
        raise _bad(index, "Give either IntegerValues or LocaleValues, not both.")
    if type_id == LOCALE:
        if numbers or not locales:
            raise _bad(
                index, f"QualificationType {LOCALE} (Worker_Locale) is compared with LocaleValues only."
            )
        if comparator in ORDERED:
            raise _bad(
                index,
                f"LocaleValues can only be used with EqualTo, NotEqualTo, In and NotIn, not {comparator}.",
            )
        for locale in locales:
            # ISO 3166-1 alpha-2 countries, the 2-letter subdivision part of ISO 3166-2 (the JSON
            # model's lengths, which the legacy API does not check itself).
            for key in ("Country", "Subdivision"):
                code = str(locale.get(key, "AA"))
                if not (code.isalpha() and code.isascii() and len(code) == 2):
                    raise _bad(index, f"'{code}' is not a valid ISO 3166 {key.lower()} code.")
        count, most = len(locales), MAX_LOCALE_SET
        kind = "LocaleValue"
    else:
        if locales or not numbers:
            raise _bad(index, f"Comparator {comparator} on QualificationType {type_id} needs IntegerValues.")
        count, most = len(numbers), MAX_INTEGER_SET
        kind = "IntegerValue"
    if comparator in SETS:
        if count > most:
            raise _bad(
                index,
                f"The comparator {comparator} takes at most {most} {kind} elements; {count} were given.",
            )
    elif count != 1:
        raise _bad(index, f"The comparator {comparator} takes exactly one {kind}; {count} were given.")


def link(conn: Connection, hit_type_id: str, requirements: Iterable[Mapping[str, Any]]) -> None:
    """Remember which qualification types a HIT type requires (ListHITsForQualificationType)."""
    wanted = {str(r["QualificationTypeId"]) for r in requirements}
    if not wanted:
        return
    known = set(
        conn.execute(
            select(hit_type_qualifications.c.qualification_type_id).where(
                hit_type_qualifications.c.hit_type_id == hit_type_id
            )
        ).scalars()
    )
    missing = sorted(wanted - known)
    if missing:
        conn.execute(
            insert(hit_type_qualifications),
            [{"hit_type_id": hit_type_id, "qualification_type_id": q} for q in missing],
        )
