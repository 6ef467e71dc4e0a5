"""The legacy parameter readers and signature forms, property by property (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openturk.errors import BadTimestampError, MissingParameterError, ParameterError
from openturk.money import format_amount
from openturk.protocol.legacy.params import Params, legacy_cents
from openturk.protocol.legacy.signature import documented_signature, parse_timestamp, version1_signature
from openturk.protocol.legacy.structures import qualification_requirements
from tests.legacy_client import boto2_v1_signature, flatten
from tests.legacy_client import documented_signature as client_documented_signature

cents = st.integers(min_value=0, max_value=10**12)


@given(cents, st.integers(min_value=0, max_value=3))
def test_amounts_with_trailing_zeros_are_exact(value: int, zeros: int) -> None:
    assert legacy_cents(format_amount(value) + "0" * zeros) == value


@given(cents, st.integers(min_value=1, max_value=9))
def test_amounts_finer_than_a_cent_are_refused_not_rounded(value: int, digit: int) -> None:
    with pytest.raises(ParameterError):
        legacy_cents(format_amount(value) + str(digit))


locale = st.fixed_dictionaries(
    {"Country": st.sampled_from(["US", "CA", "DE", "IN"])},
    optional={"Subdivision": st.sampled_from(["WA", "QC", "BY"])},
)
requirement = st.fixed_dictionaries(
    {
        "QualificationTypeId": st.from_regex(r"[A-Z0-9]{20}", fullmatch=True),
        "Comparator": st.sampled_from(["EqualTo", "In", "GreaterThan", "Exists"]),
    },
    optional={
        "IntegerValues": st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=5),
        "LocaleValues": st.lists(locale, min_size=1, max_size=4),
        "RequiredToPreview": st.booleans(),
    },
)


def legacy_form(req: dict[str, Any]) -> dict[str, Any]:
    """The 2017 structure in legacy names: IntegerValue.N and LocaleValue.N.*."""
    out = {k: v for k, v in req.items() if k not in ("IntegerValues", "LocaleValues")}
    if "IntegerValues" in req:
        out["IntegerValue"] = req["IntegerValues"]
    if "LocaleValues" in req:
        out["LocaleValue"] = req["LocaleValues"]
    return out


@given(st.lists(requirement, max_size=5))
def test_flattened_qualification_requirements_read_back(reqs: list[dict[str, Any]]) -> None:
    params = Params(flatten("QualificationRequirement", [legacy_form(r) for r in reqs]))
    assert list(qualification_requirements(params)) == reqs


def test_single_values_without_an_index_are_read_too() -> None:
    params = Params(
        {
            "QualificationRequirement.1.QualificationTypeId": "00000000000000000071",
            "QualificationRequirement.1.Comparator": "EqualTo",
            "QualificationRequirement.1.LocaleValue.Country": "US",
            "QualificationRequirement.2.QualificationTypeId": "000000000000000000L0",
            "QualificationRequirement.2.Comparator": "GreaterThan",
            "QualificationRequirement.2.IntegerValue": "90",
            "Reward.Amount": "0.5",
        }
    )
    assert qualification_requirements(params) == (
        {
            "QualificationTypeId": "00000000000000000071",
            "Comparator": "EqualTo",
            "LocaleValues": [{"Country": "US"}],
        },
        {"QualificationTypeId": "000000000000000000L0", "Comparator": "GreaterThan", "IntegerValues": [90]},
    )
    assert params.price_cents("Reward") == 50
    with pytest.raises(MissingParameterError):
        qualification_requirements(Params({"QualificationRequirement.1.Comparator": "Exists"}))


def test_a_single_requirement_may_come_without_its_index() -> None:
    """``QualificationRequirement.QualificationTypeId`` is one requirement, not none: dropping it would
    open the HIT to every worker."""
    params = Params(
        {
            "QualificationRequirement.QualificationTypeId": "000000000000000000L0",
            "QualificationRequirement.Comparator": "GreaterThanOrEqualTo",
            "QualificationRequirement.IntegerValue": "95",
        }
    )
    assert qualification_requirements(params) == (
        {
            "QualificationTypeId": "000000000000000000L0",
            "Comparator": "GreaterThanOrEqualTo",
            "IntegerValues": [95],
        },
    )


@pytest.mark.parametrize(
    ("values", "name"),
    [
        (
            {
                "QualificationRequirement.QualificationTypeId": "000000000000000000L0",
                "QualificationRequirement.1.QualificationTypeId": "00000000000000000071",
            },
            "QualificationRequirement",
        ),
        (
            {
                "QualificationRequirement.1.QualificationTypeId": "000000000000000000L0",
                "QualificationRequirement.01.QualificationTypeId": "00000000000000000071",
            },
            "QualificationRequirement",
        ),
        (
            {
                "QualificationRequirement.1.QualificationTypeId": "000000000000000000L0",
                "QualificationRequirement.1.Comparator": "In",
                "QualificationRequirement.1.IntegerValue": "1",
                "QualificationRequirement.1.IntegerValue.1": "2",
            },
            "IntegerValue",
        ),
        (
            {
                "QualificationRequirement.1.QualificationTypeId": "00000000000000000071",
                "QualificationRequirement.1.Comparator": "In",
                "QualificationRequirement.1.LocaleValue.Country": "US",
                "QualificationRequirement.1.LocaleValue.1.Country": "DE",
            },
            "LocaleValue",
        ),
    ],
)
def test_a_structure_or_list_given_two_ways_is_refused_not_half_read(
    values: dict[str, str], name: str
) -> None:
    with pytest.raises(ParameterError, match=f"The parameter {name} is given more than once"):
        qualification_requirements(Params(values))


def test_a_price_or_list_given_two_ways_is_refused() -> None:
    with pytest.raises(ParameterError, match="BonusAmount is given more than once"):
        Params({"BonusAmount.1.Amount": "0.03", "BonusAmount.Amount": "500"}).price_cents("BonusAmount")
    with pytest.raises(ParameterError, match="BonusAmount takes one structure"):
        Params({"BonusAmount.1.Amount": "0.03", "BonusAmount.2.Amount": "500"}).price_cents("BonusAmount")
    with pytest.raises(ParameterError, match="ResponseGroup is given more than once"):
        Params({"ResponseGroup": "Minimal", "ResponseGroup.1": "HITDetail"}).indexed("ResponseGroup")
    assert Params({"ResponseGroup.2": "HITDetail", "ResponseGroup.1": "Minimal"}).indexed(
        "ResponseGroup"
    ) == [
        "Minimal",
        "HITDetail",
    ]


names = st.from_regex(r"[A-Za-z][A-Za-z0-9.]{0,20}", fullmatch=True)


@given(
    st.dictionaries(names, st.text(max_size=30), max_size=12).filter(
        lambda d: len({k.lower() for k in d}) == len(d) and "Signature" not in d
    ),
    st.text(min_size=1, max_size=40),
)
def test_version1_matches_boto2s_algorithm(params: dict[str, str], secret: str) -> None:
    assert version1_signature(secret, {**params, "Signature": "ignored"}) == boto2_v1_signature(
        secret, params
    )


@given(st.text(min_size=1, max_size=40), st.from_regex(r"[A-Za-z]{1,30}", fullmatch=True))
def test_documented_form_matches_the_documentation(secret: str, operation: str) -> None:
    stamp = "2005-01-31T23:59:59Z"
    server = documented_signature(secret, "AWSMechanicalTurkRequester", operation, stamp)
    assert server == client_documented_signature(secret, operation, stamp)


@pytest.mark.parametrize(
    "text",
    ["2005-01-31T23:59:59Z", "2005-01-31T23:59:59.000Z", "2005-01-31T16:59:59-07:00", "2005-01-31T23:59:59"],
)
def test_timestamp_forms_name_the_same_moment(text: str) -> None:
    assert parse_timestamp(text) == parse_timestamp("2005-01-31T23:59:59Z")


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2005-02-30T00:00:00Z", "soon"]
)
def test_a_timestamp_that_names_no_moment_is_a_bad_claim_not_a_crash(text: str) -> None:
    with pytest.raises(BadTimestampError, match="is not a valid ISO 8601 time"):
        parse_timestamp(text)
