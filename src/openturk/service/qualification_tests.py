"""Qualification tests: the Test is a QuestionForm, the AnswerKey (2005-10-01 schema) scores it.

Scoring follows MTurk's AnswerKey reference: for each ``Question``, the first ``AnswerOption`` whose
``SelectionIdentifier`` set equals exactly the worker's selections adds its ``AnswerScore``; when none
matches, ``DefaultScore`` (0 if absent) is added.  The sum becomes the Qualification value directly, or
through the ``QualificationValueMapping``: ``PercentageMapping`` (sum / MaximumSummedScore x 100, rounded
to the nearest integer, halves up), ``ScaleMapping`` (sum x SummedScoreMultiplier, rounded the same way)
or ``RangeMapping`` (the range holding the sum, else ``OutOfRangeQualificationValue``; with no such value
the request is rejected, so no Qualification is granted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from openturk.errors import QuestionXMLError
from openturk.service.mturk_xml import children, fail, leaf, one, opt, parse_xml, split
from openturk.service.questions import Question, QuestionKind

ANSWER_KEY_NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/AnswerKey.xsd"
MAX_DOCUMENT_BYTES = 65535
_WHERE = "AnswerKey"


@dataclass(frozen=True, slots=True)
class KeyQuestion:
    identifier: str
    options: tuple[tuple[frozenset[str], Decimal], ...]
    default_score: Decimal


@dataclass(frozen=True, slots=True)
class AnswerKey:
    questions: tuple[KeyQuestion, ...]
    mapping: str | None  # None, "Percentage", "Scale" or "Range"
    maximum: Decimal = Decimal(0)
    multiplier: Decimal = Decimal(1)
    ranges: tuple[tuple[Decimal, Decimal, int], ...] = ()
    out_of_range: int | None = None


def _number(element: Element, integer: bool = False) -> Decimal:
    raw = leaf(element, _WHERE).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or (integer and value != value.to_integral_value()):
        kind = "an integer" if integer else "a number"
        raise fail(f"The value '{raw[:60]}' of element '{split(element.tag)[1]}' is not {kind}.", _WHERE)
    return value


def parse_answer_key(document: str, test: Question) -> AnswerKey:
    """Read an AnswerKey and check it against the test's questions and selections."""
    if len(document.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise fail(f"The AnswerKey is larger than {MAX_DOCUMENT_BYTES} bytes.", _WHERE)
    root = parse_xml(document, _WHERE)
    ns, name = split(root.tag)
    if name != "AnswerKey" or ns != ANSWER_KEY_NS:
        raise fail(f"The root element must be 'AnswerKey' in the namespace '{ANSWER_KEY_NS}'.", _WHERE)
    form = {fq.identifier: fq for fq in test.form_questions}
    questions: list[KeyQuestion] = []
    mapping: Element | None = None
    for child in children(root, ns, frozenset({"Question", "QualificationValueMapping"}), _WHERE):
        if split(child.tag)[1] == "QualificationValueMapping":
            if mapping is not None:
                raise fail("Element 'QualificationValueMapping' may appear only once.", _WHERE)
            mapping = child
            continue
        kids = children(child, ns, frozenset({"QuestionIdentifier", "AnswerOption", "DefaultScore"}), _WHERE)
        identifier = leaf(one(kids, "QuestionIdentifier", "Question", _WHERE), _WHERE).strip()
        if identifier not in form:
            raise fail(f"The Test has no question '{identifier[:60]}'.", _WHERE)
        selections = {sid for sid, _ in form[identifier].selections}
        options: list[tuple[frozenset[str], Decimal]] = []
        for option in (k for k in kids if split(k.tag)[1] == "AnswerOption"):
            parts = children(option, ns, frozenset({"SelectionIdentifier", "AnswerScore"}), _WHERE)
            chosen = frozenset(
                leaf(p, _WHERE).strip() for p in parts if split(p.tag)[1] == "SelectionIdentifier"
            )
            if not chosen:
                raise fail("Element 'AnswerOption' needs at least one 'SelectionIdentifier'.", _WHERE)
            if unknown := sorted(chosen - selections):
                raise fail(f"Question '{identifier[:60]}' has no selection '{unknown[0][:60]}'.", _WHERE)
            options.append((chosen, _number(one(parts, "AnswerScore", "AnswerOption", _WHERE))))
        default = opt(kids, "DefaultScore", "Question", _WHERE)
        questions.append(
            KeyQuestion(identifier, tuple(options), Decimal(0) if default is None else _number(default))
        )
    if mapping is None:
        return AnswerKey(tuple(questions), None)
    return _mapping(tuple(questions), mapping, ns)


def _mapping(questions: tuple[KeyQuestion, ...], element: Element, ns: str) -> AnswerKey:
    kinds = frozenset({"PercentageMapping", "ScaleMapping", "RangeMapping"})
    kids = children(element, ns, kinds, _WHERE)
    if len(kids) != 1:
        raise fail("Element 'QualificationValueMapping' must contain exactly one mapping.", _WHERE)
    kind = split(kids[0].tag)[1]
    inner = children(
        kids[0],
        ns,
        frozenset(
            {
                "MaximumSummedScore",
                "SummedScoreMultiplier",
                "SummedScoreRange",
                "OutOfRangeQualificationValue",
            }
        ),
        _WHERE,
    )
    if kind == "PercentageMapping":
        maximum = _number(one(inner, "MaximumSummedScore", kind, _WHERE))
        if maximum <= 0:
            raise fail("MaximumSummedScore must be more than 0.", _WHERE)
        return AnswerKey(questions, "Percentage", maximum=maximum)
    if kind == "ScaleMapping":
        return AnswerKey(
            questions, "Scale", multiplier=_number(one(inner, "SummedScoreMultiplier", kind, _WHERE))
        )
    ranges: list[tuple[Decimal, Decimal, int]] = []
    for item in (k for k in inner if split(k.tag)[1] == "SummedScoreRange"):
        parts = children(
            item, ns, frozenset({"InclusiveLowerBound", "InclusiveUpperBound", "QualificationValue"}), _WHERE
        )
        low = _number(one(parts, "InclusiveLowerBound", "SummedScoreRange", _WHERE))
        high = _number(one(parts, "InclusiveUpperBound", "SummedScoreRange", _WHERE))
        value = int(_number(one(parts, "QualificationValue", "SummedScoreRange", _WHERE), integer=True))
        ranges.append((low, high, value))
    if not ranges:
        raise fail("Element 'RangeMapping' needs at least one 'SummedScoreRange'.", _WHERE)
    out = opt(inner, "OutOfRangeQualificationValue", kind, _WHERE)
    return AnswerKey(
        questions,
        "Range",
        ranges=tuple(ranges),
        out_of_range=None if out is None else int(_number(out, True)),
    )


def check_test(test: Question) -> None:
    if test.kind is not QuestionKind.FORM:
        raise QuestionXMLError(
            "The Test of a QualificationType must be a QuestionForm.", data={"Parameter": "Test"}
        )


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def grade(key: AnswerKey, answers: Sequence[tuple[str, str]]) -> int | None:
    """The Qualification value the answers earn, or None when the RangeMapping grants nothing."""
    chosen: dict[str, set[str]] = {}
    for identifier, value in answers:
        if value.strip():
            chosen.setdefault(identifier, set()).add(value)
    total = Decimal(0)
    for question in key.questions:
        mine = frozenset(chosen.get(question.identifier, set()))
        total += next((score for wanted, score in question.options if wanted == mine), question.default_score)
    if key.mapping == "Percentage":
        return _round(total / key.maximum * 100)
    if key.mapping == "Scale":
        return _round(total * key.multiplier)
    if key.mapping == "Range":
        for low, high, mapped in key.ranges:
            if low <= total <= high:
                return mapped
        return key.out_of_range
    return _round(total)
