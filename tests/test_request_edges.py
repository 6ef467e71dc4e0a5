"""The edges of the one endpoint both APIs share: oversized bodies are refused before they are read
whole or authenticated, HEAD runs no operation, and a worker's browser sent to a wrong address gets
a page."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

from openturk.protocol.bodies import MAX_BODY_BYTES
from tests.support import HTTP, RunningServer, signed_post
from tests.test_legacy_api import balance, bonus_params, legacy, submitted
from tests.test_worker_pages import assert_html

TARGET = "MTurkRequesterServiceV20170117.GetAccountBalance"


def chunks(total: int, size: int = 1 << 16) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


def test_an_oversized_json_body_is_refused_unread(server: RunningServer) -> None:
    who = server.requester()
    too_big = signed_post(server, who, TARGET, b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert too_big.status_code == 413
    assert too_big.json()["__type"] == "RequestEntityTooLargeException"
    assert signed_post(server, who, TARGET, b"{}").status_code == 200

    # Without a Content-Length (chunked), the bytes themselves are counted.
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        conn.request(
            "POST",
            "/",
            body=chunks(MAX_BODY_BYTES + 1),
            headers={"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        assert response.status == 413
        response.read()
    finally:
        conn.close()


def test_an_oversized_legacy_body_is_a_legacy_error(server: RunningServer) -> None:
    client = legacy(server, server.requester())
    form = client.signed("GetAccountBalance") | {"Junk": "x" * MAX_BODY_BYTES}
    response = HTTP.post(
        server.url + "/",
        content=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    # Refused before the operation is known: the error in OperationRequest, as an authentication one.
    assert "<Code>AWS.MechanicalTurk.InvalidParameterValue</Code>" in response.text
    assert "larger than 1048576 bytes" in response.text
    assert balance(client) == "10000.00"


def test_head_runs_no_operation(server: RunningServer) -> None:
    client = legacy(server, server.requester(balance_cents=10_000), method="GET")
    _hit_id, worker, assignment = submitted(server, client, reward="1.00")
    before = balance(client)
    bonus = bonus_params(worker, assignment)
    response = HTTP.head(server.url + "/", params=client.signed("GrantBonus", bonus))
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert balance(client) == before
    paid = client.ok("GetBonusPayments", {"AssignmentId": assignment}).root
    assert paid.findtext("GetBonusPaymentsResult/NumResults") == "0"


def test_a_worker_page_at_a_wrong_address_or_method_is_a_page(server: RunningServer) -> None:
    # A HIT's form without method="post" sends the worker here with GET.
    page = HTTP.get(server.url + "/mturk/externalSubmit", params={"assignmentId": "A1", "label": "cat"})
    assert_html(page, 405, "There is no page for GET /mturk/externalSubmit")
    assert page.headers["allow"] == "POST"
    assert_html(HTTP.get(server.url + "/mturk/nowhere"), 404, "There is no page for GET /mturk/nowhere")
    api = HTTP.get(server.url + "/nowhere")  # outside the worker pages: the API's own error
    assert api.status_code == 404
    assert api.json()["__type"] == "UnknownOperationException"
