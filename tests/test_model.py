"""Unit tests for the JSON protocol's shape layer (no server)."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import boto3
import pytest
from botocore.model import Shape
from botocore.serialize import create_serializer
from hypothesis import given
from hypothesis import strategies as st

from openturk.errors import SerializationError, UnknownOperationError, ValidationError
from openturk.protocol.model import ShapeModel, epoch_seconds, load_model

PREFIX = "MTurkRequesterServiceV20170117"
CURRENCY = r"^[0-9]+(\.)?[0-9]{0,2}$"
COMPARATORS = (
    "[LessThan, LessThanOrEqualTo, GreaterThan, GreaterThanOrEqualTo, EqualTo, NotEqualTo, "
    "Exists, DoesNotExist, In, NotIn]"
)
BONUS: dict[str, Any] = {
    "WorkerId": "A1WORKER",
    "BonusAmount": "1.25",
    "AssignmentId": "3ASSIGNMENT",
    "Reason": "Great work",
    "UniqueRequestToken": "token-1",
}
HIT: dict[str, Any] = {
    "LifetimeInSeconds": 3600,
    "AssignmentDurationInSeconds": 600,
    "Reward": "0.50",
    "Title": "Tag images",
    "Description": "Tag a few images",
}


@pytest.fixture(scope="module")
def model() -> ShapeModel:
    return load_model()


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def errors_of(model: ShapeModel, operation: str, value: Any) -> str:
    with pytest.raises(ValidationError) as info:
        model.parse_input(operation, body(value))
    return info.value.message


def one_error(item: str) -> str:
    return f"1 validation error detected: {item}"


# --- operations and targets ----------------------------------------------------------------------


def test_load_model_is_cached_and_knows_all_operations(model: ShapeModel) -> None:
    assert load_model() is model
    assert model.target_prefix == PREFIX
    assert len(model.operation_names) == 39
    assert {"CreateHIT", "SendBonus", "GetAccountBalance", "ListWorkerBlocks"} <= model.operation_names
    for name in model.operation_names:
        assert model.operation_for_target(f"{PREFIX}.{name}") == name


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        PREFIX,
        f"{PREFIX}.",
        f"{PREFIX}.NoSuchOperation",
        f"{PREFIX}.getAccountBalance",
        f"{PREFIX}.GetAccountBalance.Extra",
        "MTurkRequesterServiceV20140828.GetAccountBalance",
        "GetAccountBalance",
        f".{PREFIX}.GetAccountBalance",
    ],
)
def test_unknown_targets(model: ShapeModel, target: str | None) -> None:
    with pytest.raises(UnknownOperationError) as info:
        model.operation_for_target(target)
    assert info.value.message


def test_unknown_operation_in_parse_and_serialize(model: ShapeModel) -> None:
    with pytest.raises(UnknownOperationError):
        model.parse_input("NoSuchOperation", b"{}")
    with pytest.raises(UnknownOperationError):
        model.serialize_output("NoSuchOperation", {})


# --- body decoding -------------------------------------------------------------------------------


def test_empty_body_is_an_empty_object(model: ShapeModel) -> None:
    assert model.parse_input("GetAccountBalance", b"") == {}
    assert model.parse_input("GetAccountBalance", b"{}") == {}
    assert model.parse_input("ListHITs", b"") == {}


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"not json",
        b"[]",
        b'"text"',
        b"1",
        b"null",
        b"\xff\xfe{}",
        b'{"A": NaN}',
        b"{} {}",
        b"[" * 100_000,
    ],
)
def test_malformed_bodies(model: ShapeModel, raw: bytes) -> None:
    with pytest.raises(SerializationError):
        model.parse_input("GetAccountBalance", raw)


def test_valid_send_bonus_passes_unchanged(model: ShapeModel) -> None:
    assert model.parse_input("SendBonus", body(BONUS)) == BONUS


# --- validation wording --------------------------------------------------------------------------


def test_pattern_violation(model: ShapeModel) -> None:
    message = errors_of(model, "SendBonus", BONUS | {"BonusAmount": "0.9752"})
    assert message == one_error(
        "Value '0.9752' at 'bonusAmount' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: ^[0-9]+(\.)?[0-9]{0,2}$"
    )


def test_missing_required_member(model: ShapeModel) -> None:
    params = {k: v for k, v in BONUS.items() if k != "Reason"}
    assert errors_of(model, "SendBonus", params) == one_error(
        "Value null at 'reason' failed to satisfy constraint: Member must not be null"
    )


def test_null_member_counts_as_absent(model: ShapeModel) -> None:
    assert errors_of(model, "SendBonus", BONUS | {"Reason": None}) == one_error(
        "Value null at 'reason' failed to satisfy constraint: Member must not be null"
    )
    parsed = model.parse_input("SendBonus", body(BONUS | {"UniqueRequestToken": None}))
    assert "UniqueRequestToken" not in parsed


def test_first_letter_lowercased_in_paths(model: ShapeModel) -> None:
    assert errors_of(model, "GetHIT", {}) == one_error(
        "Value null at 'hITId' failed to satisfy constraint: Member must not be null"
    )


def test_string_too_long_and_too_short(model: ShapeModel) -> None:
    token = "t" * 65
    assert errors_of(model, "SendBonus", BONUS | {"UniqueRequestToken": token}) == one_error(
        f"Value '{token}' at 'uniqueRequestToken' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    )
    assert errors_of(model, "SendBonus", BONUS | {"UniqueRequestToken": ""}) == one_error(
        "Value '' at 'uniqueRequestToken' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    assert model.parse_input("SendBonus", body(BONUS | {"UniqueRequestToken": "t" * 64}))


@pytest.mark.parametrize(
    ("value", "bound"),
    [
        (0, "greater than or equal to 1"),
        (101, "less than or equal to 100"),
        (-5, "greater than or equal to 1"),
    ],
)
def test_number_range(model: ShapeModel, value: int, bound: str) -> None:
    assert errors_of(model, "ListBonusPayments", {"MaxResults": value}) == one_error(
        f"Value '{value}' at 'maxResults' failed to satisfy constraint: Member must have value {bound}"
    )


def test_number_range_limits_pass(model: ShapeModel) -> None:
    for value in (1, 100):
        assert model.parse_input("ListBonusPayments", body({"MaxResults": value})) == {"MaxResults": value}


def test_enum_violation_in_nested_list(model: ShapeModel) -> None:
    requirement = {"QualificationTypeId": "00000000000000000071", "Comparator": "Foo"}
    message = errors_of(model, "CreateHIT", HIT | {"QualificationRequirements": [requirement]})
    assert message == one_error(
        "Value 'Foo' at 'qualificationRequirements.1.member.comparator' failed to satisfy constraint: "
        f"Member must satisfy enum value set: {COMPARATORS}"
    )


def test_deeply_nested_paths(model: ShapeModel) -> None:
    good = {"QualificationTypeId": "00000000000000000071", "Comparator": "EqualTo"}
    bad = {"Comparator": "In", "LocaleValues": [{"Country": "US"}, {"Country": "USA", "Subdivision": "W"}]}
    message = errors_of(model, "CreateHIT", HIT | {"QualificationRequirements": [good, bad]})
    path = "qualificationRequirements.2.member"
    assert message == (
        "3 validation errors detected: "
        f"Value null at '{path}.qualificationTypeId' failed to satisfy constraint: Member must not be null; "
        f"Value 'USA' at '{path}.localeValues.2.member.country' failed to satisfy constraint: "
        "Member must have length less than or equal to 2; "
        f"Value 'W' at '{path}.localeValues.2.member.subdivision' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2"
    )


def test_null_list_element(model: ShapeModel) -> None:
    assert errors_of(model, "NotifyWorkers", {"Subject": "s", "MessageText": "m", "WorkerIds": [None]}) == (
        one_error("Value null at 'workerIds.1.member' failed to satisfy constraint: Member must not be null")
    )


def test_several_errors_at_once(model: ShapeModel) -> None:
    params = {"WorkerId": "bad", "BonusAmount": "0.9752", "UniqueRequestToken": "t" * 65}
    message = errors_of(model, "SendBonus", params)
    assert message.startswith("5 validation errors detected: ")
    items = message.removeprefix("5 validation errors detected: ").split("; ")
    assert items == [
        "Value 'bad' at 'workerId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^A[A-Z0-9]+$",
        "Value '0.9752' at 'bonusAmount' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: ^[0-9]+(\.)?[0-9]{0,2}$",
        "Value null at 'assignmentId' failed to satisfy constraint: Member must not be null",
        "Value null at 'reason' failed to satisfy constraint: Member must not be null",
        f"Value '{'t' * 65}' at 'uniqueRequestToken' failed to satisfy constraint: "
        "Member must have length less than or equal to 64",
    ]


def test_one_value_can_break_two_constraints(model: ShapeModel) -> None:
    message = errors_of(model, "SendBonus", BONUS | {"WorkerId": ""})
    assert message == (
        "2 validation errors detected: "
        "Value '' at 'workerId' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        "Value '' at 'workerId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^A[A-Z0-9]+$"
    )


def test_pattern_anchors_are_whole_value(model: ShapeModel) -> None:
    for amount in ("1.25\n", " 1.25", "1.25 ", "1,25", "١٢"):
        with pytest.raises(ValidationError):
            model.parse_input("SendBonus", body(BONUS | {"BonusAmount": amount}))


def test_unknown_members_are_dropped(model: ShapeModel) -> None:
    parsed = model.parse_input("SendBonus", body(BONUS | {"Extra": {"deep": [1, 2]}, "reason": 5}))
    assert parsed == BONUS
    requirement = {"QualificationTypeId": "X", "Comparator": "Exists", "Bogus": True}
    parsed = model.parse_input("CreateHIT", body(HIT | {"QualificationRequirements": [requirement]}))
    assert parsed["QualificationRequirements"] == [{"QualificationTypeId": "X", "Comparator": "Exists"}]


def test_long_strings_are_fast(model: ShapeModel) -> None:
    start = time.perf_counter()
    for amount in ("9" * 1_000_000 + "x", "9" * 1_000_000 + ".", "A" * 1_000_000):
        with pytest.raises(ValidationError):
            model.parse_input("SendBonus", body(BONUS | {"BonusAmount": amount, "WorkerId": amount}))
    assert time.perf_counter() - start < 2.0


# --- type errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params", "path"),
    [
        ("SendBonus", BONUS | {"BonusAmount": 1.25}, "bonusAmount"),
        ("SendBonus", BONUS | {"Reason": ["x"]}, "reason"),
        ("SendBonus", BONUS | {"WorkerId": True}, "workerId"),
        ("ListBonusPayments", {"MaxResults": "10"}, "maxResults"),
        ("ListBonusPayments", {"MaxResults": True}, "maxResults"),
        ("ListBonusPayments", {"MaxResults": 10.5}, "maxResults"),
        ("ListBonusPayments", {"MaxResults": 2**31}, "maxResults"),
        ("CreateHIT", HIT | {"LifetimeInSeconds": 2**63}, "lifetimeInSeconds"),
        ("CreateHIT", HIT | {"LifetimeInSeconds": -(2**63) - 1}, "lifetimeInSeconds"),
        (
            "CreateHIT",
            HIT | {"QualificationRequirements": {"Comparator": "Exists"}},
            "qualificationRequirements",
        ),
        ("CreateHIT", HIT | {"QualificationRequirements": ["Exists"]}, "qualificationRequirements.1.member"),
        ("UpdateHITReviewStatus", {"HITId": "X", "Revert": "true"}, "revert"),
        ("UpdateHITReviewStatus", {"HITId": "X", "Revert": 1}, "revert"),
        ("UpdateExpirationForHIT", {"HITId": "X", "ExpireAt": "soon"}, "expireAt"),
        ("UpdateExpirationForHIT", {"HITId": "X", "ExpireAt": True}, "expireAt"),
        ("UpdateExpirationForHIT", {"HITId": "X", "ExpireAt": {}}, "expireAt"),
        ("UpdateExpirationForHIT", {"HITId": "X", "ExpireAt": 1e300}, "expireAt"),
        ("SendBonus", BONUS | {"Reason": "\ud800"}, "reason"),
    ],
)
def test_type_errors_are_serialization_errors(
    model: ShapeModel, operation: str, params: dict[str, Any], path: str
) -> None:
    with pytest.raises(SerializationError) as info:
        model.parse_input(operation, body(params | {"Missing": None}))
    assert f"'{path}'" in info.value.message
    assert not isinstance(info.value, ValidationError)


def test_overflowing_json_numbers(model: ShapeModel) -> None:
    for raw in (b'{"MaxResults": 1e400}', b'{"MaxResults": 1e30}', b'{"MaxResults": -1e400}'):
        with pytest.raises(SerializationError, match="'maxResults'"):
            model.parse_input("ListBonusPayments", raw)
    with pytest.raises(SerializationError, match="'expireAt'"):
        model.parse_input("UpdateExpirationForHIT", b'{"HITId": "X", "ExpireAt": 1e400}')
    with pytest.raises(SerializationError):
        model.parse_input("ListBonusPayments", b'{"MaxResults": ' + b"9" * 5000 + b"}")


def test_type_error_wins_over_validation_errors(model: ShapeModel) -> None:
    with pytest.raises(SerializationError):
        model.parse_input("SendBonus", body({"BonusAmount": "0.9752", "Reason": 7}))


def test_whole_floats_are_integers(model: ShapeModel) -> None:
    parsed = model.parse_input("ListBonusPayments", b'{"MaxResults": 5.0}')
    assert parsed == {"MaxResults": 5}
    assert type(parsed["MaxResults"]) is int
    assert model.parse_input("CreateHIT", body(HIT | {"LifetimeInSeconds": 2**63 - 1}))


# --- timestamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (1700000000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (1700000000.5, datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)),
        ("2023-11-14T22:13:20Z", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-15T00:13:20+02:00", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2023-11-14T22:13:20", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_timestamp_in(model: ShapeModel, wire: Any, expected: datetime) -> None:
    parsed = model.parse_input("UpdateExpirationForHIT", body({"HITId": "X", "ExpireAt": wire}))
    assert parsed["ExpireAt"] == expected
    assert parsed["ExpireAt"].utcoffset() == timedelta(0)


def test_timestamp_out(model: ShapeModel) -> None:
    created = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    hit = {"HITId": "X", "CreationTime": created, "Expiration": created + timedelta(microseconds=123_456)}
    out = model.serialize_output("GetHIT", {"HIT": hit})
    assert out == {"HIT": {"HITId": "X", "CreationTime": 1700000000, "Expiration": 1700000000.123}}
    assert type(out["HIT"]["CreationTime"]) is int
    assert json.dumps(out) == (
        '{"HIT": {"HITId": "X", "CreationTime": 1700000000, "Expiration": 1700000000.123}}'
    )


def test_epoch_seconds_rounding() -> None:
    base = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert epoch_seconds(base + timedelta(microseconds=999_600)) == 1700000001
    assert epoch_seconds(base + timedelta(microseconds=1_500)) == 1700000000.002
    assert epoch_seconds(base.astimezone(timezone(timedelta(hours=-5)))) == 1700000000
    assert epoch_seconds(datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)) == -0.5


# --- output serialization ------------------------------------------------------------------------


class Status(StrEnum):
    ASSIGNABLE = "Assignable"


class Count(IntEnum):
    THREE = 3


def test_output_accepts_enums_as_plain_values(model: ShapeModel) -> None:
    out = model.serialize_output(
        "GetHIT", {"HIT": {"HITStatus": Status.ASSIGNABLE, "MaxAssignments": Count.THREE}}
    )
    assert out == {"HIT": {"HITStatus": "Assignable", "MaxAssignments": 3}}
    assert type(out["HIT"]["HITStatus"]) is str
    assert type(out["HIT"]["MaxAssignments"]) is int


def test_output_omits_none(model: ShapeModel) -> None:
    out = model.serialize_output("GetAccountBalance", {"AvailableBalance": "10.00", "OnHoldBalance": None})
    assert out == {"AvailableBalance": "10.00"}
    assert model.serialize_output("SendBonus", {}) == {}


@pytest.mark.parametrize(
    ("operation", "result", "where"),
    [
        ("GetAccountBalance", {"AvailableBalance": "1", "Bogus": "x"}, "Bogus"),
        ("GetAccountBalance", {"AvailableBalance": 10}, "GetAccountBalance.AvailableBalance"),
        ("GetAccountBalance", {"AvailableBalance": 10.5}, "GetAccountBalance.AvailableBalance"),
        ("GetAccountBalance", {"AvailableBalance": Decimal("10.50")}, "GetAccountBalance.AvailableBalance"),
        ("GetHIT", {"HIT": {"CreationTime": datetime(2023, 1, 1)}}, "GetHIT.HIT.CreationTime"),
        ("GetHIT", {"HIT": {"CreationTime": 1700000000}}, "GetHIT.HIT.CreationTime"),
        ("GetHIT", {"HIT": {"MaxAssignments": "3"}}, "GetHIT.HIT.MaxAssignments"),
        ("GetHIT", {"HIT": {"MaxAssignments": True}}, "GetHIT.HIT.MaxAssignments"),
        ("GetHIT", {"HIT": []}, "GetHIT.HIT"),
        ("ListHITs", {"HITs": [{"HITId": "a"}, {"HITId": 2}]}, "ListHITs.HITs[1].HITId"),
        ("ListHITs", {"HITs": {"HITId": "a"}}, "ListHITs.HITs"),
        ("ListHITs", {"HITs": [None]}, "ListHITs.HITs[0]"),
        ("GetQualificationScore", {"Qualification": {"IntegerValue": 1.5}}, "Qualification.IntegerValue"),
    ],
)
def test_output_programming_errors(model: ShapeModel, operation: str, result: Any, where: str) -> None:
    with pytest.raises(TypeError, match=re.escape(where)):
        model.serialize_output(operation, result)


def minimal_value(shape: Shape, depth: int = 0) -> Any:
    """A value for ``shape`` with every member filled (lists of one), built generically from the model."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 6:
            return {}
        return {name: minimal_value(member, depth + 1) for name, member in shape.members.items()}
    if kind == "list":
        return [minimal_value(shape.member, depth + 1)]
    if kind == "string":
        return shape.enum[0] if shape.enum else "x"
    return {"integer": 1, "long": 2, "boolean": True, "timestamp": datetime(2024, 1, 2, tzinfo=UTC)}[kind]


