"""The JSON protocol's shape layer, driven entirely by botocore's own MTurk service model.

At load time every input shape becomes a tree of small closures that deserialise, type-check and
validate a request body in one pass (AWS "Coral" wording for ``ValidationException``), and every output
shape becomes a tree of closures that turn service results into JSON-ready values.  Nothing here is
written per operation; the request hot path never touches botocore's shape objects.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape

from openturk.errors import SerializationError, UnknownOperationError, ValidationError

# (value, member path, violations) -> deserialised value.  Type errors raise SerializationError at once.
Validator = Callable[[Any, str, list[str]], Any]
# (value, path for error messages) -> JSON-ready value.  Programming errors raise TypeError.
Serializer = Callable[[Any, str], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_JAVA_TYPES = {"string": "a String", "integer": "an Integer", "long": "a Long", "boolean": "a Boolean",
               "timestamp": "a Date", "structure": "a structure", "list": "a list"}  # fmt: skip


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # NaN/Infinity are not JSON
_TOKENS = {bool: "BOOLEAN_VALUE", int: "NUMBER_VALUE", float: "NUMBER_VALUE", str: "STRING_VALUE",
           list: "START_ARRAY", dict: "START_OBJECT"}  # fmt: skip


def _type_error(value: Any, shape_type: str, path: str) -> SerializationError:
    where = f" at '{path}'" if path else ""
    return SerializationError(
        f"Unexpected value type in payload{where}: "
        f"{_TOKENS.get(type(value), 'VALUE')} can not be converted to {_JAVA_TYPES[shape_type]}"
    )


def _java_str(value: Any) -> str:
    """How Coral's Java side prints a value inside ``Value '...'``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_str(v)}" for k, v in value.items()) + "}"
    return str(value)


def _violation(value: Any, path: str, constraint: str) -> str:
    return f"Value '{_java_str(value)}' at '{path}' failed to satisfy constraint: Member {constraint}"


def _check_length(value: str | list[Any], path: str, errs: list[str], lo: int | None, hi: int | None) -> None:
    if lo is not None and len(value) < lo:
        errs.append(_violation(value, path, f"must have length greater than or equal to {lo}"))
    if hi is not None and len(value) > hi:
        errs.append(_violation(value, path, f"must have length less than or equal to {hi}"))


def _null_violation(path: str) -> str:
    return f"Value null at '{path}' failed to satisfy constraint: Member must not be null"


def _json_key(member_name: str, shape: Shape) -> str:
    return str(shape.serialization.get("name", member_name))


# --- input: deserialise + validate ---------------------------------------------------------------


def _build_string(shape: Shape) -> Validator:
    meta = shape.metadata
    lo: int | None = meta.get("min")
    hi: int | None = meta.get("max")
    pattern: str | None = meta.get("pattern")
    rx = re.compile(pattern, re.ASCII) if pattern is not None else None
    enum: list[str] = list(shape.enum or [])
    enum_set = frozenset(enum)
    enum_text = "[" + ", ".join(enum) + "]"

    def validate(value: Any, path: str, errs: list[str]) -> Any:
        if type(value) is not str:
            raise _type_error(value, "string", path)
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise SerializationError(f"Invalid UTF-16 surrogate in string at '{path}'") from None
        if "\x00" in value:  # no MTurk value holds one, and PostgreSQL cannot store one
            raise SerializationError(f"Invalid character U+0000 in string at '{path}'")
        _check_length(value, path, errs, lo, hi)
        if rx is not None and rx.fullmatch(value) is None:
            errs.append(_violation(value, path, f"must satisfy regular expression pattern: {pattern}"))
        if enum_set and value not in enum_set:
            errs.append(_violation(value, path, f"must satisfy enum value set: {enum_text}"))
        return value

    return validate


def _build_integer(shape: Shape) -> Validator:
    kind = shape.type_name
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    bits_lo, bits_hi = _INT_RANGES[kind]

    def validate(value: Any, path: str, errs: list[str]) -> Any:
        if type(value) is not int:
            if type(value) is float and value.is_integer():
                value = int(value)
            else:
                raise _type_error(value, kind, path)
        if not bits_lo <= value <= bits_hi:
            raise SerializationError(f"Numeric value ({value}) out of range of {kind} at '{path}'")
        if lo is not None and value < lo:
            errs.append(_violation(value, path, f"must have value greater than or equal to {lo}"))
        if hi is not None and value > hi:
            errs.append(_violation(value, path, f"must have value less than or equal to {hi}"))
        return value

    return validate


