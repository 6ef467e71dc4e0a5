"""Reading MTurk's XML documents (Question, QuestionFormAnswers, AnswerKey) and checking their shape.

Every document is parsed with ``defusedxml`` and refused if it carries a DTD, entity declarations or
external references.  The checks here are the ones the schemas share (known children in the right
namespace, required and unique children, text-only leaves, bounded integers); each document's own
module says which elements it expects.  Every problem is a QuestionXMLError naming the parameter.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml.common import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from openturk.errors import QuestionXMLError

# MTurk's AWS.MechanicalTurk.XMLParseError message, as the brief quotes it (not found in public sources).
_PARSE_ERROR = (
    "There was an error parsing the XML question or answer data in your request.  Please make sure the "
    "data is well-formed and validates against the appropriate schema. Details: {} (in {})"
)
XML_SPACE = " \t\r\n"
_INTEGER = re.compile(r"\+?0*([0-9]{1,10})")


def fail(detail: str, where: str = "Question") -> QuestionXMLError:
    return QuestionXMLError(_PARSE_ERROR.format(detail, where), data={"Parameter": where, "Details": detail})


def clip(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


def split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def parse_xml(document: str, where: str) -> Element:
    text = document.strip(XML_SPACE + "\ufeff")
    if not text:
        raise fail("The document is empty.", where)
    try:
        root: Element = safe_fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        detail = f"DTDs, entity declarations and external references are not allowed ({type(exc).__name__})."
        raise fail(detail, where) from None
    except ParseError as exc:
        raise fail(f"The document is not well-formed XML: {exc}.", where) from None
    except ValueError:  # a lone surrogate: a character no XML document can carry
        raise fail("The document contains a character XML cannot carry.", where) from None
    return root


def children(element: Element, ns: str, allowed: frozenset[str], where: str = "Question") -> list[Element]:
    parent = split(element.tag)[1]
    for child in element:
        child_ns, name = split(child.tag)
        if child_ns != ns or name not in allowed:
            expected = ", ".join(sorted(allowed))
            raise fail(f"Unexpected element '{child.tag}' in '{parent}'; expected one of: {expected}.", where)
    return list(element)


def opt(kids: list[Element], name: str, parent: str, where: str = "Question") -> Element | None:
    found = [kid for kid in kids if split(kid.tag)[1] == name]
    if len(found) > 1:
        raise fail(f"Element '{name}' may appear only once in '{parent}'.", where)
    return found[0] if found else None


def one(kids: list[Element], name: str, parent: str, where: str = "Question") -> Element:
    found = opt(kids, name, parent, where)
    if found is None:
        raise fail(f"Missing required element '{name}' in '{parent}'.", where)
    return found


def leaf(element: Element, where: str = "Question") -> str:
    if len(element):
        name, child = split(element.tag)[1], split(element[0].tag)[1]
        detail = f"Element '{name}' must contain text only, not the element '{child}' (use a CDATA section)."
        raise fail(detail, where)
    return element.text or ""


def integer(element: Element, low: int, high: int) -> int:
    raw = leaf(element).strip(XML_SPACE)
    match = _INTEGER.fullmatch(raw)
    if match is None or not low <= int(match.group(1)) <= high:
        name = split(element.tag)[1]
        raise fail(f"The value '{clip(raw)}' of element '{name}' is not an integer from {low} to {high}.")
    return int(match.group(1))
