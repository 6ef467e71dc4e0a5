"""The worker's marketplace pages end to end: HITs made with boto3 on a real server, the listing, preview
and accept pages read and posted like a browser does, results checked through boto3 and the services."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.hit_support import EXTERNAL, HTML, cli, hit_args
from tests.support import HTTP, RunningServer, start_server
from tests.test_worker_pages import QUESTION_FORM, Form, PageReader, assert_html, post_form, query

NOT_AVAILABLE = "ASSIGNMENT_ID_NOT_AVAILABLE"


@pytest.fixture
def own_server(db_url: str) -> Iterator[RunningServer]:
    """A marketplace of its own: the listing shows every requester's HITs."""
    running = start_server(db_url)
    yield running
    running.stop()


def new_worker(server: RunningServer, name: str = "w") -> str:
    return server.services.workers.create(name, "US").id


def qualification_type(client: Any, name: str) -> str:
    created = client.create_qualification_type(
        Name=name, Description="Granted by hand", QualificationTypeStatus="Active"
    )
    return str(created["QualificationType"]["QualificationTypeId"])


def guarded(qual: str, actions: str) -> list[dict[str, Any]]:
    return [
        {
            "QualificationTypeId": qual,
            "Comparator": "EqualTo",
            "IntegerValues": [1],
            "ActionsGuarded": actions,
        }
    ]


def grant(client: Any, qual: str, worker: str) -> None:
    client.associate_qualification_with_worker(
        QualificationTypeId=qual, WorkerId=worker, IntegerValue=1, SendNotification=False
    )


def listing(server: RunningServer, worker: str) -> dict[str, dict[str, Any]]:
    """Every row of every page of the worker's listing, by HIT id, following the Next links."""
    rows: dict[str, dict[str, Any]] = {}
    url: str | None = f"{server.url}/mturk/hits?workerId={worker}"
    pages = 0
    while url is not None:
        page = HTTP.get(url)
        text = assert_html(page, 200)
        pages += 1
        reader = RowReader(page.text)
        for row in reader.rows:
            assert row["hit"] not in rows  # no HIT on two pages
            rows[row["hit"]] = row
        url = urljoin(url, html.unescape(reader.next)) if reader.next else None
        if not reader.rows:
            assert "no (more) HITs" in text
    assert pages >= 1
    return rows


