"""Minimal valid inputs for any operation, built from botocore's model (so tests reach past validation)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import botocore.session

_CANDIDATES = ("A1B2C3D4E5F6G7H8I9J0", "AEXAMPLE123", "1.00", "en", "US", "example")


def model() -> Any:
    return botocore.session.get_session().get_service_model("mturk")


def minimal_value(shape: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return {name: minimal_value(shape.members[name]) for name in shape.required_members}
    if kind == "list":
        return [minimal_value(shape.member)] * max(1, shape.metadata.get("min", 1))
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return datetime(2030, 1, 1, tzinfo=UTC)
    if shape.enum:
        return shape.enum[0]
    pattern = shape.metadata.get("pattern")
    low, high = shape.metadata.get("min", 1), shape.metadata.get("max", 1000)
    for candidate in _CANDIDATES:
        if low <= len(candidate) <= high and (pattern is None or re.fullmatch(pattern, candidate)):
            return candidate
    raise AssertionError(f"no candidate fits {shape.name} {pattern} [{low}, {high}]")


def minimal_input(operation: str) -> dict[str, Any]:
    value = minimal_value(model().operation_model(operation).input_shape)
    assert isinstance(value, dict)
    return value
