"""A QuestionForm's FreeTextAnswer: its Constraints, DefaultText and NumberOfLinesSuggestion.

MTurk's worker site enforces the constraints before a worker can submit ("QuestionForm" data structure,
FreeTextAnswer):

* ``IsNumeric``: a whole number, optionally within ``minValue`` and ``maxValue``;
* ``Length``: ``minLength`` to ``maxLength`` characters;
* ``AnswerFormatRegex`` (any number): a regular expression the answer must match somewhere (MTurk's
  own example, ``regex="\\S"``, means "not blank"), ``flags="i"`` to ignore case, ``errorText`` the
  message shown when it does not.

A blank answer is an unanswered question (IsRequired's business), so only an answer given is checked.
The regular expressions are the requester's, compiled by Python's ``re`` when the HIT is created: a
pattern Python cannot compile is refused then, not when a worker submits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from openturk.errors import ParameterError
from openturk.service.mturk_xml import XML_SPACE, children, clip, fail, integer, leaf, opt, split

MAX_LINES = 1000
_ANSWER = frozenset({"Constraints", "DefaultText", "NumberOfLinesSuggestion"})
_CONSTRAINTS = frozenset({"IsNumeric", "Length", "AnswerFormatRegex"})
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True, slots=True)
class AnswerFormat:
    pattern: str
    ignore_case: bool
    error_text: str | None

    def matches(self, value: str) -> bool:
        return re.search(self.pattern, value, re.IGNORECASE if self.ignore_case else 0) is not None


@dataclass(frozen=True, slots=True)
class FreeText:
    numeric: bool = False
    min_value: int | None = None
    max_value: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    formats: tuple[AnswerFormat, ...] = ()
    default_text: str | None = None
    lines: int | None = None


def parse_free_text(answer: Element, ns: str) -> FreeText:
    kids = children(answer, ns, _ANSWER)
    default = opt(kids, "DefaultText", "FreeTextAnswer")
    lines_element = opt(kids, "NumberOfLinesSuggestion", "FreeTextAnswer")
    lines = None if lines_element is None else integer(lines_element, 1, MAX_LINES)
    default_text = None if default is None else leaf(default)
    constraints = opt(kids, "Constraints", "FreeTextAnswer")
    if constraints is None:
        return FreeText(default_text=default_text, lines=lines)
    rules = children(constraints, ns, _CONSTRAINTS)
    numeric = opt(rules, "IsNumeric", "Constraints")
    length = opt(rules, "Length", "Constraints")
    formats = tuple(_format(rule) for rule in rules if split(rule.tag)[1] == "AnswerFormatRegex")
    min_value = _attribute(numeric, "minValue", -(2**63), 2**63 - 1)
    max_value = _attribute(numeric, "maxValue", -(2**63), 2**63 - 1)
    min_length = _attribute(length, "minLength", 0, 2**31 - 1)
    max_length = _attribute(length, "maxLength", 0, 2**31 - 1)
    for low, high, what in ((min_value, max_value, "minValue"), (min_length, max_length, "minLength")):
        if low is not None and high is not None and low > high:
            raise fail(f"{what} must not be larger than {what.replace('min', 'max')}.")
    return FreeText(
        numeric is not None, min_value, max_value, min_length, max_length, formats, default_text, lines
    )


def _attribute(element: Element | None, name: str, low: int, high: int) -> int | None:
    if element is None or (raw := element.get(name)) is None:
        return None
    text = raw.strip(XML_SPACE)
    if _WHOLE_NUMBER.fullmatch(text) is None or not low <= int(text) <= high:
        raise fail(f"The value '{clip(raw)}' of attribute '{name}' is not a valid integer.")
    return int(text)


def _format(rule: Element) -> AnswerFormat:
    pattern = rule.get("regex")
    if pattern is None:
        raise fail("Element 'AnswerFormatRegex' must have a 'regex' attribute.")
    flags = (rule.get("flags") or "").strip(XML_SPACE)
    if flags not in ("", "i"):
        raise fail(f"The value '{clip(flags)}' of attribute 'flags' is not 'i'.")
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        raise fail(
            f"The AnswerFormatRegex '{clip(pattern)}' is not a valid regular expression: {error}."
        ) from None
    return AnswerFormat(pattern, flags == "i", rule.get("errorText"))


def check_free_text(identifier: str, rules: FreeText, value: str) -> None:
    """Refuse an answer the worker site would not have let through."""
    data = {"QuestionIdentifier": identifier}
    shown = clip(identifier)
    if rules.numeric:
        if _WHOLE_NUMBER.fullmatch(value.strip()) is None:
            raise ParameterError(f"The answer to question '{shown}' must be a whole number.", data=data)
        number = int(value.strip())
        if rules.min_value is not None and number < rules.min_value:
            raise ParameterError(
                f"The answer to question '{shown}' must be at least {rules.min_value}.", data=data
            )
        if rules.max_value is not None and number > rules.max_value:
            raise ParameterError(
                f"The answer to question '{shown}' must be at most {rules.max_value}.", data=data
            )
    if rules.min_length is not None and len(value) < rules.min_length:
        raise ParameterError(
            f"The answer to question '{shown}' must be at least {rules.min_length} characters long.",
            data=data,
        )
    if rules.max_length is not None and len(value) > rules.max_length:
        raise ParameterError(
            f"The answer to question '{shown}' must be at most {rules.max_length} characters long.", data=data
        )
    for answer_format in rules.formats:
        if not answer_format.matches(value):
            why = answer_format.error_text or f"it does not match the format {answer_format.pattern}"
            raise ParameterError(f"The answer to question '{shown}' is not valid: {why}", data=data)
