"""Signing a worker in to the worker pages, and who is asking (``service.worker_sign_in``).

* ``GET /mturk/signin?workerId=..&key=..``: the link ``openturk worker sign-in-link`` prints; signs the
  worker in and sends them to their HITs.  Without the two parameters, a form asking for them.
* ``POST /mturk/signin`` (form fields ``workerId``, ``key``): the same from the form.
* ``POST /mturk/signout``: forgets the session.

The session is a cookie for the worker pages only (``Path=/mturk``), not readable by scripts
(``HttpOnly``), not sent with other sites' posts (``SameSite=Lax``: a page elsewhere cannot accept HITs
in the worker's name).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from openturk.errors import OpenTurkError
from openturk.service.services import Services
from openturk.service.worker_sign_in import SESSION_LIFETIME_S
from openturk.web.worker_pages import escape, form_fields, message_page, render_page

SIGN_IN_PATH = "/mturk/signin"
SIGN_OUT_PATH = "/mturk/signout"
COOKIE = "openturk_worker"
_HITS_PATH = "/mturk/hits"
_NOT_SIGNED_IN = "You are not signed in"
_SIGN_IN_FORM = (
    "<h1>Sign in</h1>"
    f'<form method="post" action="{SIGN_IN_PATH}" class="sign-in">'
    '<p><label>Worker ID <input type="text" name="workerId" required></label></p>'
    '<p><label>Sign-in key <input type="password" name="key" required></label></p>'
    '<p><button type="submit">Sign in</button></p></form>'
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who the worker pages act for: a worker, or an anonymous visitor (None).  ``by_session``: the
    pages require a sign-in, so the worker comes from the session and no address or form names one."""

    worker_id: str | None
    by_session: bool


def viewer(services: Services, request: Request, named: str | None) -> Viewer | Response:
    """The viewer of a request whose address or form names ``named`` as the worker.  Where a sign-in
    is required, the session decides, and naming another worker is refused."""
    if not services.settings.worker_sign_in:
        return Viewer(named or None, by_session=False)
    signed_in = services.worker_sign_in.worker_of(request.cookies.get(COOKIE), int(time.time()))
    if named and signed_in is not None and named != signed_in:
        return message_page(
            "Another worker's page",
            f"You are signed in as {signed_in}: these pages act for {signed_in} alone.",
            403,
        )
    return Viewer(signed_in, by_session=True)


def not_signed_in(action: str) -> Response:
    link = f'<a href="{SIGN_IN_PATH}">Sign in</a>'
    body = f'<h1>{_NOT_SIGNED_IN}</h1><p class="message">{link} to {escape(action)}.</p>'
    return render_page(_NOT_SIGNED_IN, body, 401, "error")


def sign_in_routes(services: Services) -> list[Route]:
    async def sign_in(worker_id: str, key: str) -> Response:
        try:
            session: str = await run_in_threadpool(
                services.worker_sign_in.sign_in, worker_id, key, int(time.time())
            )
        except OpenTurkError:  # a wrong key and an unknown worker look alike
            return message_page("Not signed in", "The worker id and sign-in key do not match.", 403)
        response = RedirectResponse(_HITS_PATH, status_code=303)
        response.set_cookie(
            COOKIE, session, max_age=SESSION_LIFETIME_S, path="/mturk", httponly=True, samesite="lax"
        )
        return response

    async def sign_in_page(request: Request) -> Response:
        worker_id, key = request.query_params.get("workerId"), request.query_params.get("key")
        if worker_id and key:
            return await sign_in(worker_id, key)
        return render_page("Sign in", _SIGN_IN_FORM)

    async def sign_in_form(request: Request) -> Response:
        fields = await form_fields(request, "Not signed in", "workerId", "key")
        if isinstance(fields, Response):
            return fields
        return await sign_in(fields["workerId"], fields["key"])

    async def sign_out(request: Request) -> Response:
        response = RedirectResponse(SIGN_IN_PATH, status_code=303)
        response.delete_cookie(COOKIE, path="/mturk", httponly=True, samesite="lax")
        return response

    routes: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        (SIGN_IN_PATH, sign_in_page, "GET"),
        (SIGN_IN_PATH, sign_in_form, "POST"),
        (SIGN_OUT_PATH, sign_out, "POST"),
    ]
    return [Route(path, endpoint, methods=[method]) for path, endpoint, method in routes]