def _validate_boolean(value: Any, path: str, errs: list[str]) -> Any:
    if type(value) is not bool:
        raise _type_error(value, "boolean", path)
    return value


def _validate_timestamp(value: Any, path: str, errs: list[str]) -> Any:
    kind = type(value)
    try:
        if kind is int or kind is float:
            return datetime.fromtimestamp(value, UTC)
        if kind is str:
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise SerializationError(f"Invalid timestamp value at '{path}': {value!r}") from None
    raise _type_error(value, "timestamp", path)


def _build_validator(shape: Shape, cache: dict[str, Validator]) -> Validator:
    if shape.name in cache:
        return cache[shape.name]
    kind = shape.type_name
    if kind == "structure":
        members: list[tuple[str, str, Validator, bool]] = []

        def validate_structure(value: Any, path: str, errs: list[str]) -> Any:
            if type(value) is not dict:
                raise _type_error(value, "structure", path)
            out: dict[str, Any] = {}
            prefix = path + "." if path else ""
            for key, wire, member_validator, required in members:
                item = value.get(key)
                if item is None:
                    if required:
                        errs.append(_null_violation(prefix + wire))
                    continue
                out[key] = member_validator(item, prefix + wire, errs)
            return out

        cache[shape.name] = validate_structure  # before members: recursive shapes resolve to it
        required_set = set(shape.required_members)
        for name, member in shape.members.items():
            wire = name[:1].lower() + name[1:]  # Coral's member path: BonusAmount -> bonusAmount
            members.append(
                (_json_key(name, member), wire, _build_validator(member, cache), name in required_set)
            )
        return validate_structure
    if kind == "list":
        element = _build_validator(shape.member, cache)
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")

        def validate_list(value: Any, path: str, errs: list[str]) -> Any:
            if type(value) is not list:
                raise _type_error(value, "list", path)
            _check_length(value, path, errs, lo, hi)
            out: list[Any] = []
            for index, item in enumerate(value, 1):
                item_path = f"{path}.{index}.member"
                if item is None:
                    errs.append(_null_violation(item_path))
                else:
                    out.append(element(item, item_path, errs))
            return out

        validator: Validator = validate_list
    elif kind == "string":
        validator = _build_string(shape)
    elif kind in _INT_RANGES:
        validator = _build_integer(shape)
    elif kind == "boolean":
        validator = _validate_boolean
    elif kind == "timestamp":
        validator = _validate_timestamp
    else:
        raise NotImplementedError(f"shape {shape.name}: type {kind!r} is not supported")
    cache[shape.name] = validator
    return validator


# --- output: service result -> JSON-ready values -----------------------------------------------------


def epoch_seconds(value: datetime) -> int | float:
    """Epoch seconds for the wire: an int when whole, else a float rounded to milliseconds."""
    delta = value - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    millis, rest = divmod(micros, 1000)
    millis += rest >= 500
    return millis // 1000 if millis % 1000 == 0 else millis / 1000


def _wrong(value: Any, expected: str, path: str) -> TypeError:
    return TypeError(f"{path}: expected {expected}, got {type(value).__name__} {value!r:.80}")


def _serialize_string(value: Any, path: str) -> Any:
    if not isinstance(value, str):
        raise _wrong(value, "str", path)
    return value if type(value) is str else str.__str__(value)


def _serialize_int(value: Any, path: str) -> Any:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _wrong(value, "int", path)
    return int(value)


def _serialize_boolean(value: Any, path: str) -> Any:
    if not isinstance(value, bool):
        raise _wrong(value, "bool", path)
    return value


def _serialize_timestamp(value: Any, path: str) -> Any:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise _wrong(value, "timezone-aware datetime", path)
    return epoch_seconds(value)


_SCALAR_SERIALIZERS: dict[str, Serializer] = {
    "string": _serialize_string, "integer": _serialize_int, "long": _serialize_int,
    "boolean": _serialize_boolean, "timestamp": _serialize_timestamp,
}  # fmt: skip


