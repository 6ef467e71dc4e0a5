"""The worker's marketplace pages, server-rendered with no script: finding, previewing and accepting HITs.

* ``GET /mturk/hits?workerId=..[&nextToken=..]``: the HITs the worker may discover
  (``WorkerMarket.available``: blocks and QualificationRequirements applied there), a page at a time,
  each with its reward, assignments available, requester, a Preview link and an Accept form.
* ``GET /mturk/preview?hitId=..[&workerId=..]``: the HIT's terms and its question rendered as the task
  page renders it (``worker_pages.question_html``), with ``assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE``
  and the hitId as MTurk passes in preview mode (never a workerId: that comes with an accepted
  assignment), plus an Accept form (``WorkerMarket.preview``).  Without a workerId it is an anonymous
  visitor's preview, as on MTurk before signing in: a HIT whose QualificationRequirements guard preview
  is refused, and the Accept form asks for a worker id.  Only an Assignable HIT is previewed.  An
  HTMLQuestion's content is served at ``GET /mturk/preview/content`` with the same parameters and
  ``previewTicket``, the preview's proof that its check was passed (``WorkerMarket.preview_content``),
  which does not name the worker: the HIT's page learns nobody's workerId before an accept.
* ``POST /mturk/accept`` (form fields ``hitId``, ``workerId``): ``WorkerService.accept``, then a 303 to
  the new assignment's task page, ``/mturk/task`` with MTurk's four parameters.

Where the worker pages require a sign-in (``sign_in_pages``), the worker is the session's, never a
workerId in the address or the form: the listing sends a visitor without a session to sign in, a
preview without one is an anonymous visitor's (its Accept is a sign-in link), and naming another worker
than the session's is refused.

Each handler parses, calls one service method and renders; the rules are the service's.  Service errors
become the worker pages' HTML error pages (404 for what does not exist, 400 otherwise).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from openturk.errors import OpenTurkError
from openturk.money import formatted_price
from openturk.service.paging import Page
from openturk.service.questions import Question
from openturk.service.records import Hit
from openturk.service.services import Services
from openturk.service.worker_market import Listing, Preview
from openturk.service.workers import Accepted
from openturk.web.sign_in_pages import SIGN_IN_PATH, Viewer, not_signed_in, viewer
from openturk.web.worker_pages import (
    PREVIEW_ASSIGNMENT_ID,
    error_page,
    escape,
    form_fields,
    html_content_response,
    message_page,
    origin,
    question_html,
    render_page,
    terms_block,
    with_mturk_params,
)

HITS_PATH = "/mturk/hits"
PREVIEW_PATH = "/mturk/preview"
PREVIEW_CONTENT_PATH = "/mturk/preview/content"
TICKET_PARAM = "previewTicket"  # the preview's ticket for its HTMLQuestion content (see _content_path)
ACCEPT_PATH = "/mturk/accept"
TASK_PATH = "/mturk/task"
_CANNOT_LIST = "HITs cannot be listed"
_CANNOT_PREVIEW = "This HIT cannot be previewed"
_NOT_ACCEPTED = "The HIT was not accepted"


@dataclass(frozen=True, slots=True)
class _PreviewTask:
    """A HIT in preview mode, as ``worker_pages.question_html`` renders it."""

    assignment_id: str
    hit_id: str
    worker_id: str
    question: Question


def _preview_task(found: Preview) -> _PreviewTask:
    # MTurk passes no workerId to a question in preview mode, signed in or not: it comes with the
    # accepted assignment (with_mturk_params leaves an empty one out).
    return _PreviewTask(PREVIEW_ASSIGNMENT_ID, found.hit.id, "", found.question)


def _content_path(found: Preview) -> str:
    """Where the preview's HTMLQuestion content is served, with the preview's ticket for it."""
    return f"{PREVIEW_CONTENT_PATH}?{urlencode({TICKET_PARAM: found.content_ticket})}"


def _link(path: str, **params: str) -> str:
    return escape(f"{path}?{urlencode(params)}")


def _worker_params(who: Viewer) -> dict[str, str]:
    """The workerId an address carries: none where the session names the worker."""
    return {"workerId": who.worker_id} if who.worker_id is not None and not who.by_session else {}


def _accept_form(hit_id: str, who: Viewer) -> str:
    """Accept as the viewer; an anonymous visitor types a worker id in, or signs in where that is
    required."""
    if who.worker_id is None and who.by_session:
        return f'<p class="message"><a href="{SIGN_IN_PATH}">Sign in to accept</a> this HIT.</p>'
    if who.worker_id is None:
        who_field = '<label>Worker ID <input type="text" name="workerId" required></label> '
    else:
        who_field = "".join(
            f'<input type="hidden" name="{name}" value="{escape(value)}">'
            for name, value in _worker_params(who).items()
        )
    return (
        f'<form method="post" action="{ACCEPT_PATH}" class="accept">'
        f'<input type="hidden" name="hitId" value="{escape(hit_id)}">'
        f'{who_field}<button type="submit">Accept</button></form>'
    )


def _hit_terms(hit: Hit) -> str:
    rows = (
        ("Reward", formatted_price(hit.reward_cents)),
        ("Available", hit.num_available),
        ("Requester", hit.requester_id),
        ("HIT", hit.id),
    )
    return terms_block(hit.title, hit.description, rows)


def listing_html(who: Viewer, page: Page[Listing]) -> str:
    worker_id = who.worker_id or ""
    rows = []
    for item in page:
        hit = item.hit
        preview = (
            f'<a href="{_link(PREVIEW_PATH, hitId=hit.id, **_worker_params(who))}">Preview</a>'
            if item.can_preview
            else "Qualification required to preview"
        )
        accept = _accept_form(hit.id, who) if item.can_accept else "Qualification required"
        cells = (
            escape(hit.title),
            escape(formatted_price(hit.reward_cents)),
            escape(hit.num_available),
            escape(hit.requester_id),
            preview,
            accept,
        )
        rows.append(
            f'<tr data-hit-id="{escape(hit.id)}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        )
    head = f"<h1>HITs for worker {escape(worker_id)}</h1>"
    if not rows:
        return head + '<p class="message">There are no (more) HITs you can work on.</p>'
    columns = ("Title", "Reward", "Available", "Requester", "", "")
    table = (
        '<table class="hits"><thead><tr>'
        + "".join(f"<th>{escape(c)}</th>" for c in columns)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    more = ""
    if page.next_token is not None:
        after = _link(HITS_PATH, **_worker_params(who), nextToken=page.next_token)
        more = f'<p><a rel="next" href="{after}">Next page</a></p>'
    return head + table + more


def preview_html(found: Preview, who: Viewer, submit_to: str) -> str:
    shown = _preview_task(found)
    if found.can_accept or who.worker_id is None:  # a visitor's Accept checks the worker they name
        accept = _accept_form(found.hit.id, who)
    else:
        accept = '<p class="message">You do not meet the QualificationRequirements to accept this HIT.</p>'
    question = question_html(shown, submit_to, _content_path(found))
    return _hit_terms(found.hit) + accept + question


def task_address(accepted: Accepted, submit_to: str) -> str:
    """The new assignment's task page: ``/mturk/task`` with MTurk's four parameters."""
    return with_mturk_params(submit_to + TASK_PATH, accepted, submit_to)


def market_routes(services: Services) -> list[Route]:
    market, workers = services.worker_market, services.workers

    async def hits_page(request: Request) -> Response:
        who = viewer(services, request, request.query_params.get("workerId"))
        if isinstance(who, Response):
            return who
        if who.worker_id is None and who.by_session:
            return RedirectResponse(SIGN_IN_PATH, status_code=303)
        if who.worker_id is None:
            return message_page(_CANNOT_LIST, "The address has no workerId parameter.", 400)
        next_token = request.query_params.get("nextToken") or None
        try:
            page: Page[Listing] = await run_in_threadpool(market.available, who.worker_id, next_token, None)
        except OpenTurkError as exc:
            return error_page(_CANNOT_LIST, exc)
        return render_page("HITs", listing_html(who, page))

    async def preview_page(request: Request) -> Response:
        hit_id = request.query_params.get("hitId", "")
        who = viewer(services, request, request.query_params.get("workerId"))
        if isinstance(who, Response):
            return who
        if not hit_id:
            return message_page(_CANNOT_PREVIEW, "The address has no hitId parameter.", 400)
        try:  # no worker: an anonymous visitor's preview
            found: Preview = await run_in_threadpool(market.preview, who.worker_id, hit_id)
        except OpenTurkError as exc:
            return error_page(_CANNOT_PREVIEW, exc)
        return render_page(found.hit.title, preview_html(found, who, origin()))

    async def preview_content(request: Request) -> Response:
        hit_id = request.query_params.get("hitId", "")
        if not hit_id:
            return message_page(_CANNOT_PREVIEW, "The address has no hitId parameter.", 400)
        ticket = request.query_params.get(TICKET_PARAM) or None
        try:
            found: Preview = await run_in_threadpool(market.preview_content, hit_id, ticket)
        except OpenTurkError as exc:
            return error_page(_CANNOT_PREVIEW, exc)
        served = html_content_response(_preview_task(found))
        if served is None:
            return message_page(_CANNOT_PREVIEW, f"HIT {found.hit.id} has no HTMLContent.", 404)
        return served

    async def accept(request: Request) -> Response:
        fields = await form_fields(request, _NOT_ACCEPTED, "hitId", "workerId")
        if isinstance(fields, Response):
            return fields
        hit_id = fields["hitId"]
        if not hit_id:
            return message_page(_NOT_ACCEPTED, "The form has no hitId field.", 400)
        who = viewer(services, request, fields["workerId"])
        if isinstance(who, Response):
            return who
        if who.worker_id is None and who.by_session:
            return not_signed_in("accept HITs")
        if who.worker_id is None:
            return message_page(_NOT_ACCEPTED, "The form has no workerId field.", 400)
        try:
            accepted: Accepted = await run_in_threadpool(workers.accept, hit_id, who.worker_id)
        except OpenTurkError as exc:
            return error_page(_NOT_ACCEPTED, exc)
        return RedirectResponse(task_address(accepted, origin()), status_code=303)

    routes: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        (HITS_PATH, hits_page, "GET"),
        (PREVIEW_PATH, preview_page, "GET"),
        (PREVIEW_CONTENT_PATH, preview_content, "GET"),
        (ACCEPT_PATH, accept, "POST"),
    ]
    return [Route(path, endpoint, methods=[method]) for path, endpoint, method in routes]
