"""Every Comparator on IntegerValues and LocaleValues, against a reference predicate written apart from
the implementation: first the pure rule, then end to end through HIT creation and the worker's accept."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openturk.errors import DoesNotMeetRequirementsError
from openturk.service import qualification_values, requirements
from openturk.service.qualification_records import TypeSpec
from openturk.service.qualification_values import Value
from openturk.service.records import HitSpec, HitTypeSpec
from openturk.service.services import Services, open_services
from openturk.settings import Settings
from tests import support
from tests.hit_support import EXTERNAL

ORDERED: dict[str, Callable[[int, int], bool]] = {
    "LessThan": operator.lt,
    "LessThanOrEqualTo": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanOrEqualTo": operator.ge,
    "EqualTo": operator.eq,
    "NotEqualTo": operator.ne,
}
COUNTRIES = ("US", "CA", "GB")
SUBDIVISIONS = (None, "CA", "NY")

Locale = tuple[str, str | None]


def reference(comparator: str, integers: list[int], locales: list[Locale], held: int | Locale | None) -> bool:
    """MTurk's rule, restated: presence tests look only at whether the Qualification is held; every other
    comparator needs it held; a locale value without a Subdivision matches the whole country."""
    if comparator in ("Exists", "DoesNotExist"):
        return (held is not None) == (comparator == "Exists")
    if held is None:
        return False
    if locales:
        assert isinstance(held, tuple)
        matching = [country == held[0] and subdivision in (None, held[1]) for country, subdivision in locales]
        if comparator == "EqualTo":
            return matching[0]
        if comparator == "NotEqualTo":
            return not matching[0]
        return any(matching) if comparator == "In" else not any(matching)
    assert isinstance(held, int)
    if comparator in ORDERED:
        return ORDERED[comparator](held, integers[0])
    return (held in integers) == (comparator == "In")


@st.composite
def integer_cases(draw: st.DrawFn) -> tuple[str, list[int], int | None]:
    comparator = draw(st.sampled_from([*ORDERED, "In", "NotIn", "Exists", "DoesNotExist"]))
    if comparator in ("Exists", "DoesNotExist"):
        integers: list[int] = []
    elif comparator in ("In", "NotIn"):
        integers = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=15))
    else:
        integers = [draw(st.integers(-3, 3))]
    return comparator, integers, draw(st.none() | st.integers(-4, 4))


locales_st = st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(SUBDIVISIONS))


@st.composite
def locale_cases(draw: st.DrawFn) -> tuple[str, list[Locale], Locale]:
    comparator = draw(st.sampled_from(["EqualTo", "NotEqualTo", "In", "NotIn", "Exists", "DoesNotExist"]))
    if comparator in ("Exists", "DoesNotExist"):
        locales: list[Locale] = []
    elif comparator in ("In", "NotIn"):
        locales = draw(st.lists(locales_st, min_size=1, max_size=30))
    else:
        locales = [draw(locales_st)]
    return comparator, locales, draw(locales_st)


def _requirement(type_id: str, comparator: str, integers: list[int], locales: list[Locale]) -> dict[str, Any]:
    requirement: dict[str, Any] = {"QualificationTypeId": type_id, "Comparator": comparator}
    if integers:
        requirement["IntegerValues"] = integers
    if locales:
        requirement["LocaleValues"] = [
            {"Country": c, **({"Subdivision": s} if s is not None else {})} for c, s in locales
        ]
    return requirement


@given(integer_cases())
def test_integer_comparators_match_the_reference(case: tuple[str, list[int], int | None]) -> None:
    comparator, integers, held = case
    value = None if held is None else Value(integer=held)
    requirement = _requirement("3CUSTOM", comparator, integers, [])
    assert requirements.meets(requirement, value) == reference(comparator, integers, [], held)


@given(locale_cases(), st.booleans())
def test_locale_comparators_match_the_reference(case: tuple[str, list[Locale], Locale], has: bool) -> None:
    comparator, locales, held = case
    value = Value(country=held[0], subdivision=held[1]) if has else None
    requirement = _requirement(qualification_values.LOCALE, comparator, [], locales)
    assert requirements.meets(requirement, value) == reference(comparator, [], locales, held if has else None)


# --- end to end: the requirement on a real HIT, the worker's accept through the service ------------------


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    url = support.fresh_db_url(tmp_path_factory.mktemp("comparators"))
    opened = open_services(Settings().with_db(url))
    yield opened
    opened.close()
    if support.testing_postgres():
        support.pg_databases().drop(url)


@pytest.fixture(scope="module")
def market(services: Services) -> dict[str, str]:
    requester = services.accounts.create_requester("comparators", balance_cents=10_000_000).requester.id
    qual = services.qualifications.create_type(
        requester, TypeSpec(name="Score", description="A number", status="Active")
    ).id
    return {"requester": requester, "qual": qual}


_names = count()


def _accepts(services: Services, requester: str, requirement: dict[str, Any], worker_id: str) -> bool:
    spec = HitTypeSpec(
        title=f"Comparator {next(_names)}",
        description="d",
        reward_cents=0,
        assignment_duration_s=600,
        qualification_requirements=(requirement,),
    )
    hit = services.hits.create_hit(
        requester, spec, HitSpec(question=EXTERNAL, lifetime_s=600), request_id="t"
    )
    try:
        services.workers.accept(hit.id, worker_id)
    except DoesNotMeetRequirementsError:
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(case=integer_cases())
def test_accept_applies_integer_comparators(
    services: Services, market: dict[str, str], case: tuple[str, list[int], int | None]
) -> None:
    comparator, integers, held = case
    worker_id = services.workers.create("integer").id
    if held is not None:
        services.qualification_grants.associate(market["requester"], market["qual"], worker_id, held)
    requirement = _requirement(market["qual"], comparator, integers, [])
    assert _accepts(services, market["requester"], requirement, worker_id) == reference(
        comparator, integers, [], held
    )


@settings(max_examples=40, deadline=None)
@given(case=locale_cases())
def test_accept_applies_locale_comparators(
    services: Services, market: dict[str, str], case: tuple[str, list[Locale], Locale]
) -> None:
    comparator, locales, held = case
    worker_id = services.workers.create("locale", held[0], held[1]).id
    requirement = _requirement(qualification_values.LOCALE, comparator, [], locales)
    assert _accepts(services, market["requester"], requirement, worker_id) == reference(
        comparator, [], locales, held
    )
