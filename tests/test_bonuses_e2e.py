"""SendBonus and ListBonusPayments end to end: real boto3, real server processes, one real SQLite file."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openturk.money import format_amount, parse_cents
from openturk.service.records import HitSpec, HitTypeSpec
from tests.hit_support import EXTERNAL, accept_and_submit, balance, cli, hit_args, new_worker
from tests.support import RunningServer, mturk_client, start_server

TARGET = "MTurkRequesterServiceV20170117."


def submitted_assignment(server: RunningServer, client: Any, **hit: Any) -> tuple[str, str, str]:
    hit_id = client.create_hit(**hit_args(**hit))["HIT"]["HITId"]
    worker = new_worker(server)
    return hit_id, worker, accept_and_submit(server, hit_id, worker, answer="done")


def request_error(call: Callable[[], object]) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call()
    error: dict[str, Any] = info.value.response["Error"]
    return error


def test_a_bonus_costs_the_bonus_plus_its_fee_and_is_listed(server: RunningServer) -> None:
    client = server.client(server.requester(balance_cents=10_000))
    hit_id, worker, assignment = submitted_assignment(server, client, Reward="0.00", MaxAssignments=1)
    assert balance(client) == "100.00"
    response = client.send_bonus(
        WorkerId=worker, AssignmentId=assignment, BonusAmount="5", Reason="Great work!"
    )
    assert set(response) == {"ResponseMetadata"}
    assert balance(client) == "94.00"
    payments = client.list_bonus_payments(HITId=hit_id)
    assert payments["NumResults"] == 1
    payment = payments["BonusPayments"][0]
    assert payment["WorkerId"] == worker
    assert payment["BonusAmount"] == "5.00"
    assert payment["AssignmentId"] == assignment
    assert payment["Reason"] == "Great work!"
    assert payment["GrantTime"].tzinfo is not None
    assert client.list_bonus_payments(AssignmentId=assignment)["BonusPayments"] == [payment]
    both = client.list_bonus_payments(HITId=hit_id, AssignmentId=assignment)
    assert both["BonusPayments"] == [payment]
    # A HITId given with the AssignmentId is not ignored: another HIT lists nothing, none is an error.
    other_hit = client.create_hit(**hit_args())["HIT"]["HITId"]
    assert client.list_bonus_payments(HITId=other_hit, AssignmentId=assignment)["NumResults"] == 0
    with pytest.raises(ClientError, match="does not exist"):
        client.list_bonus_payments(HITId="NOSUCHHIT", AssignmentId=assignment)
    earnings = cli(server, "worker", "earnings", worker)
    assert earnings["bonuses"] == "5.00"
    assert earnings["payments"][0]["kind"] == "bonus"
    assert earnings["payments"][0]["reason"] == "Great work!"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.integers(min_value=1, max_value=500_000), spelled=st.sampled_from(["plain", "short", "dot"]))
def test_bonus_amounts_and_fees_to_the_cent(server: RunningServer, cents: int, spelled: str) -> None:
    lab = server.requester(balance_cents=10_000_000)
    client = server.client(lab)
    _, worker, assignment = bonus_target(server, lab)
    text = format_amount(cents)
    if spelled == "short" and text.endswith("0"):
        text = text.rstrip("0")  # "5.50" as "5.5", "5.00" as "5."
    elif spelled == "dot" and text.endswith(".00"):
        text = text[:-3]  # "5"
    assert parse_cents(text) == cents
    before = parse_cents(balance(client))
    client.send_bonus(WorkerId=worker, AssignmentId=assignment, BonusAmount=text, Reason="r")
    fee = max(int((Decimal(cents) * Decimal("0.20")).quantize(Decimal(1), rounding=ROUND_HALF_UP)), 1)
    assert before - parse_cents(balance(client)) == cents + fee


_TARGETS: dict[str, tuple[str, str, str]] = {}


def bonus_target(server: RunningServer, lab: Any) -> tuple[str, str, str]:
    """One submitted assignment per requester, made through the service layer to keep examples fast."""

    if lab.access_key_id not in _TARGETS:
        services = server.services
        hit = services.hits.create_hit(
            lab.requester.id, HitTypeSpec("t", "d", 0, 60), HitSpec(EXTERNAL, 3600), request_id="setup"
        )
        worker = services.workers.create("w").id
        assignment = services.workers.accept(hit.id, worker).assignment_id
        services.workers.submit(assignment, [("a", "b")])
        _TARGETS[lab.access_key_id] = (hit.id, worker, assignment)
    return _TARGETS[lab.access_key_id]


def test_refused_bonuses_move_no_money(server: RunningServer) -> None:
    lab = server.requester(balance_cents=599)
    client = server.client(lab)
    strict = server.client(lab, validate=False)
    hit_id, worker, assignment = bonus_target(server, lab)
    accepted_only = server.services.workers.accept(
        server.services.hits.create_hit(lab.requester.id, *_spec(), request_id="setup").id, worker
    ).assignment_id
    other = server.requester("other")
    _, other_worker, other_assignment = bonus_target(server, other)
    cases = {
        "unknown": (
            lambda: client.send_bonus(WorkerId=worker, AssignmentId="A" * 30, BonusAmount="1", Reason="r"),
            "does not exist",
        ),
        "not submitted": (
            lambda: client.send_bonus(
                WorkerId=worker, AssignmentId=accepted_only, BonusAmount="1", Reason="r"
            ),
            "does not exist",
        ),
        "another requester's": (
            lambda: client.send_bonus(
                WorkerId=other_worker, AssignmentId=other_assignment, BonusAmount="1", Reason="r"
            ),
            "does not exist",
        ),
        "wrong worker": (
            lambda: client.send_bonus(
                WorkerId="AWRONGWORKER1", AssignmentId=assignment, BonusAmount="1", Reason="r"
            ),
            'The value "AWRONGWORKER1" is not valid for the parameter WorkerId.',
        ),
        "insufficient": (
            lambda: client.send_bonus(WorkerId=worker, AssignmentId=assignment, BonusAmount="5", Reason="r"),
            "insufficient funds",
        ),
        "zero": (
            lambda: client.send_bonus(WorkerId=worker, AssignmentId=assignment, BonusAmount="0", Reason="r"),
            "at least 0.01",
        ),
        "huge": (
            lambda: client.send_bonus(
                WorkerId=worker, AssignmentId=assignment, BonusAmount="9" * 30, Reason="r"
            ),
            "largest amount",
        ),
        "no filter": (lambda: client.list_bonus_payments(), "Either the HITId parameter or the AssignmentId"),
        "no reason": (
            lambda: client.send_bonus(WorkerId=worker, AssignmentId=assignment, BonusAmount="1", Reason=" "),
            "The Reason must not be empty",
        ),
    }
    for name, (call, text) in cases.items():
        error = request_error(call)
        assert error["Code"] == "RequestError", name
        assert text in error["Message"], (name, error)
    for amount in ("0.9752", "-1", "$5"):
        with pytest.raises(ClientError) as info:
            strict.send_bonus(WorkerId=worker, AssignmentId=assignment, BonusAmount=amount, Reason="r")
        assert info.value.response["Error"]["Code"] == "ValidationException"
        assert f"Value '{amount}' at 'bonusAmount'" in info.value.response["Error"]["Message"]
    error = request_error(
        lambda: strict.send_bonus(WorkerId=worker, AssignmentId=assignment, BonusAmount="1")
    )
    assert "Value null at 'reason' failed to satisfy constraint: Member must not be null" in error["Message"]
    assert balance(client) == "5.99"
    assert client.list_bonus_payments(HITId=hit_id)["NumResults"] == 0
    # 5.99 covers exactly 4.99 + 1.00 of fee.
    client.send_bonus(WorkerId=worker, AssignmentId=assignment, BonusAmount="4.99", Reason="all of it")
    assert balance(client) == "0.00"


def _spec() -> tuple[HitTypeSpec, HitSpec]:

    return HitTypeSpec("t2", "d", 0, 60), HitSpec(EXTERNAL, 3600)


def test_a_token_pays_once_within_24_hours_and_again_after(server: RunningServer) -> None:
    lab = server.requester(balance_cents=10_000)
    client = server.client(lab)
    _, worker, assignment = bonus_target(server, lab)
    token = f"{worker}_{assignment}"
    assert len(token) <= 64
    first = client.send_bonus(
        WorkerId=worker, AssignmentId=assignment, BonusAmount="1", Reason="r", UniqueRequestToken=token
    )
    first_id = first["ResponseMetadata"]["RequestId"]
    error = request_error(
        lambda: client.send_bonus(
            WorkerId=worker, AssignmentId=assignment, BonusAmount="1", Reason="r", UniqueRequestToken=token
        )
    )
    assert error["Code"] == "RequestError"
    assert first_id in error["Message"]
    assert balance(client) == "98.80"
    cli(server, "clock", "advance", "23h")
    request_error(
        lambda: client.send_bonus(
            WorkerId=worker, AssignmentId=assignment, BonusAmount="1", Reason="r", UniqueRequestToken=token
        )
    )
    assert balance(client) == "98.80"
    cli(server, "clock", "advance", "1h")
    client.send_bonus(
        WorkerId=worker, AssignmentId=assignment, BonusAmount="1", Reason="r", UniqueRequestToken=token
    )
    assert balance(client) == "97.60"
    assert cli(server, "ledger", "audit")["ok"] is True


def race(clients: list[Any], calls: int, send: Callable[[Any, int], None]) -> tuple[int, list[str]]:
    barrier = threading.Barrier(calls)
    paid, errors = [0], []
    lock = threading.Lock()

    def one(i: int) -> None:
        barrier.wait()
        try:
            send(clients[i % len(clients)], i)
        except ClientError as error:
            with lock:
                errors.append(error.response["Error"]["Message"])
        else:
            with lock:
                paid[0] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return paid[0], errors


@pytest.mark.parametrize("processes", [1, 2])
def test_racing_threads_never_overdraw_a_balance_that_fits_ten_bonuses(
    server: RunningServer, processes: int
) -> None:
    lab = server.requester(balance_cents=1_200)
    _, worker, assignment = bonus_target(server, lab)
    servers = [server] + [start_server(server.db_url) for _ in range(processes - 1)]
    try:
        clients = [
            mturk_client(s.url, lab.access_key_id, lab.secret_access_key) for s in servers for _ in range(4)
        ]
        paid, errors = race(
            clients,
            40,
            lambda c, i: c.send_bonus(
                WorkerId=worker,
                AssignmentId=assignment,
                BonusAmount="1.00",
                Reason=f"r{i}",
                UniqueRequestToken=f"race-{processes}-{i}",
            ),
        )
    finally:
        for extra in servers[1:]:
            extra.stop()
    assert paid == 10
    assert len(errors) == 30
    assert all("insufficient funds" in e for e in errors), errors[:3]
    assert balance(clients[0]) == "0.00"
    assert cli(server, "ledger", "audit")["ok"] is True


def test_racing_one_token_pays_once(server: RunningServer) -> None:
    lab = server.requester(balance_cents=100_000)
    _, worker, assignment = bonus_target(server, lab)
    second = start_server(server.db_url)
    try:
        clients = [mturk_client(s.url, lab.access_key_id, lab.secret_access_key) for s in (server, second)]
        paid, errors = race(
            clients,
            20,
            lambda c, i: c.send_bonus(
                WorkerId=worker,
                AssignmentId=assignment,
                BonusAmount="2",
                Reason="once",
                UniqueRequestToken="one-click",
            ),
        )
    finally:
        second.stop()
    assert (paid, len(errors)) == (1, 19)
    assert all("has already been processed" in e for e in errors)
    assert balance(clients[0]) == "997.60"


def test_paging_through_1000_bonuses_while_more_arrive(server: RunningServer) -> None:
    lab = server.requester(balance_cents=10_000_000)
    client = server.client(lab)
    hit_id, worker, assignment = bonus_target(server, lab)
    for i in range(1000):
        server.services.bonuses.send(
            lab.requester.id, worker, assignment, 1, f"b{i:04d}", None, request_id=f"r{i}"
        )
    seen: list[str] = []
    token = None
    extra = 0
    while True:
        page = client.list_bonus_payments(
            HITId=hit_id, MaxResults=100, **({"NextToken": token} if token else {})
        )
        if not page["BonusPayments"]:
            assert "NextToken" not in page
            break
        seen += [p["Reason"] for p in page["BonusPayments"]]
        token = page["NextToken"]
        if extra < 3:  # new bonuses arrive while the client pages
            client.send_bonus(
                WorkerId=worker, AssignmentId=assignment, BonusAmount="0.01", Reason=f"late{extra}"
            )
            extra += 1
    assert seen == [f"b{i:04d}" for i in range(1000)] + ["late0", "late1", "late2"]


def test_ledger_export_lists_every_movement(server: RunningServer, tmp_path: Any) -> None:
    out = tmp_path / "ledger.csv"
    result = cli(server, "ledger", "export", "--csv", str(out))
    lines = out.read_text().splitlines()
    assert lines[0].startswith("entry_id,time,kind,debit_account,credit_account,amount")
    assert result["rows"] == len(lines) - 1 > 0
    assert any(",bonus," in line for line in lines)
    assert json.loads(json.dumps(result))["file"] == str(out)
