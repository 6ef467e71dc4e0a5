"""The two review policies' parameters: which keys each policy takes, their ranges, and the parsed
``Policy`` that the policies run on.

CreateHIT checks the structures with ``validate`` before it stores them as given; each policy parses
its stored structure again when it runs, so what is kept is exactly what the requester sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openturk.errors import ParameterError

KNOWN_ANSWERS = "ScoreMyKnownAnswers/2011-09-01"
PLURALITY = "SimplePlurality/2011-09-01"

# Each parameter's kind: "map" (AnswerKey's MapEntries), "list" (comma-separated ids), "text", "bool",
# or an inclusive (low, high) integer range.
_ASSIGNMENT_PARAMS: dict[str, str | tuple[int, int]] = {
    "AnswerKey": "map",
    "ApproveIfKnownAnswerScoreIsAtLeast": (0, 101),
    "ApproveReason": "text",
    "RejectIfKnownAnswerScoreIsLessThan": (0, 101),
    "RejectReason": "text",
    "ExtendIfKnownAnswerScoreIsLessThan": (0, 101),
    "ExtendMaximumAssignments": (2, 25),
    "ExtendMinimumTimeInSeconds": (60, 31_536_000),
}
_HIT_PARAMS: dict[str, str | tuple[int, int]] = {
    "QuestionIds": "list",
    "QuestionAgreementThreshold": (0, 100),
    "DisregardAssignmentIfRejected": "bool",
    "DisregardAssignmentIfKnownAnswerScoreIsLessThan": (0, 101),
    "ExtendIfHITAgreementScoreIsLessThan": (1, 100),
    "ExtendMaximumAssignments": (1, 1_000_000),
    # The 2017 API's HIT Review Policies page: "Minimum of 60 (one minute)" (older pages said an hour).
    "ExtendMinimumTimeInSeconds": (60, 31_536_000),
    "ApproveIfWorkerAgreementScoreIsAtLeast": (0, 101),
    "RejectIfWorkerAgreementScoreIsLessThan": (0, 101),
    "RejectReason": "text",
}
_REQUIRED = {KNOWN_ANSWERS: ("AnswerKey",), PLURALITY: ("QuestionIds", "QuestionAgreementThreshold")}
# Spellings MTurk's own examples use for a parameter (its use-case pages write QuestionIDs).
_ALIASES = {"QuestionIDs": "QuestionIds"}


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    values: Mapping[str, Any]  # ints, strs, bools, a list of question ids, or the AnswerKey mapping

    def int(self, key: str, default: int | None = None) -> int | None:
        value = self.values.get(key, default)
        return None if value is None else int(value)


def _bad(level: str, message: str, key: str | None = None) -> ParameterError:
    where = f"{level}.Parameters.{key}" if key else level
    return ParameterError(f"{message} ({where})", data={"Parameter": where})


def parse_policy(raw: Mapping[str, Any], level: str) -> Policy:
    """Check a ReviewPolicy structure as CreateHIT receives it; raise ParameterError naming the problem."""
    expected = KNOWN_ANSWERS if level == "AssignmentReviewPolicy" else PLURALITY
    name = str(raw.get("PolicyName", ""))
    if name != expected:
        raise _bad(level, f"The PolicyName '{name}' is not valid here; use {expected}.")
    table = _ASSIGNMENT_PARAMS if name == KNOWN_ANSWERS else _HIT_PARAMS
    values: dict[str, Any] = {}
    for parameter in raw.get("Parameters", []) or []:
        key = str(parameter.get("Key", ""))
        key = _ALIASES.get(key, key)
        kind = table.get(key)
        if kind is None:
            raise _bad(level, f"'{key}' is not a parameter of {name}.", key)
        if key in values:
            raise _bad(level, f"The parameter '{key}' is given more than once.", key)
        given = [str(v) for v in parameter.get("Values", []) or []]
        if kind == "map":
            entries = parameter.get("MapEntries", []) or []
            if not entries:
                raise _bad(
                    level, "AnswerKey needs MapEntries: a QuestionId (Key) and its answers (Values).", key
                )
            if any(not str(e.get("Key") or "").strip() for e in entries):
                raise _bad(level, "Every AnswerKey MapEntry needs a Key: the QuestionId it answers.", key)
            values[key] = {
                str(e["Key"]): [str(v).strip() for v in e.get("Values", []) or []] for e in entries
            }
            continue
        if kind == "list":
            ids_ = [part.strip() for value in given for part in value.split(",") if part.strip()]
            if not ids_:
                raise _bad(level, "QuestionIds needs at least one question id.", key)
            values[key] = ids_
            continue
        if len(given) != 1:
            raise _bad(level, f"The parameter '{key}' takes exactly one value.", key)
        value = given[0].strip()
        if kind == "text":
            values[key] = given[0]
        elif kind == "bool":
            if value.lower() not in ("true", "false", "t", "f"):
                raise _bad(level, f"The value '{value}' of '{key}' is not true or false.", key)
            values[key] = value.lower() in ("true", "t")
        else:
            assert isinstance(kind, tuple)
            low, high = kind
            try:
                number = int(value)
            except ValueError:
                raise _bad(level, f"The value '{value}' of '{key}' is not an integer.", key) from None
            if not low <= number <= high:
                raise _bad(level, f"The value {number} of '{key}' must be from {low} to {high}.", key)
            values[key] = number
    for key in _REQUIRED[name]:
        if key not in values:
            raise _bad(level, f"{name} requires the parameter '{key}'.", key)
    if name == PLURALITY and "ExtendIfHITAgreementScoreIsLessThan" in values:
        for key in ("ExtendMaximumAssignments", "ExtendMinimumTimeInSeconds"):
            if key not in values:
                raise _bad(level, f"'{key}' is required with ExtendIfHITAgreementScoreIsLessThan.", key)
    return Policy(name, values)


def validate(assignment_policy: Mapping[str, Any] | None, hit_policy: Mapping[str, Any] | None) -> None:
    if assignment_policy is not None:
        parse_policy(assignment_policy, "AssignmentReviewPolicy")
    if hit_policy is not None:
        parse_policy(hit_policy, "HITReviewPolicy")