def _build_serializer(shape: Shape, cache: dict[str, Serializer]) -> Serializer:
    if shape.name in cache:
        return cache[shape.name]
    kind = shape.type_name
    if kind == "structure":
        members: dict[str, tuple[str, Serializer]] = {}

        def serialize_structure(value: Any, path: str) -> Any:
            if not isinstance(value, Mapping):
                raise _wrong(value, "a mapping", path)
            out: dict[str, Any] = {}
            for key, item in value.items():
                if item is None:
                    continue
                member = members.get(key)
                if member is None:
                    raise TypeError(f"{path}: {key!r} is not a member of {shape.name}")
                out[member[0]] = member[1](item, f"{path}.{key}")
            return out

        cache[shape.name] = serialize_structure
        for name, member in shape.members.items():
            members[name] = (_json_key(name, member), _build_serializer(member, cache))
        return serialize_structure
    if kind == "list":
        element = _build_serializer(shape.member, cache)

        def serialize_list(value: Any, path: str) -> Any:
            if not isinstance(value, list | tuple):
                raise _wrong(value, "a list", path)
            return [element(item, f"{path}[{index}]") for index, item in enumerate(value)]

        serializer: Serializer = serialize_list
    elif kind in _SCALAR_SERIALIZERS:
        serializer = _SCALAR_SERIALIZERS[kind]
    else:
        raise NotImplementedError(f"shape {shape.name}: type {kind!r} is not supported")
    cache[shape.name] = serializer
    return serializer


def _empty_input(value: Any, path: str, errs: list[str]) -> Any:
    return {}


def _empty_output(value: Any, path: str) -> Any:
    if value:
        raise TypeError(f"{path}: the operation has no output shape, got {value!r:.80}")
    return {}


class ShapeModel:
    """Per-operation input validators and output serializers, compiled once from the service model."""

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model
        self.target_prefix: str = service_model.metadata["targetPrefix"]
        self.operation_names: frozenset[str] = frozenset(service_model.operation_names)
        self._inputs: dict[str, Validator] = {}
        self._outputs: dict[str, Serializer] = {}
        validators: dict[str, Validator] = {}
        serializers: dict[str, Serializer] = {}
        for name in self.operation_names:
            operation = service_model.operation_model(name)
            input_shape, output_shape = operation.input_shape, operation.output_shape
            self._inputs[name] = (
                _empty_input if input_shape is None else _build_validator(input_shape, validators)
            )
            self._outputs[name] = (
                _empty_output if output_shape is None else _build_serializer(output_shape, serializers)
            )
        self._targets = {f"{self.target_prefix}.{name}": name for name in self.operation_names}

    def operation_for_target(self, target: str | None) -> str:
        if not target:
            raise UnknownOperationError("Missing X-Amz-Target header: cannot determine the operation.")
        operation = self._targets.get(target)
        if operation is None:
            raise UnknownOperationError(f"Operation {target} is not supported by this service.")
        return operation

    def parse_input(self, operation: str, body: bytes) -> dict[str, Any]:
        validator = self._inputs.get(operation)
        if validator is None:
            raise UnknownOperationError(f"Operation {operation} is not supported by this service.")
        if not body:
            data: Any = {}
        else:
            try:
                data = _DECODER.decode(body.decode("utf-8"))
            except (ValueError, RecursionError) as exc:
                raise SerializationError(f"Unable to parse the request body as JSON: {exc}") from None
        errs: list[str] = []
        params: dict[str, Any] = validator(data, "", errs)
        if errs:
            plural = "s" if len(errs) != 1 else ""
            raise ValidationError(f"{len(errs)} validation error{plural} detected: " + "; ".join(errs))
        return params

    def serialize_output(self, operation: str, result: Mapping[str, Any]) -> dict[str, Any]:
        serializer = self._outputs.get(operation)
        if serializer is None:
            raise UnknownOperationError(f"Operation {operation} is not supported by this service.")
        output: dict[str, Any] = serializer(result, operation)
        return output


@functools.cache
def load_model() -> ShapeModel:
    """The process-wide ShapeModel (loading and compiling the model takes a while; do it once)."""
    return ShapeModel(ServiceModel(Loader().load_service_model("mturk", "service-2"), "mturk"))