def test_every_output_shape_serializes(model: ShapeModel) -> None:
    for name in sorted(model.operation_names):
        output_shape = model.service_model.operation_model(name).output_shape
        value = minimal_value(output_shape)
        out = model.serialize_output(name, value)
        assert json.loads(json.dumps(out)) == out
        assert model.serialize_output(name, {}) == {}


def test_every_input_shape_accepts_a_generic_value(model: ShapeModel) -> None:
    """Generic "x" strings break patterns and lengths, but every value has the right type."""
    messages: list[str] = []
    for name in sorted(model.operation_names):
        raw = json.dumps(
            minimal_value(model.service_model.operation_model(name).input_shape), default=epoch_seconds
        )
        try:
            model.parse_input(name, raw.encode())
        except ValidationError as exc:
            messages.append(exc.message)
    assert messages
    assert all("failed to satisfy constraint" in message for message in messages)


# --- property tests ------------------------------------------------------------------------------


@given(st.from_regex(CURRENCY, fullmatch=True))
def test_currency_amounts_from_the_pattern_pass(amount: str) -> None:
    parsed = load_model().parse_input("SendBonus", body(BONUS | {"BonusAmount": amount}))
    assert parsed["BonusAmount"] == amount


@given(st.text())
def test_currency_validation_is_fullmatch(amount: str) -> None:
    raw = body(BONUS | {"BonusAmount": amount})
    if re.fullmatch(CURRENCY, amount):
        assert load_model().parse_input("SendBonus", raw)["BonusAmount"] == amount
    elif "\x00" in amount or any("\ud800" <= char <= "\udfff" for char in amount):
        with pytest.raises(SerializationError):  # a lone surrogate is not UTF-8; no value holds a NUL
            load_model().parse_input("SendBonus", raw)
    else:
        with pytest.raises(ValidationError, match="at 'bonusAmount'"):
            load_model().parse_input("SendBonus", raw)