class RowReader(PageReader):
    """The listing's rows (HIT id, cell texts, Preview link, Accept form) and its Next link."""

    def __init__(self, text: str) -> None:
        self.rows: list[dict[str, Any]] = []
        self.next: str | None = None
        self.in_cell = False
        super().__init__(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "tr" and named.get("data-hit-id"):
            self.rows.append({"hit": named["data-hit-id"], "cells": [], "preview": None, "form": None})
        elif tag == "td" and self.rows:
            self.rows[-1]["cells"].append("")
            self.in_cell = True
        elif tag == "a" and named.get("rel") == "next":
            self.next = named.get("href")
        elif tag == "a" and self.rows:
            self.rows[-1]["preview"] = named.get("href")
        super().handle_starttag(tag, attrs)
        if tag == "form" and self.rows:
            self.rows[-1]["form"] = self.forms[-1]

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.in_cell = False

    def handle_data(self, data: str) -> None:
        if self.in_cell:
            self.rows[-1]["cells"][-1] += data


def counts(client: Any, hit_id: str) -> tuple[int, int]:
    """(available, pending): boto3 shows no Accepted assignment itself, as on MTurk, only these."""
    hit = client.get_hit(HITId=hit_id)["HIT"]
    return int(hit["NumberOfAssignmentsAvailable"]), int(hit["NumberOfAssignmentsPending"])


def post_accept(server: RunningServer, hit_id: str, worker: str) -> httpx.Response:
    return post_form(f"{server.url}/mturk/accept", [("hitId", hit_id), ("workerId", worker)])


def test_listing_shows_only_what_the_worker_may_discover(own_server: RunningServer) -> None:
    server = own_server
    who = server.requester("lab")
    client = server.client(who)
    qual = qualification_type(client, "Trusted labeller")
    title = "Label <script>alert(1)</script> & more"
    open_hit = client.create_hit(**hit_args(Title=title))["HIT"]["HITId"]
    hidden = client.create_hit(
        **hit_args(Title="Secret", QualificationRequirements=guarded(qual, "DiscoverPreviewAndAccept"))
    )["HIT"]["HITId"]
    accept_only = client.create_hit(
        **hit_args(Title="Look first", Reward="1.25", QualificationRequirements=guarded(qual, "Accept"))
    )["HIT"]["HITId"]
    more = [client.create_hit(**hit_args(Title=f"More {n}"))["HIT"]["HITId"] for n in range(10)]
    stranger, trusted = new_worker(server, "stranger"), new_worker(server, "trusted")
    grant(client, qual, trusted)

    page = HTTP.get(f"{server.url}/mturk/hits", params={"workerId": stranger})
    assert_html(page, 200, title, "$0.50")
    assert "<script>" not in page.text  # the title is escaped, not markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page.text
    assert len(RowReader(page.text).rows) == 10  # a page at a time, with a Next link
    assert RowReader(page.text).next is not None

    seen = listing(server, stranger)
    assert set(seen) == {open_hit, accept_only, *more}  # not the HIT guarded for discovery
    row = seen[open_hit]
    assert [c.strip() for c in row["cells"][:4]] == [title, "$0.50", "3", who.requester.id]
    preview = urlsplit(row["preview"])
    assert (preview.path, query(row["preview"])) == (
        "/mturk/preview",
        {"hitId": open_hit, "workerId": stranger},
    )
    form: Form = row["form"]
    assert (form.method, form.action) == ("post", "/mturk/accept")
    assert form.browser_pairs() == [("hitId", open_hit), ("workerId", stranger)]
    # Listed to look at, but the stranger cannot accept it: no Accept form there.
    assert seen[accept_only]["form"] is None
    assert seen[accept_only]["cells"][1] == "$1.25"
    assert "Qualification required" in seen[accept_only]["cells"][5]
    assert seen[accept_only]["preview"] is not None

    assert set(listing(server, trusted)) == {open_hit, hidden, accept_only, *more}
    assert listing(server, trusted)[hidden]["form"] is not None


@pytest.mark.parametrize("kind", ["html", "external", "form"])
def test_preview_shows_the_question_with_no_assignment(server: RunningServer, kind: str) -> None:
    client = server.client(server.requester())
    question = {"html": HTML, "external": EXTERNAL, "form": QUESTION_FORM}[kind]
    hit_id = client.create_hit(**hit_args(Question=question))["HIT"]["HITId"]
    worker = new_worker(server)

    page = HTTP.get(f"{server.url}/mturk/preview", params={"hitId": hit_id, "workerId": worker})
    assert_html(page, 200, "Label a picture", "Say what you see", "$0.50")
    reader = PageReader(page.text)
    accept_form = reader.forms[0]
    assert (accept_form.method, accept_form.action) == ("post", "/mturk/accept")
    assert accept_form.browser_pairs() == [("hitId", hit_id), ("workerId", worker)]
    # MTurk's preview mode: no assignment and no workerId, even for a signed-in worker.
    params = {"assignmentId": NOT_AVAILABLE, "hitId": hit_id, "turkSubmitTo": server.url}

    if kind == "external":
        (frame,) = reader.iframes
        assert (frame["src"] or "").startswith("https://tasks.example.org/label?")
        assert query(frame["src"] or "") == params
    elif kind == "form":
        question_form = reader.forms[1]
        assert question_form.action == f"{server.url}/mturk/externalSubmit"
        assert question_form.named("assignmentId")[0]["value"] == NOT_AVAILABLE
        assert "Describe the <picture>." in html.unescape(page.text)
    else:
        (frame,) = reader.iframes
        content_url = urljoin(str(page.url), frame["src"] or "")
        assert urlsplit(content_url).path == "/mturk/preview/content"
        ticket = query(content_url).pop("previewTicket")
        assert query(content_url) == {"previewTicket": ticket, **params}
        assert worker not in content_url  # the HIT's page learns no workerId from its address
        assert frame["sandbox"] is not None
        assert "allow-same-origin" not in frame["sandbox"]
        content = HTTP.get(content_url)
        assert content.status_code == 200
        assert content.headers["content-security-policy"].startswith("sandbox allow-scripts")
        (form,) = PageReader(content.text).forms
        assert form.action == f"{server.url}/mturk/externalSubmit"
        assert form.named("assignmentId")[0]["value"] == NOT_AVAILABLE
        # Submitting from the preview is refused by the submit page.
        refused = post_form(form.action, form.browser_pairs(label="too early"))
        assert_html(refused, 400, "This is a preview")
    assert counts(client, hit_id) == (3, 0)  # previewing accepts nothing


@pytest.mark.parametrize("kind", ["html", "external"])
def test_an_anonymous_preview_passes_no_worker_and_its_form_accepts_as_the_worker_typed_in(
    server: RunningServer, kind: str
) -> None:
    """As on MTurk before signing in: the question gets assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE and
    the hitId but no workerId, and accepting asks who is accepting."""
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(Question=HTML if kind == "html" else EXTERNAL))["HIT"]["HITId"]
    page = HTTP.get(f"{server.url}/mturk/preview", params={"hitId": hit_id})
    assert_html(page, 200, "Label a picture", "$0.50", "Worker ID")
    reader = PageReader(page.text)
    (frame,) = reader.iframes
    frame_url = urljoin(str(page.url), frame["src"] or "")
    expected = {"assignmentId": NOT_AVAILABLE, "hitId": hit_id, "turkSubmitTo": server.url}
    assert {k: v for k, v in query(frame_url).items() if k != "previewTicket"} == expected
    if kind == "html":
        content = HTTP.get(frame_url)
        assert content.status_code == 200
        assert PageReader(content.text).forms[0].named("assignmentId")[0]["value"] == NOT_AVAILABLE
    assert counts(client, hit_id) == (3, 0)

    accept_form = reader.forms[0]
    assert accept_form.named("workerId")[0]["type"] == "text"
    assert_html(post_form(urljoin(server.url, accept_form.action), accept_form.browser_pairs()), 400)
    worker = new_worker(server)
    response = post_form(urljoin(server.url, accept_form.action), accept_form.browser_pairs(workerId=worker))
    assert response.status_code == 303, response.text
    assert query(response.headers["location"])["workerId"] == worker
    assert counts(client, hit_id) == (2, 1)


