"""The scenarios: what each client sends, and how the ListBonusPayments page in the middle is found."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bench.bulk import Target
from bench.fixtures import Fixture, open_db
from bench.inprocess import bonus_params
from bench.load import Job
from bench.servers import HOST
from bench.signing import Signer
from openturk.service.paging import PageTokens, Position
from openturk.storage.schema import bonuses, marketplace
from openturk.storage.types import to_micros

PAGE = 100
# The scenarios' names, as the tables show them and the ratios look them up.
CEILING = "ceiling (bare handler)"
BALANCE = "GetAccountBalance"
SEND = "SendBonus"
SEND_ONE = "SendBonus, 1 client"


@dataclass(frozen=True, slots=True)
class Timing:
    warmup_s: float
    duration_s: float


def ceiling(fixture: Fixture, port: int, timing: Timing) -> Job:
    """The very requests GetAccountBalance sends (signed, same headers and body), to the bare app."""
    return _job(CEILING, fixture, port, "GetAccountBalance", {}, timing)


def get_account_balance(fixture: Fixture, port: int, timing: Timing, *, name: str = BALANCE) -> Job:
    return _job(name, fixture, port, "GetAccountBalance", {}, timing)


def send_bonus(fixture: Fixture, port: int, timing: Timing, *, name: str, run: str) -> Job:
    return _job(
        name,
        fixture,
        port,
        "SendBonus",
        bonus_params(fixture.send),
        timing,
        unique_token_prefix=f"bench{run}",
    )


def list_page(fixture: Fixture, port: int, timing: Timing, *, name: str, hit_id: str, token: str) -> Job:
    params = {"HITId": hit_id, "MaxResults": PAGE, "NextToken": token}
    return _job(name, fixture, port, "ListBonusPayments", params, timing)


def _job(
    name: str,
    fixture: Fixture,
    port: int,
    operation: str,
    params: dict[str, Any],
    timing: Timing,
    *,
    unique_token_prefix: str | None = None,
) -> Job:
    return Job(
        name=name,
        port=port,
        operation=operation,
        params=params,
        access_key=fixture.access_key,
        secret=fixture.secret,
        warmup_s=timing.warmup_s,
        duration_s=timing.duration_s,
        unique_token_prefix=unique_token_prefix,
    )


@dataclass(frozen=True, slots=True)
class MiddlePage:
    hit_id: str
    bonuses: int
    rows_before: int  # the page timed is rows rows_before+1 .. rows_before+100, in grant order
    how: str  # "walked" or "computed"
    pages_walked: int
    token: str
    seconds: float


def walk_to_middle(db_url: str, target: Target, total: int) -> MiddlePage:
    """Follow NextToken from the first page through the service layer in this process (the same code and
    the same signed tokens the server uses) and stop before the page in the middle."""
    services = open_db(db_url)
    pages = max(1, (total // PAGE) // 2)
    started = time.perf_counter()
    token: str | None = None
    try:
        for _ in range(pages):
            page = services.bonuses.list_payments(target.requester_id, target.hit_id, None, token, PAGE)
            if page.next_token is None or len(page) != PAGE:
                raise RuntimeError(f"HIT {target.hit_id} ran out of bonuses before page {pages}")
            token = page.next_token
    finally:
        services.close()
    assert token is not None
    return MiddlePage(
        target.hit_id, total, pages * PAGE, "walked", pages, token, time.perf_counter() - started
    )


def compute_middle(db_url: str, target: Target, total: int) -> MiddlePage:
    """The NextToken a walk would reach, made directly: walking to the middle of a million bonuses means
    thousands of pages, and each page costs the server time proportional to its depth today (see the
    report), so the walk alone would take minutes.  The token is OpenTurk's own (PageTokens, the key in the
    database, the scope BonusService uses) for the last row of the page before; it is checked by walking
    one page from the token before it, which must hand back exactly this token."""
    pages = max(1, (total // PAGE) // 2)
    started = time.perf_counter()
    services = open_db(db_url)
    try:
        with services.db.read() as conn:
            key = conn.execute(select(marketplace.c.token_key)).scalar_one()
            last = _nth_row(conn, target.hit_id, pages * PAGE)
            before = _nth_row(conn, target.hit_id, (pages - 1) * PAGE) if pages > 1 else None
        tokens = PageTokens(key)
        scope = f"ListBonusPayments/2:{target.requester_id}:H:{target.hit_id}"
        token = tokens.encode(scope, last)
        previous = None if before is None else tokens.encode(scope, before)
        check = services.bonuses.list_payments(target.requester_id, target.hit_id, None, previous, PAGE)
    finally:
        services.close()
    if check.next_token != token:
        raise RuntimeError("the computed NextToken is not the one the service hands out: walk instead")
    return MiddlePage(target.hit_id, total, pages * PAGE, "computed", 1, token, time.perf_counter() - started)


def _nth_row(conn: Connection, hit_id: str, number: int) -> Position:
    """The ordering key of row ``number`` (1-based) of the HIT's bonuses in grant order."""
    row = conn.execute(
        select(bonuses.c.granted_at, bonuses.c.entry_id)
        .where(bonuses.c.hit_id == hit_id)
        .order_by(bonuses.c.granted_at, bonuses.c.entry_id)
        .limit(1)
        .offset(number - 1)
    ).one()
    return Position(to_micros(row.granted_at), str(row.entry_id))


def check_page(fixture: Fixture, port: int, hit_id: str, token: str) -> int:
    """One ListBonusPayments over HTTP: the page must answer 200 with a full page."""
    signer = Signer(fixture.access_key, fixture.secret, HOST, port)
    request = signer.prepare("ListBonusPayments", {"HITId": hit_id, "MaxResults": PAGE, "NextToken": token})
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("POST", "/", body=request.body, headers=request.headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"ListBonusPayments answered {response.status}: {body[:300]!r}")
    answer = json.loads(body)
    count = int(answer["NumResults"])
    if count != PAGE or not answer.get("NextToken"):
        raise RuntimeError(f"expected a full page of {PAGE} with a NextToken, got {count}")
    return count
