"""The worker's HTTP side end to end: task pages read like a browser reads them, forms posted like a
browser posts them, results checked through boto3 and the services; a real server and real SQLite."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import pytest

from openturk.service.form_answers import parse_answers
from tests.hit_support import EXTERNAL, HTML, cli, hit_args, new_worker
from tests.support import HTTP, RunningServer

FORM_NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"


def _selection(identifier: str, style: str, *choices: str) -> str:
    options = "".join(
        f"<Selection><SelectionIdentifier>{c}</SelectionIdentifier><Text>{c.title()}</Text></Selection>"
        for c in choices
    )
    return (
        f"<Question><QuestionIdentifier>{identifier}</QuestionIdentifier><IsRequired>true</IsRequired>"
        f"<QuestionContent><Text>Pick {identifier}</Text></QuestionContent><AnswerSpecification>"
        f"<SelectionAnswer><StyleSuggestion>{style}</StyleSuggestion><Selections>{options}</Selections>"
        "</SelectionAnswer></AnswerSpecification></Question>"
    )


QUESTION_FORM = (
    f'<QuestionForm xmlns="{FORM_NS}"><Overview><Text>Look &amp; tell</Text></Overview>'
    "<Question><QuestionIdentifier>caption</QuestionIdentifier><DisplayName>Caption</DisplayName>"
    "<IsRequired>true</IsRequired><QuestionContent><Text>Describe the &lt;picture&gt;.</Text>"
    "</QuestionContent><AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>"
    + _selection("colors", "checkbox", "red", "blue")
    + _selection("mood", "radiobutton", "happy", "sad")
    + "</QuestionForm>"
)
SKIPPED_INPUTS = ("submit", "button", "image", "reset", "file")


@dataclass
class Form:
    action: str
    method: str
    fields: list[dict[str, str | None]] = field(default_factory=list)

    def named(self, name: str) -> list[dict[str, str | None]]:
        return [f for f in self.fields if f.get("name") == name]

    def browser_pairs(self, **typed: str) -> list[tuple[str, str]]:
        """What a browser posts: named fields in document order, typed text, checked boxes only."""
        pairs = []
        for f in self.fields:
            name = f.get("name")
            if not name or f.get("type") in SKIPPED_INPUTS:
                continue
            if f.get("type") in ("checkbox", "radio") and "checked" not in f:
                continue
            pairs.append((name, typed.get(name, f.get("value") or "")))
        return pairs


class PageReader(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.iframes: list[dict[str, str | None]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {"tag": tag, **dict(attrs)}
        if tag == "form":
            self.forms.append(Form(named.get("action") or "", (named.get("method") or "get").lower()))
        elif tag in ("input", "textarea", "select") and self.forms:
            self.forms[-1].fields.append(named)
        elif tag == "iframe":
            self.iframes.append(named)


def post_form(
    url: str, pairs: list[tuple[str, str]], encoding: str = "urlencoded", files: tuple[str, ...] = ()
) -> httpx.Response:
    """Post as a browser does: urlencoded (UTF-8, '+' for spaces) or multipart/form-data."""
    if encoding == "urlencoded":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return HTTP.post(url, content=urlencode(pairs), headers=headers)
    boundary = f"----OpenTurkBoundary{secrets.token_hex(8)}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n' for n, v in pairs]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="photo.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nnot really a photo\r\n"
        for name in files
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return HTTP.post(url, content=body, headers=headers)


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


@pytest.fixture
def public_url(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI builds task URLs from OPENTURK_PUBLIC_URL: point it at the test server."""
    monkeypatch.setenv("OPENTURK_PUBLIC_URL", server.url)
    return server.url


def accept(server: RunningServer, hit_id: str, worker: str) -> tuple[str, str]:
    accepted = cli(server, "worker", "accept", hit_id, "--worker", worker)
    return str(accepted["assignment_id"]), str(accepted["task_url"])


