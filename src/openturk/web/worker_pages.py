"""The worker's pages, server-rendered with no script: what MTurk's worker site does for a HIT.

* ``POST /mturk/externalSubmit``: where ExternalQuestion and HTMLQuestion pages post their form (the
  ``turkSubmitTo`` parameter is this server).  ``assignmentId`` says which assignment; every other field
  is an answer, in the order posted.  urlencoded or multipart; file parts are stored as uploaded files
  (``service.file_uploads``).
* ``GET /mturk/task?assignmentId=..``: the task page of an accepted assignment.  An ExternalQuestion is
  shown in an iframe on its ExternalURL with MTurk's four query parameters; a QuestionForm is rendered
  as a form; an HTMLQuestion is shown in an iframe on ``/mturk/task/content`` (below).  Below it, a
  Return button; once decided, the requester's feedback.
* ``POST /mturk/return`` (form field ``assignmentId``): gives an accepted assignment back unfinished.
* ``GET /mturk/task/content?assignmentId=..&hitId=..&workerId=..&turkSubmitTo=..``: the HTMLContent
  itself, served like MTurk does, at an address carrying the four parameters so that the usual MTurk
  script (``turkGetParam('assignmentId')``) works.  So that pages without that script work too, the
  ``value`` of every input named ``assignmentId`` is filled in on the server, and every form posting to
  MTurk's externalSubmit (or named ``mturk_form``, as in MTurk's templates) is pointed at this server.
  MTurk serves that content from another origin; here it shares ours, so it runs sandboxed (the
  iframe's ``sandbox`` and a CSP ``sandbox`` on the response itself, without ``allow-same-origin``):
  its scripts and forms work, but it cannot read or drive the worker's pages, another assignment or
  the worker's cookies.

Every string shown is HTML-escaped.  Service errors become small HTML pages: 404 for what does not
exist, 400 otherwise.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from importlib.resources import files
from string import Template
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from openturk.errors import DoesNotExistError, OpenTurkError
from openturk.money import formatted_price
from openturk.service.file_uploads import IncomingFile
from openturk.service.questions import Question, QuestionKind
from openturk.service.workers import Task, WorkerService
from openturk.web.file_downloads import base_url
from openturk.web.question_form import question_form_html

SUBMIT_PATH = "/mturk/externalSubmit"
RETURN_PATH = "/mturk/return"
PREVIEW_ASSIGNMENT_ID = "ASSIGNMENT_ID_NOT_AVAILABLE"  # what MTurk passes to a HIT's preview
_LAYOUT = Template(files("openturk.web").joinpath("templates/worker_page.html").read_text("utf-8"))
# Our own pages run no script and post only to this server; the requester's HTMLContent gets no CSP.
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-src http: https:; form-action 'self'"
    ),
}
# What a requester's HTMLContent may do: run scripts, post its form, open windows and dialogs; it gets an
# opaque origin of its own, never this server's (see the module's docstring).
_CONTENT_SANDBOX = "allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals"
_CONTENT_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": f"sandbox {_CONTENT_SANDBOX}",
}
_NOT_SUBMITTED = "Your work was not submitted"
_NOT_RETURNED = "The HIT was not returned"
_CANNOT_SHOW = "This task cannot be shown"
_STATUS_TEXT = {
    "Submitted": "You have submitted this assignment; it is waiting for the requester's review.",
    "Approved": "This assignment was approved and its reward paid.",
    "Rejected": "The requester rejected this assignment.",
    "Returned": "You returned this assignment.",
    "Abandoned": "The time allotted to this assignment ran out before it was submitted.",
}


class TaskIds(Protocol):
    """The ids MTurk passes to a task: an accepted assignment's (``Task``, ``Accepted``) or a preview's."""

    @property
    def assignment_id(self) -> str: ...
    @property
    def hit_id(self) -> str: ...
    @property
    def worker_id(self) -> str: ...


class ShownTask(TaskIds, Protocol):
    """What rendering a question needs: the ids and the question (a ``Task``, or a HIT in preview)."""

    @property
    def question(self) -> Question: ...


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str, status: int = 200, kind: str = "task") -> HTMLResponse:
    page = _LAYOUT.substitute(title=_e(title), body=body, kind=kind)
    return HTMLResponse(page, status_code=status, headers=_HEADERS)


def _message(title: str, message: str, status: int, kind: str = "error") -> HTMLResponse:
    return _page(title, f'<h1>{_e(title)}</h1><p class="message">{_e(message)}</p>', status, kind)


def _error(title: str, exc: OpenTurkError) -> HTMLResponse:
    status = 404 if isinstance(exc, DoesNotExistError) else 400
    body = f'<h1>{_e(title)}</h1><p class="message">{_e(exc.message)}</p>'
    if (state := exc.data.get("AssignmentStatus")) is not None:
        body += f"<p>This assignment is {_e(state)}, not Accepted: it can no longer be submitted.</p>"
    return _page(title, body, status, "error")


def _origin() -> str:
    """This server as the browser reached it (or OPENTURK_PUBLIC_URL): the turkSubmitTo of our pages."""
    return base_url()


def with_mturk_params(url: str, task: TaskIds, submit_to: str) -> str:
    """``url`` with MTurk's four query parameters appended (before any #fragment); an anonymous
    preview has no worker, and its address no workerId."""
    base, hash_sign, fragment = url.partition("#")
    params = {"assignmentId": task.assignment_id, "hitId": task.hit_id, "workerId": task.worker_id}
    query = urlencode({**{k: v for k, v in params.items() if v}, "turkSubmitTo": submit_to})
    return f"{base}{'&' if '?' in base else '?'}{query}{hash_sign}{fragment}"


# --- HTMLQuestion: fill in assignmentId and point the form at this server ----------------------------


def _posts_to_mturk(action: str | None) -> bool:
    try:
        path = urlsplit((action or "").strip()).path
    except ValueError:
        return False
    return path.rstrip("/").endswith(SUBMIT_PATH)


class _SubmitTags(HTMLParser):
    """Finds the start tags to rewrite, with their position; script and style bodies are not looked in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[tuple[int, int], str, str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        is_id_input = tag == "input" and named.get("name") == "assignmentId"
        is_mturk_form = tag == "form" and (
            _posts_to_mturk(named.get("action")) or "mturk_form" in (named.get("name"), named.get("id"))
        )
        if is_id_input or is_mturk_form:
            self.found.append((self.getpos(), self.get_starttag_text() or "", tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _rebuild(tag: str, attrs: list[tuple[str, str | None]], key: str, value: str, raw: str) -> str:
    pairs = [(k, value if k == key else v) for k, v in attrs]
    if all(k != key for k, _ in attrs):
        pairs.append((key, value))
    text = "".join(f" {k}" if v is None else f' {k}="{_e(v)}"' for k, v in pairs)
    return f"<{tag}{text}{' /' if raw.rstrip().endswith('/>') else ''}>"


def fill_html_content(content: str, assignment_id: str, submit_url: str) -> str:
    """The HTMLContent with every ``assignmentId`` input's value set and MTurk forms posting to us."""
    finder = _SubmitTags()
    finder.feed(content)
    finder.close()
    line_starts = [0] + [i + 1 for i, char in enumerate(content) if char == "\n"]
    pieces: list[str] = []
    done = 0
    for (line, column), raw, tag, attrs in finder.found:
        start = line_starts[line - 1] + column
        if not raw or start < done or content[start : start + len(raw)] != raw:
            continue
        key, value = ("value", assignment_id) if tag == "input" else ("action", submit_url)
        pieces += [content[done:start], _rebuild(tag, attrs, key, value, raw)]
        done = start + len(raw)
    pieces.append(content[done:])
    return "".join(pieces)


# --- The task page ------------------------------------------------------------------------------------


def _terms(task: Task) -> str:
    rows = (
        ("Reward", formatted_price(task.reward_cents)),
        ("Status", task.status),
        ("Deadline", task.deadline.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("HIT", task.hit_id),
        ("Assignment", task.assignment_id),
        ("Worker", task.worker_id),
    )
    return terms_block(task.title, task.description, rows)


def terms_block(title: str, description: str, rows: tuple[tuple[str, object], ...]) -> str:
    """The heading of a HIT's pages: its title and description, then its terms as a definition list."""
    terms = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    head = f'<h1>{_e(title)}</h1><p class="description">{_e(description)}</p>'
    return f'{head}<dl class="terms">{terms}</dl>'


def _frame(src: str, height: int | None, *, sandboxed: bool = False) -> str:
    # FrameHeight 0: "your HIT will automatically resize to fit within the Worker's browser window".
    size = f"{int(height)}px" if height else "85vh"
    sandbox = f' sandbox="{_CONTENT_SANDBOX}"' if sandboxed else ""
    return f'<iframe class="task" title="Task" src="{_e(src)}"{sandbox} style="height: {size}"></iframe>'


def question_html(task: ShownTask, submit_to: str, content_path: str = "/mturk/task/content") -> str:
    """The question as the task page shows it: ExternalURL or ``content_path`` (where the HTMLContent
    is served) in an iframe with MTurk's four parameters, or a QuestionForm as a form."""
    question = task.question
    if question.kind is QuestionKind.EXTERNAL and question.external_url is not None:
        return _frame(with_mturk_params(question.external_url, task, submit_to), question.frame_height)
    if question.kind is QuestionKind.HTML:
        source = with_mturk_params(content_path, task, submit_to)
        return _frame(source, question.frame_height, sandboxed=True)
    return question_form_html(task, submit_to + SUBMIT_PATH)


def task_page_html(task: Task, submit_to: str) -> str:
    body = _terms(task)
    if task.status != "Accepted":
        text = _STATUS_TEXT.get(task.status, f"This assignment is {task.status}.")
        body += f'<p class="message">{_e(text)}</p>'
        if task.requester_feedback and task.status in ("Approved", "Rejected"):
            body += f'<p class="feedback">The requester wrote: <q>{_e(task.requester_feedback)}</q></p>'
        return body
    give_back = (
        f'<form method="post" action="{RETURN_PATH}" class="return">'
        f'<input type="hidden" name="assignmentId" value="{_e(task.assignment_id)}">'
        '<button type="submit">Return this HIT</button></form>'
    )
    return body + question_html(task, submit_to) + give_back


# --- For the other worker pages (``market_pages``): the same layout, escaping and errors -------------


def escape(value: object) -> str:
    return _e(value)


def render_page(title: str, body: str, status: int = 200, kind: str = "task") -> HTMLResponse:
    return _page(title, body, status, kind)


def message_page(title: str, message: str, status: int) -> HTMLResponse:
    return _message(title, message, status)


def error_page(title: str, exc: OpenTurkError) -> HTMLResponse:
    return _error(title, exc)


def origin() -> str:
    return _origin()


async def form_fields(request: Request, title: str, *names: str) -> dict[str, str] | Response:
    """The named text fields of a posted form ("" for one absent, or a file), or the error page titled
    ``title`` for a body Starlette cannot read."""
    try:
        async with request.form() as form:
            return {name: value if isinstance(value := form.get(name), str) else "" for name in names}
    except HTTPException as exc:  # Starlette's answer to a malformed body
        return _message(title, f"The form could not be read: {exc.detail}", 400)


def html_content_response(task: ShownTask) -> HTMLResponse | None:
    """The HIT's HTMLContent served as MTurk serves it (see ``fill_html_content``); None if it has none."""
    content = task.question.html_content
    if task.question.kind is not QuestionKind.HTML or content is None:
        return None
    filled = fill_html_content(content, task.assignment_id, _origin() + SUBMIT_PATH)
    return HTMLResponse(filled, headers=_CONTENT_HEADERS)


# --- Routes -------------------------------------------------------------------------------------------


def worker_routes(workers: WorkerService) -> list[Route]:
    async def load_task(request: Request) -> Task | Response:
        assignment_id = request.query_params.get("assignmentId", "")
        if not assignment_id:
            return _message(_CANNOT_SHOW, "The address has no assignmentId parameter.", 400)
        try:
            task: Task = await run_in_threadpool(workers.task, assignment_id)
        except OpenTurkError as exc:
            return _error(_CANNOT_SHOW, exc)
        return task

    async def task_page(request: Request) -> Response:
        task = await load_task(request)
        if isinstance(task, Response):
            return task
        return _page(task.title, task_page_html(task, _origin()))

    async def task_content(request: Request) -> Response:
        task = await load_task(request)
        if isinstance(task, Response):
            return task
        if task.status != "Accepted":
            return _page(task.title, task_page_html(task, _origin()))
        served = html_content_response(task)
        if served is None:
            return _message(_CANNOT_SHOW, f"HIT {task.hit_id} has no HTMLContent.", 404)
        return served

    async def external_submit(request: Request) -> Response:
        try:
            async with request.form() as form:  # uploaded files stay readable until this block ends
                fields = form.multi_items()
                pairs = [(name, value) for name, value in fields if isinstance(value, str)]
                # A file input left empty is posted as a part with no filename: no answer.
                files = [
                    IncomingFile(name, value.filename, value.content_type, value.file)
                    for name, value in fields
                    if isinstance(value, UploadFile) and value.filename
                ]
                return await submit_form(pairs, files)
        except HTTPException as exc:  # Starlette's answer to a malformed body
            return _message(_NOT_SUBMITTED, f"The form could not be read: {exc.detail}", 400)

    async def submit_form(pairs: list[tuple[str, str]], files: list[IncomingFile]) -> Response:
        assignment_id = next((value for name, value in pairs if name == "assignmentId"), "")
        if not assignment_id:
            return _message(_NOT_SUBMITTED, "The form has no assignmentId field.", 400)
        if assignment_id == PREVIEW_ASSIGNMENT_ID:
            return _message(_NOT_SUBMITTED, "This is a preview: accept the HIT before submitting.", 400)
        answers = [(name, value) for name, value in pairs if name != "assignmentId"]
        try:
            status: str = await run_in_threadpool(workers.submit, assignment_id, answers, files)
        except OpenTurkError as exc:
            return _error(_NOT_SUBMITTED, exc)
        body = (
            '<h1>Your work was submitted</h1><p class="message">Assignment '
            f"<code>{_e(assignment_id)}</code> is now {_e(status)}. Thank you.</p>"
        )
        return _page("Your work was submitted", body, 200, "done")

    async def return_task(request: Request) -> Response:
        fields = await form_fields(request, _NOT_RETURNED, "assignmentId")
        if isinstance(fields, Response):
            return fields
        assignment_id = fields["assignmentId"]
        if not assignment_id:
            return _message(_NOT_RETURNED, "The form has no assignmentId field.", 400)
        try:
            await run_in_threadpool(workers.return_assignment, assignment_id)
        except OpenTurkError as exc:
            return _error(_NOT_RETURNED, exc)
        return _message("You returned the HIT", _STATUS_TEXT["Returned"], 200, "done")

    routes: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        (SUBMIT_PATH, external_submit, "POST"),
        (RETURN_PATH, return_task, "POST"),
        ("/mturk/task", task_page, "GET"),
        ("/mturk/task/content", task_content, "GET"),
    ]
    return [Route(path, endpoint, methods=[method]) for path, endpoint, method in routes]
