"""The question and answer documents of MTurk, as pure functions.

A HIT's ``Question`` is one of three XML documents, each in the namespace of its schema:

* ``ExternalQuestion`` (2006-07-14): ``ExternalURL`` and ``FrameHeight``.  The real service demands an
  https URL; OpenTurk also accepts http, because it is run offline against task servers on
  ``http://localhost``.  Both follow the schema's ``URLType`` pattern ``(http|https)://.*``.
* ``HTMLQuestion`` (2011-11-11): non-empty ``HTMLContent`` (text, normally a CDATA section) and
  ``FrameHeight``.  MTurk also checks that the HTML holds a form posting to the submit URL; we do not.
* ``QuestionForm`` (2017-11-06, or the older 2005-10-01): ``Overview`` and ``Question`` elements in any
  order, as in the element tables of MTurk's "QuestionForm" API reference.  ``FileUploadAnswer`` and
  ``Application`` are refused in the 2017-11-06 namespace: MTurk dropped both from that schema on
  2017-12-12 ("Data Structure Schema Locations"); the 2005-10-01 schema still declares them.

The checks follow the schemas (required and unique children, unknown elements, integers, booleans,
enumerations) but not the order of sibling elements.  Every document is parsed with ``defusedxml`` and
refused if it carries a DTD, entity declarations or external references.  A FreeTextAnswer's
Constraints are read by ``free_text``; the answers to a question are ``form_answers``' business.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml.ElementTree import fromstring as safe_fromstring

from openturk.service.free_text import FreeText, parse_free_text
from openturk.service.mturk_xml import (
    XML_SPACE,
    children,
    clip,
    fail,
    integer,
    leaf,
    one,
    opt,
    parse_xml,
    split,
)

_SCHEMAS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
EXTERNAL_NS = _SCHEMAS + "2006-07-14/ExternalQuestion.xsd"
HTML_NS = _SCHEMAS + "2011-11-11/HTMLQuestion.xsd"
FORM_NS = _SCHEMAS + "2017-11-06/QuestionForm.xsd"
FORM_NS_2005 = _SCHEMAS + "2005-10-01/QuestionForm.xsd"
ANSWERS_NS = _SCHEMAS + "2005-10-01/QuestionFormAnswers.xsd"

# botocore's mturk 2017-01-17 model, CreateHITRequest.Question: "The XML question data must not be larger
# than 64 kilobytes (65,535 bytes) in size, including whitespace."  Counted in UTF-8 bytes.
MAX_QUESTION_BYTES = 65535
MAX_INT = 2**31 - 1  # the schemas say xs:integer; we keep to what an INTEGER column holds
MAX_FILE_SIZE = 2_000_000_000  # QuestionForm 2005-10-01: MaxFileSizeType / MinFileSizeType
STYLE_SUGGESTIONS = frozenset({"radiobutton", "checkbox", "list", "dropdown", "combobox", "multichooser"})
# Styles that take several selections: without a MaxSelectionCount, as many as there are.
_SEVERAL_STYLES = frozenset({"checkbox", "multichooser"})
_CONTENT = frozenset({"Title", "Text", "List", "FormattedContent", "Binary", "EmbeddedBinary"})

_TAG = re.compile(r"<[^>]*>")
_ROOTS = {
    "ExternalQuestion": (EXTERNAL_NS,),
    "HTMLQuestion": (HTML_NS,),
    "QuestionForm": (FORM_NS, FORM_NS_2005),
}


class QuestionKind(StrEnum):
    EXTERNAL = "ExternalQuestion"
    HTML = "HTMLQuestion"
    FORM = "QuestionForm"


@dataclass(frozen=True, slots=True)
class FormQuestion:
    identifier: str
    display_name: str | None
    required: bool
    answer_kind: str  # "FreeTextAnswer" | "SelectionAnswer" | "FileUploadAnswer"
    selections: tuple[tuple[str, str], ...]  # (SelectionIdentifier, text) for SelectionAnswer, else ()
    text: str  # plain text of QuestionContent, for rendering to a worker
    allows_other: bool = False  # a SelectionAnswer with an OtherSelection: free text is a valid answer
    file_size_range: tuple[int, int] | None = None  # a FileUploadAnswer's (MinFileSizeInBytes, Max...)
    # A SelectionAnswer's StyleSuggestion, and how many selections an answer may have (None: any).
    style: str | None = None
    min_selections: int = 1
    max_selections: int | None = 1
    free_text: FreeText | None = None  # a FreeTextAnswer's constraints and suggestions

    @property
    def several(self) -> bool:
        """Whether the worker may pick more than one selection (check boxes rather than radio buttons)."""
        return self.max_selections is None or self.max_selections > 1


@dataclass(frozen=True, slots=True)
class Question:
    kind: QuestionKind
    xml: str  # the document exactly as the requester sent it (MTurk echoes it in GetHIT)
    external_url: str | None = None
    html_content: str | None = None
    frame_height: int | None = None
    form_questions: tuple[FormQuestion, ...] = ()
    overview: str = ""  # a QuestionForm's Overview elements, as plain text, for the worker


def _squash(text: str) -> str:
    return " ".join(text.split())


def _formatted_text(element: Element) -> str:
    """Plain text of a FormattedContent (an XHTML fragment, usually in CDATA), for display only."""
    markup = "".join(element.itertext())
    try:
        fragment: Element = safe_fromstring(f"<div>{markup}</div>", forbid_dtd=True)
        return _squash(" ".join(fragment.itertext()))
    except (ParseError, ValueError):  # not well-formed (say, &nbsp;): strip the tags, keep the words
        return _squash(html.unescape(_TAG.sub(" ", markup)))


def _content_text(elements: Iterable[Element]) -> str:
    pieces: list[str] = []
    for child in elements:
        name = split(child.tag)[1]
        if name in ("Title", "Text"):
            pieces.append(_squash("".join(child.itertext())))
        elif name == "List":
            pieces.extend(_squash("".join(item.itertext())) for item in child)
        elif name == "FormattedContent":
            pieces.append(_formatted_text(child))
        elif name in ("Binary", "EmbeddedBinary"):
            pieces.extend(_squash("".join(alt.itertext())) for alt in child if alt.tag.endswith("AltText"))
    return "\n".join(piece for piece in pieces if piece)


def parse_question(document: str) -> Question:
    """Read and check a Question document; raise QuestionXMLError naming the first problem."""
    if (size := len(document.encode("utf-8", "surrogatepass"))) > MAX_QUESTION_BYTES:
        raise fail(f"The question data is {size} bytes; the limit is {MAX_QUESTION_BYTES} bytes.")
    root = parse_xml(document, "Question")
    ns, name = split(root.tag)
    if name not in _ROOTS:
        raise fail(
            f"Unexpected root element '{root.tag}'; "
            "the Question must be an ExternalQuestion, an HTMLQuestion or a QuestionForm."
        )
    if ns not in _ROOTS[name]:
        found = f"'{ns}'" if ns else "no namespace"
        raise fail(f"Element '{name}' must be in the namespace '{_ROOTS[name][0]}', found {found}.")
    if name == "QuestionForm":
        questions, overview = _form(root, ns)
        return Question(QuestionKind.FORM, document, form_questions=questions, overview=overview)
    if name == "HTMLQuestion":
        kids = children(root, ns, frozenset({"HTMLContent", "FrameHeight"}))
        content = leaf(one(kids, "HTMLContent", name)).strip()
        if not content:
            raise fail("Element 'HTMLContent' must not be empty.")
        height = integer(one(kids, "FrameHeight", name), 0, MAX_INT)
        return Question(QuestionKind.HTML, document, html_content=content, frame_height=height)
    kids = children(root, ns, frozenset({"ExternalURL", "FrameHeight"}))
    url = leaf(one(kids, "ExternalURL", name)).strip(XML_SPACE)
    _check_url(url)
    height = integer(one(kids, "FrameHeight", name), 0, MAX_INT)
    return Question(QuestionKind.EXTERNAL, document, external_url=url, frame_height=height)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port >= 0  # .port raises ValueError when out of range
        valid = url.startswith(("http://", "https://")) and bool(parts.hostname) and port_ok
    except ValueError:  # a bad port or a broken IPv6 literal
        valid = False
    if not valid or re.search(r"[\s\x00-\x1f\x7f]", url):
        raise fail(f"The ExternalURL '{clip(url)}' is not an absolute http or https URL.")


def _form(root: Element, ns: str) -> tuple[tuple[FormQuestion, ...], str]:
    legacy = ns == FORM_NS_2005  # only the 2005-10-01 schema still has Application and FileUploadAnswer
    content = _CONTENT | {"Application"} if legacy else _CONTENT
    answers = frozenset({"FreeTextAnswer", "SelectionAnswer"} | ({"FileUploadAnswer"} if legacy else set()))
    questions: list[FormQuestion] = []
    overview: list[str] = []
    for element in children(root, ns, frozenset({"Overview", "Question"})):
        if split(element.tag)[1] == "Overview":
            overview.append(_content_text(children(element, ns, content)))
            continue
        question = _form_question(element, ns, content, answers)
        if any(seen.identifier == question.identifier for seen in questions):
            raise fail(f"Duplicate QuestionIdentifier '{clip(question.identifier)}' in 'QuestionForm'.")
        questions.append(question)
    if not questions:
        raise fail("Element 'QuestionForm' must contain at least one 'Question'.")
    return tuple(questions), "\n".join(text for text in overview if text)


def _form_question(
    element: Element, ns: str, content: frozenset[str], answers: frozenset[str]
) -> FormQuestion:
    names = {"QuestionIdentifier", "DisplayName", "IsRequired", "QuestionContent", "AnswerSpecification"}
    kids = children(element, ns, frozenset(names))
    identifier = leaf(one(kids, "QuestionIdentifier", "Question")).strip(XML_SPACE)
    if not identifier:
        raise fail("Element 'QuestionIdentifier' must not be empty.")
    display = opt(kids, "DisplayName", "Question")
    display_name = None if display is None else _squash(leaf(display)) or None
    required = False
    if (flag := opt(kids, "IsRequired", "Question")) is not None:
        raw = leaf(flag).strip(XML_SPACE)
        if raw not in ("true", "false", "1", "0"):
            raise fail(f"The value '{clip(raw)}' of element 'IsRequired' is not a boolean (true or false).")
        required = raw in ("true", "1")
    question_content = one(kids, "QuestionContent", "Question")
    children(question_content, ns, content)
    spec = children(one(kids, "AnswerSpecification", "Question"), ns, answers)
    if len(spec) != 1:
        expected = ", ".join(sorted(answers))
        raise fail(f"Element 'AnswerSpecification' must contain exactly one of: {expected}.")
    answer = spec[0]
    kind = split(answer.tag)[1]
    text = _content_text(question_content)
    if kind == "SelectionAnswer":
        choice = _selection_answer(answer, ns)
        return FormQuestion(
            identifier,
            display_name,
            required,
            kind,
            choice.selections,
            text,
            choice.allows_other,
            style=choice.style,
            min_selections=choice.least,
            max_selections=choice.most,
        )
    file_size_range: tuple[int, int] | None = None
    free_text: FreeText | None = None
    if kind == "FileUploadAnswer":
        sizes = children(answer, ns, frozenset({"MinFileSizeInBytes", "MaxFileSizeInBytes"}))
        low = integer(one(sizes, "MinFileSizeInBytes", kind), 0, MAX_FILE_SIZE)
        high = integer(one(sizes, "MaxFileSizeInBytes", kind), 0, MAX_FILE_SIZE)
        if low > high:
            raise fail("MinFileSizeInBytes must not be larger than MaxFileSizeInBytes.")
        file_size_range = (low, high)
    else:
        free_text = parse_free_text(answer, ns)
    return FormQuestion(
        identifier,
        display_name,
        required,
        kind,
        (),
        text,
        file_size_range=file_size_range,
        free_text=free_text,
    )


@dataclass(frozen=True, slots=True)
class _Choice:
    selections: tuple[tuple[str, str], ...]
    allows_other: bool
    style: str | None
    least: int
    most: int | None


def _selection_answer(answer: Element, ns: str) -> _Choice:
    names = frozenset({"MinSelectionCount", "MaxSelectionCount", "StyleSuggestion", "Selections"})
    kids = children(answer, ns, names)
    least_element = opt(kids, "MinSelectionCount", "SelectionAnswer")
    most_element = opt(kids, "MaxSelectionCount", "SelectionAnswer")
    least = 1 if least_element is None else integer(least_element, 0, MAX_INT)
    most = None if most_element is None else integer(most_element, 1, MAX_INT)
    if most is not None and most < least:
        raise fail("MinSelectionCount must not be larger than MaxSelectionCount.")
    style: str | None = None
    if (style_element := opt(kids, "StyleSuggestion", "SelectionAnswer")) is not None:
        style = leaf(style_element).strip(XML_SPACE)
        if style not in STYLE_SUGGESTIONS:
            allowed = ", ".join(sorted(STYLE_SUGGESTIONS))
            raise fail(f"The value '{clip(style)}' of element 'StyleSuggestion' is not one of: {allowed}.")
    if most is None and style not in _SEVERAL_STYLES:
        most = 1  # MaxSelectionCount's default: one selection (radio buttons, a drop-down list)
    choices = one(kids, "Selections", "SelectionAnswer")
    entries = children(choices, ns, frozenset({"Selection", "OtherSelection"}))
    allows_other = opt(entries, "OtherSelection", "Selections") is not None
    selections: list[tuple[str, str]] = []
    for entry in entries:
        if split(entry.tag)[1] == "OtherSelection":
            parse_free_text(entry, ns)  # checked as a FreeTextAnswer; its text is not constrained here
            continue
        parts = children(entry, ns, frozenset({"SelectionIdentifier", "Text", "FormattedContent", "Binary"}))
        identifier = leaf(one(parts, "SelectionIdentifier", "Selection")).strip(XML_SPACE)
        if not identifier:
            raise fail("Element 'SelectionIdentifier' must not be empty.")
        if any(identifier == seen for seen, _ in selections):
            raise fail(f"Duplicate SelectionIdentifier '{clip(identifier)}' in 'Selections'.")
        labels = [part for part in parts if split(part.tag)[1] != "SelectionIdentifier"]
        if len(labels) != 1:
            raise fail("Element 'Selection' must contain exactly one of: Binary, FormattedContent, Text.")
        selections.append((identifier, _content_text(labels)))
    if not selections:
        raise fail("Element 'Selections' must contain at least one 'Selection'.")
    return _Choice(tuple(selections), allows_other, style, least, most)