def assert_html(response: httpx.Response, status: int, *phrases: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-amzn-requestid"]
    text = html.unescape(response.text)
    for phrase in phrases:
        assert phrase in text
    assert "Traceback" not in text
    return text


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_html_question_is_answered_from_its_task_page(
    server: RunningServer, public_url: str, encoding: str
) -> None:
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(Question=HTML))["HIT"]["HITId"]
    worker = new_worker(server)
    assignment_id, task_url = accept(server, hit_id, worker)
    assert task_url.startswith(f"{public_url}/mturk/task?")

    page = HTTP.get(task_url)
    assert_html(page, 200, "Label a picture", "Say what you see", "$0.50", assignment_id)
    (frame,) = PageReader(page.text).iframes
    assert "450px" in (frame["style"] or "")
    content_url = urljoin(task_url, frame["src"] or "")
    expected = {
        "assignmentId": assignment_id,
        "hitId": hit_id,
        "workerId": worker,
        "turkSubmitTo": public_url,
    }
    assert query(content_url) == expected  # so MTurk's turkGetParam() script works as well

    content = HTTP.get(content_url)
    assert content.status_code == 200
    (form,) = PageReader(content.text).forms
    assert form.method == "post"
    action = urljoin(content_url, form.action)
    assert action == f"{public_url}/mturk/externalSubmit"
    (hidden,) = form.named("assignmentId")
    assert hidden["value"] == assignment_id  # filled in on the server: no script needed

    answer = "a cat & <dog>, café"
    response = post_form(action, form.browser_pairs(label=answer), encoding)
    assert_html(response, 200, "Your work was submitted", assignment_id, "Submitted")

    assignment = client.get_assignment(AssignmentId=assignment_id)["Assignment"]
    assert assignment["AssignmentStatus"] == "Submitted"
    assert parse_answers(assignment["Answer"]) == [("label", answer)]
    assert "assignmentId" not in assignment["Answer"]
    assert assignment["Answer"].startswith("<?xml")


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_every_other_field_is_an_answer_in_the_order_posted(server: RunningServer, encoding: str) -> None:
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(Question=HTML))["HIT"]["HITId"]
    assignment_id, _ = accept(server, hit_id, new_worker(server))
    pairs = [("tag", "b"), ("assignmentId", assignment_id), ("label", ""), ("tag", "a"), ("zh", "猫")]
    response = post_form(f"{server.url}/mturk/externalSubmit", pairs, encoding)
    assert_html(response, 200, "Your work was submitted")
    answer = client.get_assignment(AssignmentId=assignment_id)["Assignment"]["Answer"]
    assert parse_answers(answer) == [("tag", "b"), ("label", ""), ("tag", "a"), ("zh", "猫")]


def test_external_question_page_frames_the_external_url(server: RunningServer, public_url: str) -> None:
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(Question=EXTERNAL))["HIT"]["HITId"]
    worker = new_worker(server)
    assignment_id, task_url = accept(server, hit_id, worker)
    assert task_url.startswith("https://tasks.example.org/label?")  # the CLI sends the worker straight there

    page = HTTP.get(f"{server.url}/mturk/task", params={"assignmentId": assignment_id})
    assert_html(page, 200, "Label a picture", "$0.50")
    reader = PageReader(page.text)
    # No form of ours but the Return button: the question is the external page's.
    assert [(f.action, f.method) for f in reader.forms] == [("/mturk/return", "post")]
    (frame,) = reader.iframes
    src = urlsplit(frame["src"] or "")
    assert (src.scheme, src.netloc, src.path) == ("https", "tasks.example.org", "/label")
    expected = {
        "assignmentId": assignment_id,
        "hitId": hit_id,
        "workerId": worker,
        "turkSubmitTo": public_url,
    }
    assert query(frame["src"] or "") == expected
    assert "600px" in (frame["style"] or "")
    # The content address is for HTMLQuestions only.
    content = HTTP.get(f"{server.url}/mturk/task/content", params={"assignmentId": assignment_id})
    assert_html(content, 404, "has no HTMLContent")


