"""A worker's answers to a HIT: checked against a QuestionForm, and written as the QuestionFormAnswers
document MTurk returns in ``Assignment.Answer`` (and read back, for review policies).

The answers arrive as (field, value) pairs, as a browser posts a form: a SelectionAnswer's check boxes
repeat the field, an unchecked "Other" box or an unchosen drop-down posts an empty value (no answer),
and a FreeTextAnswer's value must pass its Constraints (``free_text``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from openturk.errors import ParameterError
from openturk.service.free_text import check_free_text
from openturk.service.mturk_xml import XML_SPACE, children, clip, fail, leaf, one, parse_xml, split
from openturk.service.questions import ANSWERS_NS, FormQuestion, Question, QuestionKind

_ANSWER_VALUES = ("FreeText", "SelectionIdentifier", "OtherSelectionText", "UploadedFileKey")
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: str) -> str:
    """Escape text for an ASCII XML document; characters XML 1.0 cannot carry become U+FFFD."""
    clean = _NOT_XML_CHAR.sub("\ufffd", value)
    return escape(clean, {"\r": "&#13;"}).encode("ascii", "xmlcharrefreplace").decode("ascii")


def answers_document(
    answers: Sequence[tuple[str, str]],
    *,
    question: Question | None = None,
    uploads: Mapping[str, tuple[int, str]] | None = None,
) -> str:
    """QuestionFormAnswers as MTurk returns it in Assignment.Answer: compact, ASCII, in the given order
    (a QuestionForm's in the order of its questions).

    Every answer is ``FreeText``, as for External and HTML questions.  Given the QuestionForm the
    answers belong to, a SelectionAnswer's values are grouped in one Answer, as MTurk does, as
    ``SelectionIdentifier`` (or ``OtherSelectionText`` for a value that is no selection); its empty
    values (the "Other" box left empty, the drop-down's unchosen first option) are no answer at all.
    ``uploads`` maps a question to its uploaded file's (size, key): ``UploadedFileSizeInBytes``,
    ``UploadedFileKey``.
    """
    kinds = {fq.identifier: fq for fq in question.form_questions} if question is not None else {}
    grouped: dict[str, list[str]] = {}
    order: list[tuple[str, list[str]]] = []
    for identifier, value in answers:
        form_question = kinds.get(identifier)
        if form_question is None or form_question.answer_kind != "SelectionAnswer":
            order.append((identifier, [f"<FreeText>{_xml_text(value)}</FreeText>"]))
            continue
        if not value.strip():
            continue
        if identifier not in grouped:
            grouped[identifier] = []
            order.append((identifier, grouped[identifier]))
        known = any(value == sid for sid, _ in form_question.selections)
        tag = "SelectionIdentifier" if known else "OtherSelectionText"
        grouped[identifier].append(f"<{tag}>{_xml_text(value)}</{tag}>")
    for identifier, (size, key) in (uploads or {}).items():
        sized = f"<UploadedFileSizeInBytes>{size}</UploadedFileSizeInBytes>"
        order.append((identifier, [f"{sized}<UploadedFileKey>{_xml_text(key)}</UploadedFileKey>"]))
    if question is not None and question.kind is QuestionKind.FORM:
        position = {fq.identifier: n for n, fq in enumerate(question.form_questions)}
        order.sort(key=lambda answer: position.get(answer[0], len(position)))
    body = "".join(
        f"<Answer><QuestionIdentifier>{_xml_text(identifier)}</QuestionIdentifier>{''.join(values)}</Answer>"
        for identifier, values in order
    )
    head = f'<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="{ANSWERS_NS}">'
    return f"{head}{body}</QuestionFormAnswers>"


def parse_answers(document: str) -> list[tuple[str, str]]:
    """(QuestionIdentifier, value) pairs of a QuestionFormAnswers document, one per answer value."""
    if not document.strip(XML_SPACE):
        return []  # the API model: "If the Worker does not provide any answers, ... Answer may be empty."
    root = parse_xml(document, "Answer")
    if (expected := f"{{{ANSWERS_NS}}}QuestionFormAnswers") != root.tag:
        raise fail(f"Expected the root element '{expected}', found '{root.tag}'.", "Answer")
    pairs: list[tuple[str, str]] = []
    names = frozenset({"QuestionIdentifier", "UploadedFileSizeInBytes", *_ANSWER_VALUES})
    for answer in children(root, ANSWERS_NS, frozenset({"Answer"}), "Answer"):
        kids = children(answer, ANSWERS_NS, names, "Answer")
        identifier = leaf(one(kids, "QuestionIdentifier", "Answer", "Answer"), "Answer")
        values = [leaf(kid, "Answer") for kid in kids if split(kid.tag)[1] in _ANSWER_VALUES]
        pairs.extend((identifier, value) for value in values or [""])
    return pairs


def validate_form_answers(question: Question, answers: Sequence[tuple[str, str]]) -> None:
    """Check a worker's submission against a QuestionForm; External and HTML questions take anything."""
    if question.kind is not QuestionKind.FORM:
        return
    by_identifier = {fq.identifier: fq for fq in question.form_questions}
    seen: set[str] = set()
    answered: set[str] = set()
    picked: dict[str, set[str]] = {}
    for identifier, value in answers:
        form_question = by_identifier.get(identifier)
        data = {"QuestionIdentifier": identifier}
        if form_question is None:
            message = f"There is no question '{clip(identifier)}' in this HIT's QuestionForm."
            raise ParameterError(message, data=data)
        selection = form_question.answer_kind == "SelectionAnswer"
        if identifier in seen and not selection:
            raise ParameterError(f"Question '{clip(identifier)}' is answered more than once.", data=data)
        seen.add(identifier)
        if not value.strip():
            continue
        valid = {sid for sid, _ in form_question.selections}
        if selection and value not in valid and not form_question.allows_other:
            message = f"'{clip(value)}' is not a selection of question '{clip(identifier)}'."
            raise ParameterError(message, data=data)
        answered.add(identifier)
        if selection:
            picked.setdefault(identifier, set()).add(value)
        elif form_question.free_text is not None:
            check_free_text(identifier, form_question.free_text, value)
    for identifier, values in picked.items():
        _check_selection_count(by_identifier[identifier], len(values))
    for form_question in question.form_questions:
        if form_question.required and form_question.identifier not in answered:
            message = f"Question '{clip(form_question.identifier)}' is required and has no answer."
            raise ParameterError(message, data={"QuestionIdentifier": form_question.identifier})


def _check_selection_count(form_question: FormQuestion, count: int) -> None:
    """An answered SelectionAnswer holds MinSelectionCount to MaxSelectionCount selections (a question
    left unanswered is IsRequired's business)."""
    least, most = form_question.min_selections, form_question.max_selections
    if least <= count and (most is None or count <= most):
        return
    bound, limit = ("at least", least) if count < least else ("at most", most)
    noun = "selection" if limit == 1 else "selections"
    message = f"Question '{clip(form_question.identifier)}' takes {bound} {limit} {noun}, not {count}."
    raise ParameterError(message, data={"QuestionIdentifier": form_question.identifier})