def test_an_anonymous_visitor_previews_a_hit_whose_requirements_guard_only_accepting(
    server: RunningServer,
) -> None:
    client = server.client(server.requester())
    qual = qualification_type(client, "Acceptors")
    hit_id = client.create_hit(**hit_args(QualificationRequirements=guarded(qual, "Accept")))["HIT"]["HITId"]
    page = HTTP.get(f"{server.url}/mturk/preview", params={"hitId": hit_id})
    assert_html(page, 200, "Label a picture")
    form = PageReader(page.text).forms[0]
    worker = new_worker(server)  # holds no "Acceptors": the accept is refused for the worker named
    refused = post_form(urljoin(server.url, form.action), form.browser_pairs(workerId=worker))
    assert_html(refused, 400, "The HIT was not accepted", "does not meet the QualificationRequirements")
    assert counts(client, hit_id) == (3, 0)


def test_accepting_through_the_form_opens_the_task_page(server: RunningServer) -> None:
    client = server.client(server.requester())
    hit_id = client.create_hit(**hit_args(Question=QUESTION_FORM))["HIT"]["HITId"]
    worker = new_worker(server)
    page = HTTP.get(f"{server.url}/mturk/preview", params={"hitId": hit_id, "workerId": worker})
    form = PageReader(page.text).forms[0]

    response = post_form(urljoin(server.url, form.action), form.browser_pairs())
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert urlsplit(location).path == "/mturk/task"
    params = query(location)
    assignment_id = params["assignmentId"]
    assert params == {
        "assignmentId": assignment_id,
        "hitId": hit_id,
        "workerId": worker,
        "turkSubmitTo": server.url,
    }

    task = HTTP.get(urljoin(server.url, location))
    assert_html(task, 200, "Label a picture", assignment_id, "Accepted")
    assert PageReader(task.text).forms[0].named("assignmentId")[0]["value"] == assignment_id
    shown = server.services.workers.task(assignment_id)
    assert (shown.hit_id, shown.worker_id, shown.status) == (hit_id, worker, "Accepted")
    assert counts(client, hit_id) == (2, 1)

    again = post_accept(server, hit_id, worker)  # one assignment per worker and HIT
    assert_html(again, 400, "The HIT was not accepted", f"has already accepted HIT {hit_id}")
    assert counts(client, hit_id) == (2, 1)