def test_question_form_is_rendered_and_checked(server: RunningServer, public_url: str) -> None:
    client = server.client(server.requester())
    title = "Label <script>alert(1)</script> & more"
    hit_id = client.create_hit(**hit_args(Question=QUESTION_FORM, Title=title))["HIT"]["HITId"]
    assignment_id, task_url = accept(server, hit_id, new_worker(server))

    page = HTTP.get(task_url)
    assert_html(page, 200, title, "Describe the <picture>.")
    assert "<script>" not in page.text
    assert "<picture>" not in page.text
    form, give_back = PageReader(page.text).forms
    assert give_back.action == "/mturk/return"
    assert (form.method, urljoin(task_url, form.action)) == ("post", f"{public_url}/mturk/externalSubmit")
    assert form.named("assignmentId")[0]["value"] == assignment_id
    assert [f["tag"] for f in form.named("caption")] == ["textarea"]
    assert [(f["type"], f["value"]) for f in form.named("colors")] == [
        ("checkbox", "red"),
        ("checkbox", "blue"),
    ]
    assert [(f["type"], f["value"]) for f in form.named("mood")] == [("radio", "happy"), ("radio", "sad")]

    base = [("assignmentId", assignment_id), ("caption", "a red & blue ball")]
    bad = post_form(form.action, [*base, ("colors", "purple"), ("mood", "happy")])
    assert_html(bad, 400, "Your work was not submitted", "'purple' is not a selection of question 'colors'")
    assert server.services.workers.task(assignment_id).status == "Accepted"
    # Radio buttons take one selection (MaxSelectionCount's default); a hand-made post with two does not pass.
    both = post_form(form.action, [*base, ("colors", "red"), ("mood", "happy"), ("mood", "sad")])
    assert_html(both, 400, "Your work was not submitted", "Question 'mood' takes at most 1 selection, not 2.")
    assert server.services.workers.task(assignment_id).status == "Accepted"

    good = [*base, ("colors", "red"), ("colors", "blue"), ("mood", "happy")]
    assert_html(post_form(form.action, good, "multipart"), 200, "Your work was submitted")
    assignment = client.get_assignment(AssignmentId=assignment_id)["Assignment"]
    assert assignment["AssignmentStatus"] == "Submitted"
    assert parse_answers(assignment["Answer"]) == good[1:]

    after = HTTP.get(task_url)  # no form any more: the status instead
    assert_html(after, 200, "waiting for the requester's review")
    assert PageReader(after.text).forms == []