@given(st.integers())
def test_max_results_integers(value: int) -> None:
    model = load_model()
    raw = body({"MaxResults": value})
    if not -(2**31) <= value < 2**31:
        with pytest.raises(SerializationError):
            model.parse_input("ListBonusPayments", raw)
    elif 1 <= value <= 100:
        assert model.parse_input("ListBonusPayments", raw) == {"MaxResults": value}
    else:
        with pytest.raises(ValidationError):
            model.parse_input("ListBonusPayments", raw)


# --- botocore's own client-side serializer -------------------------------------------------------


def test_botocore_serialized_requests_are_accepted(model: ShapeModel) -> None:
    client = boto3.client(
        "mturk",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        endpoint_url="http://127.0.0.1:9",
    )
    serializer = create_serializer("json")
    expire_at = datetime(2030, 1, 2, 3, 4, 5, 250_000, tzinfo=UTC)
    requirement = {
        "QualificationTypeId": "00000000000000000071",
        "Comparator": "In",
        "LocaleValues": [{"Country": "US", "Subdivision": "WA"}, {"Country": "CA"}],
        "ActionsGuarded": "DiscoverPreviewAndAccept",
    }
    calls: list[tuple[str, dict[str, Any]]] = [
        ("SendBonus", BONUS),
        (
            "CreateHIT",
            HIT | {"QualificationRequirements": [requirement], "MaxAssignments": 3, "Reward": "1.05"},
        ),
        ("UpdateExpirationForHIT", {"HITId": "3HIT", "ExpireAt": expire_at}),
        ("GetAccountBalance", {}),
        ("ListBonusPayments", {"HITId": "3HIT", "MaxResults": 100}),
    ]
    for name, params in calls:
        operation_model = client.meta.service_model.operation_model(name)
        request = serializer.serialize_to_request(params, operation_model)
        assert model.operation_for_target(request["headers"]["X-Amz-Target"]) == name
        parsed = model.parse_input(name, request["body"])
        assert parsed == params