def test_refused_accepts_show_an_error_page_and_create_nothing(server: RunningServer) -> None:
    client = server.client(server.requester("strict lab"))
    qual = qualification_type(client, "Strict lab regulars")
    hit_id = client.create_hit(**hit_args())["HIT"]["HITId"]
    guarded_hit = client.create_hit(**hit_args(QualificationRequirements=guarded(qual, "Accept")))["HIT"][
        "HITId"
    ]
    blocked, unqualified = new_worker(server, "blocked"), new_worker(server, "unqualified")
    client.create_worker_block(WorkerId=blocked, Reason="Answers at random")

    refused = post_accept(server, hit_id, blocked)
    assert_html(refused, 400, "The HIT was not accepted", "the requester has blocked this worker")
    refused = post_accept(server, guarded_hit, unqualified)
    assert_html(refused, 400, "does not meet the QualificationRequirements to accept", "Strict lab regulars")
    assert_html(post_accept(server, hit_id, "ANOSUCHWORKER"), 404, "Worker ANOSUCHWORKER does not exist.")
    assert_html(post_accept(server, "NOSUCHHIT", unqualified), 404, "NOSUCHHIT does not exist.")
    assert_html(post_form(f"{server.url}/mturk/accept", [("hitId", hit_id)]), 400, "no workerId field")
    assert_html(post_form(f"{server.url}/mturk/accept", [("workerId", blocked)]), 400, "no hitId field")
    assert counts(client, hit_id) == (3, 0)
    assert counts(client, guarded_hit) == (3, 0)

    # The unqualified worker may still look at it (only Accept is guarded), without an Accept form.
    page = HTTP.get(f"{server.url}/mturk/preview", params={"hitId": guarded_hit, "workerId": unqualified})
    assert_html(page, 200, "You do not meet the QualificationRequirements to accept this HIT.")
    assert [f.action for f in PageReader(page.text).forms] == []
    # The blocked worker cannot even preview.
    page = HTTP.get(f"{server.url}/mturk/preview", params={"hitId": hit_id, "workerId": blocked})
    assert_html(page, 400, "This HIT cannot be previewed", "cannot preview HIT")

    # No assignment left: the last one was taken meanwhile.
    last = client.create_hit(**hit_args(MaxAssignments=1))["HIT"]["HITId"]
    first = new_worker(server, "first")
    taken = post_accept(server, last, first)
    assert taken.status_code == 303
    assert server.services.workers.task(query(taken.headers["location"])["assignmentId"]).worker_id == first
    late = post_accept(server, last, unqualified)
    assert_html(late, 400, f"HIT {last} has no assignments available; it cannot be accepted.")
    assert counts(client, last) == (0, 1)