def test_submit_errors_change_nothing(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    hit = client.create_hit(**hit_args(Question=HTML, Reward="1.00", AutoApprovalDelayInSeconds=0))["HIT"]
    alice, bob, carol = (new_worker(server, name) for name in ("alice", "bob", "carol"))
    first, _ = accept(server, hit["HITId"], alice)
    second, _ = accept(server, hit["HITId"], bob)
    submit_url = f"{server.url}/mturk/externalSubmit"

    def state() -> tuple[Any, ...]:
        got = client.get_hit(HITId=hit["HITId"])["HIT"]
        counts = [got[k] for k in ("HITStatus", "NumberOfAssignmentsAvailable", "NumberOfAssignmentsPending")]
        balances = [server.services.workers.balance(w) for w in (alice, bob, carol)]
        statuses = [server.services.workers.task(a).status for a in (first, second)]
        return client.get_account_balance()["AvailableBalance"], *counts, *balances, *statuses

    def refused(pairs: list[tuple[str, str]], status: int, *phrases: str, **kwargs: Any) -> None:
        before = state()
        assert_html(post_form(submit_url, pairs, **kwargs), status, "Your work was not submitted", *phrases)
        assert state() == before

    refused([("label", "cat")], 400, "no assignmentId")
    refused([("assignmentId", ""), ("label", "cat")], 400, "no assignmentId")
    refused([("assignmentId", "NOSUCHASSIGNMENT"), ("label", "cat")], 404, "NOSUCHASSIGNMENT does not exist")
    refused([("assignmentId", "ASSIGNMENT_ID_NOT_AVAILABLE")], 400, "preview")
    with_file = {"encoding": "multipart", "files": ("photo",)}
    # Files are kept since issue 8 (tests/test_file_uploads_e2e.py); a refused submission keeps none.
    refused([("assignmentId", "NOSUCHASSIGNMENT"), ("label", "cat")], 404, "does not exist", **with_file)
    before = state()
    broken = HTTP.post(submit_url, content=b"x", headers={"Content-Type": "multipart/form-data"})
    assert_html(broken, 400, "The form could not be read")
    assert state() == before
    assert HTTP.post(submit_url, content="not a form").status_code == 400  # text/plain: no fields at all

    done = post_form(submit_url, [("assignmentId", first), ("label", "cat")])
    assert_html(done, 200, "Your work was submitted", "Approved")  # auto-approval delay 0: paid at once
    assert server.services.workers.balance(alice) == 100
    refused([("assignmentId", first), ("label", "again")], 400, "This assignment is Approved, not Accepted")
    assert client.get_assignment(AssignmentId=first)["Assignment"]["Answer"].count("<Answer>") == 1

    cli(server, "worker", "return", second)
    refused([("assignmentId", second), ("label", "dog")], 400, "This assignment is Returned, not Accepted")

    third, _ = accept(server, hit["HITId"], carol)
    cli(server, "clock", "advance", "15m")  # past the 600 s assignment duration
    assert_html(post_form(submit_url, [("assignmentId", third)]), 400, "Abandoned, not Accepted")
    assert server.services.workers.balance(carol) == 0
    assert cli(server, "ledger", "audit")["ok"] is True


def test_task_page_errors(server: RunningServer) -> None:
    task_url = f"{server.url}/mturk/task"
    assert_html(HTTP.get(task_url), 400, "no assignmentId")
    assert_html(HTTP.get(task_url, params={"assignmentId": "NOPE"}), 404, "Assignment NOPE does not exist")
    content_url = f"{server.url}/mturk/task/content"
    assert_html(HTTP.get(content_url, params={"assignmentId": "NOPE"}), 404, "does not exist")

    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(Question=HTML))["HIT"]["HITId"]
    assignment_id, _ = accept(server, hit_id, new_worker(server))
    cli(server, "worker", "return", assignment_id)
    for url in (task_url, content_url):
        page = HTTP.get(url, params={"assignmentId": assignment_id})
        assert_html(page, 200, "You returned this assignment.")
        reader = PageReader(page.text)
        assert (reader.forms, reader.iframes) == ([], [])


CONSTRAINED_FORM = (
    f'<QuestionForm xmlns="{FORM_NS}"><Overview><Title>Tell us about you</Title><Text>Two minutes.</Text>'
    "</Overview><Question><QuestionIdentifier>age</QuestionIdentifier><IsRequired>true</IsRequired>"
    "<QuestionContent><Text>Age?</Text></QuestionContent><AnswerSpecification><FreeTextAnswer><Constraints>"
    '<IsNumeric minValue="18" maxValue="99"/></Constraints><DefaultText>30</DefaultText></FreeTextAnswer>'
    "</AnswerSpecification></Question>"
    "<Question><QuestionIdentifier>code</QuestionIdentifier><QuestionContent><Text>Code?</Text>"
    '</QuestionContent><AnswerSpecification><FreeTextAnswer><Constraints><Length maxLength="5"/>'
    '<AnswerFormatRegex regex="^[A-Z]+$" errorText="Capital letters only."/></Constraints>'
    "<NumberOfLinesSuggestion>1</NumberOfLinesSuggestion></FreeTextAnswer></AnswerSpecification></Question>"
    "<Question><QuestionIdentifier>colour</QuestionIdentifier><QuestionContent><Text>Colour?</Text>"
    "</QuestionContent><AnswerSpecification><SelectionAnswer><StyleSuggestion>radiobutton</StyleSuggestion>"
    "<Selections><Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>"
    "<OtherSelection/></Selections></SelectionAnswer></AnswerSpecification></Question>"
    "<Question><QuestionIdentifier>size</QuestionIdentifier><QuestionContent><Text>Size?</Text>"
    "</QuestionContent><AnswerSpecification><SelectionAnswer><StyleSuggestion>dropdown</StyleSuggestion>"
    "<Selections><Selection><SelectionIdentifier>s</SelectionIdentifier><Text>Small</Text></Selection>"
    "</Selections></SelectionAnswer></AnswerSpecification></Question></QuestionForm>"
)


