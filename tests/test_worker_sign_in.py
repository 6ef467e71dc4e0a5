"""Worker sign-in: where the worker pages require it, a workerId in an address or a form acts as nobody;
a worker's sign-in link (``openturk worker sign-in-link``) gives a session cookie that acts as that
worker alone; a server reachable beyond loopback requires it unless told otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.hit_support import cli, hit_args, new_worker
from tests.support import HTTP, RunningServer, start_server
from tests.test_market_pages import counts
from tests.test_worker_pages import PageReader, assert_html, post_form

COOKIE = "openturk_worker"


@pytest.fixture
def guarded(db_url: str) -> Iterator[RunningServer]:
    running = start_server(db_url, env={"OPENTURK_WORKER_SIGN_IN": "required"})
    yield running
    running.stop()


def sign_in_link(server: RunningServer, worker: str) -> str:
    link = str(cli(server, "worker", "sign-in-link", worker)["sign_in_url"])
    parts = urlsplit(link)
    assert parts.path == "/mturk/signin"
    return f"{server.url}{parts.path}?{parts.query}"


def a_hit(server: RunningServer) -> tuple[Any, str]:
    client = server.client(server.requester())
    return client, str(client.create_hit(**hit_args())["HIT"]["HITId"])


def test_without_a_sign_in_a_worker_id_acts_as_nobody(guarded: RunningServer) -> None:
    client, hit_id = a_hit(guarded)
    alice = new_worker(guarded, "alice")
    listing = HTTP.get(f"{guarded.url}/mturk/hits", params={"workerId": alice}, follow_redirects=False)
    assert listing.status_code == 303
    assert urlsplit(listing.headers["location"]).path == "/mturk/signin"
    refused = post_form(f"{guarded.url}/mturk/accept", [("hitId", hit_id), ("workerId", alice)])
    assert_html(refused, 401, "Sign in")
    assert counts(client, hit_id) == (3, 0)
    # A preview is an anonymous visitor's: no Accept form naming alice, a way to sign in instead.
    page = HTTP.get(f"{guarded.url}/mturk/preview", params={"hitId": hit_id, "workerId": alice})
    assert_html(page, 200, "Sign in to accept")
    assert PageReader(page.text).forms == []
    assert alice not in page.text


def test_a_sign_in_link_acts_as_its_worker_and_no_one_else(guarded: RunningServer) -> None:
    client, hit_id = a_hit(guarded)
    alice, bob = new_worker(guarded, "alice"), new_worker(guarded, "bob")
    link = sign_in_link(guarded, alice)
    with httpx.Client(timeout=30) as browser:
        forged = browser.get(link.replace(alice, bob), follow_redirects=False)
        assert_html(forged, 403, "do not match")
        assert COOKIE not in browser.cookies
        signed_in = browser.get(link, follow_redirects=False)
        assert signed_in.status_code == 303
        cookie = signed_in.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
        listing = browser.get(f"{guarded.url}/mturk/hits")
        assert_html(listing, 200, f"HITs for worker {alice}")
        assert_html(
            browser.get(f"{guarded.url}/mturk/hits", params={"workerId": bob}), 403, f"signed in as {alice}"
        )
        as_bob = browser.post(f"{guarded.url}/mturk/accept", data={"hitId": hit_id, "workerId": bob})
        assert_html(as_bob, 403, f"signed in as {alice}")
        assert counts(client, hit_id) == (3, 0)
        accepted = browser.post(f"{guarded.url}/mturk/accept", data={"hitId": hit_id}, follow_redirects=False)
        assert accepted.status_code == 303, accepted.text
        assignment = dict(httpx.URL(accepted.headers["location"]).params)["assignmentId"]
        assert guarded.services.workers.task(assignment).worker_id == alice

        # A session for bob made from alice's signature is no session at all.
        session = browser.cookies[COOKIE]
        browser.cookies.set(COOKIE, session.replace(alice, bob), domain="127.0.0.1", path="/mturk")
        assert browser.get(f"{guarded.url}/mturk/hits", follow_redirects=False).status_code == 303
        browser.cookies.set(COOKIE, session, domain="127.0.0.1", path="/mturk")
        browser.post(f"{guarded.url}/mturk/signout")
        assert browser.get(f"{guarded.url}/mturk/hits", follow_redirects=False).status_code == 303
    assert counts(client, hit_id) == (2, 1)


def test_the_sign_in_form_takes_the_id_and_key(guarded: RunningServer) -> None:
    alice = new_worker(guarded, "alice")
    key = dict(httpx.URL(sign_in_link(guarded, alice)).params)["key"]
    form = PageReader(HTTP.get(f"{guarded.url}/mturk/signin").text).forms[0]
    assert (form.method, form.action) == ("post", "/mturk/signin")
    with httpx.Client(timeout=30) as browser:
        wrong = browser.post(f"{guarded.url}/mturk/signin", data={"workerId": alice, "key": "nope"})
        assert_html(wrong, 403, "do not match")
        unknown = browser.post(f"{guarded.url}/mturk/signin", data={"workerId": "ANOSUCH", "key": key})
        assert_html(unknown, 403, "do not match")
        done = browser.post(
            f"{guarded.url}/mturk/signin", data={"workerId": alice, "key": key}, follow_redirects=True
        )
        assert_html(done, 200, f"HITs for worker {alice}")


def test_serving_beyond_loopback_requires_a_sign_in_unless_told_otherwise(db_url: str) -> None:
    exposed = start_server(db_url, args=("--host", "0.0.0.0"))  # noqa: S104 - the point of the test
    try:
        alice = new_worker(exposed, "alice")
        listing = HTTP.get(f"{exposed.url}/mturk/hits", params={"workerId": alice}, follow_redirects=False)
        assert listing.status_code == 303
    finally:
        exposed.stop()
    trusted = start_server(db_url, args=("--host", "0.0.0.0"), env={"OPENTURK_WORKER_SIGN_IN": "off"})  # noqa: S104
    try:
        assert_html(
            HTTP.get(f"{trusted.url}/mturk/hits", params={"workerId": alice}), 200, f"HITs for worker {alice}"
        )
    finally:
        trusted.stop()