def test_preview_and_listing_errors_are_pages_not_crashes(server: RunningServer) -> None:
    client = server.client(server.requester())
    qual = qualification_type(client, "Previewers")
    hit_id = client.create_hit(**hit_args(QualificationRequirements=guarded(qual, "PreviewAndAccept")))[
        "HIT"
    ]["HITId"]
    worker = new_worker(server)
    preview = f"{server.url}/mturk/preview"
    hits = f"{server.url}/mturk/hits"

    page = HTTP.get(preview, params={"hitId": hit_id, "workerId": worker})
    assert_html(page, 400, "does not meet the QualificationRequirements to preview", "Previewers")
    assert PageReader(page.text).iframes == []
    assert_html(HTTP.get(preview, params={"hitId": "NOSUCHHIT", "workerId": worker}), 404, "does not exist")
    # A NUL cannot be in an id; on PostgreSQL, which stores none, it must not become a server error.
    nul = HTTP.get(preview, params={"hitId": "A\x00B", "workerId": worker})
    assert 400 <= nul.status_code < 500, nul.text
    # Nor may an anonymous visitor, who holds no Qualification at all.
    anonymous = HTTP.get(preview, params={"hitId": hit_id})
    assert_html(anonymous, 400, f"Only workers who meet the QualificationRequirements of HIT {hit_id}")
    assert PageReader(anonymous.text).iframes == []
    assert_html(HTTP.get(preview, params={"workerId": worker}), 400, "no hitId parameter")
    # Its content address names no worker: without a preview's ticket it is anyone's, and refused.
    content = HTTP.get(f"{preview}/content", params={"hitId": hit_id, "workerId": worker})
    assert_html(content, 400, "can preview it")
    assert_html(HTTP.get(f"{preview}/content"), 400, "no hitId parameter")

    grant(client, qual, worker)
    assert_html(HTTP.get(preview, params={"hitId": hit_id, "workerId": worker}), 200, "Label a picture")
    # The HTMLQuestion content of a guarded HIT is served on the ticket of a preview that passed the
    # check, for that HIT only and for an hour; without it, as to anyone, it is refused.
    html_hit, other_html_hit = (
        client.create_hit(
            **hit_args(
                Question=HTML,
                LifetimeInSeconds=86400,
                QualificationRequirements=guarded(qual, "PreviewAndAccept"),
            )
        )["HIT"]["HITId"]
        for _ in range(2)
    )
    page = HTTP.get(preview, params={"hitId": html_hit, "workerId": worker})
    (frame,) = PageReader(page.text).iframes
    content_url = urljoin(str(page.url), frame["src"] or "")
    assert_html(HTTP.get(content_url), 200)
    assert "workerId" not in query(content_url)
    assert worker not in content_url
    ticket = query(content_url)["previewTicket"]
    content_path = f"{preview}/content"
    for forged in ("", "forged", ticket[:-2] + "xx"):
        refused = HTTP.get(content_path, params={"hitId": html_hit, "previewTicket": forged})
        assert_html(refused, 400, "can preview it")
    other = HTTP.get(content_path, params={"hitId": other_html_hit, "previewTicket": ticket})
    assert_html(other, 400, "can preview it")
    # An ExternalQuestion has no content to serve.
    external = client.create_hit(**hit_args(Question=EXTERNAL))["HIT"]["HITId"]
    assert_html(HTTP.get(content_path, params={"hitId": external}), 404, "has no HTMLContent")
    cli(server, "clock", "advance", "61m")
    assert_html(HTTP.get(content_url), 400, "can preview it")

    evil = "<script>alert(1)</script>"
    page = HTTP.get(hits, params={"workerId": evil})
    assert_html(page, 404, f"Worker {evil} does not exist.")
    assert "<script>" not in page.text
    assert_html(HTTP.get(hits), 400, "no workerId parameter")
    page = HTTP.get(hits, params={"workerId": worker, "nextToken": "forged.token"})
    assert_html(page, 400, "The NextToken is not valid")


def test_only_an_assignable_hit_is_previewed(server: RunningServer) -> None:
    """An expired, deleted or full HIT shows no question and no Accept form, as it is not listed either."""
    client = server.client(server.requester())
    worker = new_worker(server)
    preview = f"{server.url}/mturk/preview"
    expired, deleted, full = (
        client.create_hit(**hit_args(Question=HTML, MaxAssignments=1))["HIT"]["HITId"] for _ in range(3)
    )
    page = HTTP.get(preview, params={"hitId": deleted, "workerId": worker})
    (frame,) = PageReader(page.text).iframes
    content_url = urljoin(str(page.url), frame["src"] or "")

    client.update_expiration_for_hit(HITId=expired, ExpireAt=0)
    client.update_expiration_for_hit(HITId=deleted, ExpireAt=0)
    client.delete_hit(HITId=deleted)
    assert post_accept(server, full, worker).status_code == 303
    for hit_id, reason in ((expired, "has expired"), (deleted, "has been deleted"), (full, "no assignments")):
        for who in ({"workerId": worker}, {}):
            page = HTTP.get(preview, params={"hitId": hit_id, **who})
            assert_html(page, 400, "This HIT cannot be previewed", reason, "it cannot be previewed")
            assert PageReader(page.text).forms == []
            assert PageReader(page.text).iframes == []
    assert_html(HTTP.get(content_url), 400, "has been deleted")
    refused = HTTP.get(f"{server.url}/mturk/preview/content", params={"hitId": expired})
    assert_html(refused, 400, "has expired")