def test_a_question_form_shows_its_overview_and_enforces_its_constraints(
    server: RunningServer, public_url: str
) -> None:
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(Question=CONSTRAINED_FORM))["HIT"]["HITId"]
    assignment_id, task_url = accept(server, hit_id, new_worker(server))
    page = HTTP.get(task_url)
    assert_html(page, 200, "Tell us about you", "Two minutes.")
    assert (
        '<input type="number" step="1" id="q0" name="age" required min="18" max="99" value="30">' in page.text
    )
    assert '<textarea id="q1" name="code" maxlength="5" rows="1"></textarea>' in page.text
    form, give_back = PageReader(page.text).forms
    assert give_back.action == "/mturk/return"
    # The worker leaves the "Other" box and the drop-down alone: the browser posts them empty.
    blank = [("colour", "red"), ("colour", ""), ("size", "")]
    for answers, why in (
        ([("age", "seventeen")], "must be a whole number"),
        ([("age", "17")], "must be at least 18"),
        ([("age", "30"), ("code", "ABCDEF")], "at most 5 characters long"),
        ([("age", "30"), ("code", "abc")], "Capital letters only."),
    ):
        refused = post_form(form.action, [("assignmentId", assignment_id), *answers, *blank])
        assert_html(refused, 400, "Your work was not submitted", why)
        assert server.services.workers.task(assignment_id).status == "Accepted"
    good = [("assignmentId", assignment_id), ("age", " 42"), ("code", "ABC"), *blank]
    assert_html(post_form(form.action, good), 200, "Your work was submitted")
    answer = client.get_assignment(AssignmentId=assignment_id)["Assignment"]["Answer"]
    assert parse_answers(answer) == [("age", " 42"), ("code", "ABC"), ("colour", "red")]
    assert "OtherSelectionText" not in answer


def test_the_worker_returns_a_task_from_its_page_and_sees_the_requesters_feedback(
    server: RunningServer, public_url: str
) -> None:
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(Question=QUESTION_FORM, MaxAssignments=2))["HIT"]["HITId"]
    returned, task_url = accept(server, hit_id, new_worker(server, "quitter"))
    give_back = PageReader(HTTP.get(task_url).text).forms[-1]
    assert give_back.browser_pairs() == [("assignmentId", returned)]
    done = post_form(f"{server.url}{give_back.action}", give_back.browser_pairs())
    assert_html(done, 200, "You returned the HIT")
    assert server.services.workers.task(returned).status == "Returned"
    assert_html(
        post_form(f"{server.url}/mturk/return", give_back.browser_pairs()), 400, "status of: Accepted"
    )
    assert_html(post_form(f"{server.url}/mturk/return", []), 400, "no assignmentId field")
    hit = client.get_hit(HITId=hit_id)["HIT"]
    assert (hit["NumberOfAssignmentsAvailable"], hit["NumberOfAssignmentsPending"]) == (2, 0)

    worked, task_url = accept(server, hit_id, new_worker(server, "finisher"))
    answers = [("assignmentId", worked), ("caption", "a ball"), ("colors", "red"), ("mood", "happy")]
    assert post_form(f"{server.url}/mturk/externalSubmit", answers).status_code == 200
    client.reject_assignment(AssignmentId=worked, RequesterFeedback="The <ball> is blue.")
    page = HTTP.get(task_url)
    feedback = "The requester wrote: <q>The <ball> is blue.</q>"
    assert_html(page, 200, "The requester rejected this assignment.", feedback)
    assert "<ball>" not in page.text
