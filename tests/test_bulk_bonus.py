"""``openturk bonus pay`` end to end: a real server process, real boto3 in a real CLI subprocess, real
SQLite; plus the row checks and token derivation on their own."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openturk.bulk_bonus import (
    ALREADY_PAID,
    FAILED,
    PAID,
    BonusRow,
    BulkBonusError,
    check_prefix,
    check_row,
    error_kind,
    read_batch,
    request_token,
    send_bonus,
)
from openturk.money import format_amount, parse_cents
from openturk.service.accounts import NewRequester
from openturk.service.records import HitSpec, HitTypeSpec
from tests.hit_support import EXTERNAL, cli
from tests.support import RunningServer, free_port, mturk_client, openturk_argv, run_cli

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HEADER = ("WorkerId", "AssignmentId", "BonusAmount", "Reason")


def fee(cents: int) -> int:
    """MTurk's bonus commission, computed here independently: 20% rounded half-up, at least a cent."""
    return max((cents * 20 + 50) // 100, 1)


@dataclass
class Study:
    lab: NewRequester
    client: Any
    hit_id: str
    pairs: list[tuple[str, str]]  # (worker, submitted assignment)

    def balance(self) -> int:
        return parse_cents(self.client.get_account_balance()["AvailableBalance"])

    def bonuses(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: dict[str, str] = {}
        while True:
            page = self.client.list_bonus_payments(HITId=self.hit_id, MaxResults=100, **token)
            if not page["BonusPayments"]:
                return found
            found += page["BonusPayments"]
            token = {"NextToken": page["NextToken"]}


def study(server: RunningServer, assignments: int, balance_cents: int) -> Study:
    """A requester with one HIT and ``assignments`` submitted assignments, made through the services."""
    services = server.services
    lab = server.requester("bulk", balance_cents=balance_cents)
    hit = services.hits.create_hit(
        lab.requester.id,
        HitTypeSpec("Study", "d", 0, 60),
        HitSpec(EXTERNAL, 3600, max_assignments=assignments),
        request_id="setup",
    )
    pairs = []
    for _ in range(assignments):
        worker = services.workers.create("w").id
        assignment = services.workers.accept(hit.id, worker).assignment_id
        services.workers.submit(assignment, [("a", "b")])
        pairs.append((worker, assignment))
    return Study(lab, server.client(lab), hit.id, pairs)


def write_csv(
    path: Path, rows: Sequence[tuple[str, ...]], header: tuple[str, ...] = HEADER, bom: str = ""
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        file.write(bom)
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def aws_env(who: NewRequester) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return env | {
        "AWS_ACCESS_KEY_ID": who.access_key_id,
        "AWS_SECRET_ACCESS_KEY": who.secret_access_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def pay_argv(server: RunningServer, source: Path, *extra: str) -> list[str]:
    return ["bonus", "pay", "--csv", str(source), "--endpoint-url", server.url, *extra]


def bonus_pay(
    server: RunningServer, who: NewRequester, source: Path, *extra: str
) -> tuple[int, dict[str, Any], str]:
    result = run_cli(*pay_argv(server, source, "--json", *extra), check=False, env=aws_env(who))
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


# --- end to end ----------------------------------------------------------------------------------


def test_a_file_is_paid_to_the_cent_once_and_re_runs_pay_nothing(
    server: RunningServer, tmp_path: Path
) -> None:
    s = study(server, 20, balance_cents=100_000)
    spelled = ["0.01", "0.03", "0.12", "0.37", "1", "1.02", "3.33", "5.", "0.5", "12.34"]
    rows = [
        (worker, assignment, spelled[i % 10], f"Thank you, batch {i} — ünïcode", f"note {i}")
        for i, (worker, assignment) in enumerate(s.pairs)
    ]
    # Lower-case header names, a byte order mark and an extra column, as spreadsheets write them.
    source = write_csv(
        tmp_path / "study.csv", rows, ("workerid", "ASSIGNMENTID", "bonusamount", "Reason", "Notes"), "\ufeff"
    )
    due = [parse_cents(r[2]) for r in rows]
    before = s.balance()

    code, out, _ = bonus_pay(server, s.lab, source, "--yes")
    assert code == 0, out
    assert out == {
        "rows": 20,
        "paid": 20,
        "already_paid": 0,
        "failed": 0,
        "not_attempted": 0,
        "total_paid": format_amount(sum(due)),
        "fees": format_amount(sum(fee(c) for c in due)),
        "results": str(tmp_path / "study.results.csv"),
    }
    assert before - s.balance() == sum(c + fee(c) for c in due)
    results = read_results(tmp_path / "study.results.csv")
    assert [r["Outcome"] for r in results] == [PAID] * 20
    assert all(UUID.match(r["RequestId"]) for r in results)
    assert [r["Notes"] for r in results] == [f"note {i}" for i in range(20)]
    assert len({r["UniqueRequestToken"] for r in results}) == 20
    listed = s.bonuses()
    assert sorted((b["AssignmentId"], b["BonusAmount"], b["Reason"]) for b in listed) == sorted(
        (r[1], format_amount(parse_cents(r[2])), r[3]) for r in rows
    )

    # Re-run: the results file says every row is paid, so nothing is sent at all.
    code, again, _ = bonus_pay(server, s.lab, source, "--yes")
    assert code == 0
    assert (again["paid"], again["already_paid"], again["total_paid"]) == (0, 20, "0.00")
    assert [r["RequestId"] for r in read_results(tmp_path / "study.results.csv")] == [
        r["RequestId"] for r in results
    ]

    # Without that record (another results file) every row goes to the server, which knows the tokens.
    other = tmp_path / "elsewhere.csv"
    code, third, _ = bonus_pay(server, s.lab, source, "--yes", "--results", str(other))
    assert code == 0
    assert (third["paid"], third["already_paid"]) == (0, 20)
    rerun = read_results(other)
    assert [r["Outcome"] for r in rerun] == [ALREADY_PAID] * 20
    assert [r["RequestId"] for r in rerun] == [r["RequestId"] for r in results]
    assert all("has already been processed" in r["Message"] for r in rerun)
    assert before - s.balance() == sum(c + fee(c) for c in due)
    assert len(s.bonuses()) == 20


def test_one_bad_row_pays_nothing_and_every_problem_names_its_line(
    server: RunningServer, tmp_path: Path
) -> None:
    s = study(server, 3, balance_cents=10_000)
    (w1, a1), (w2, a2), (w3, a3) = s.pairs
    source = write_csv(
        tmp_path / "bad.csv",
        [
            (w1, a1, "1.00", "good"),
            (w2, a2, "1.234", "too many decimals"),
            (w3, a3, "2", ""),
            ("a123", a3, "2", "lower-case worker id"),
            (w1, a1, "1", "good"),  # the same bonus as line 2
        ],
    )
    before = s.balance()
    code, out, _ = bonus_pay(server, s.lab, source, "--yes")
    assert code == 1
    problems = {(e["line"], e["message"].split(" ")[0]) for e in out["errors"]}
    assert problems == {(3, "BonusAmount"), (4, "Reason"), (5, "WorkerId"), (6, "repeats")}
    assert "paid twice" in out["errors"][-1]["message"]
    human = run_cli(*pay_argv(server, source, "--yes"), check=False, env=aws_env(s.lab))
    assert human.returncode == 1
    assert human.stdout == ""
    for line in (
        "line 3: BonusAmount '1.234'",
        "line 4: Reason is empty",
        "line 5: WorkerId 'a123'",
        "line 6",
    ):
        assert line in human.stderr
    assert "nothing was paid" in human.stderr
    assert s.balance() == before
    assert s.bonuses() == []
    assert not (tmp_path / "bad.results.csv").exists()


def test_dry_run_totals_and_pays_nothing_without_touching_any_database(
    server: RunningServer, tmp_path: Path
) -> None:
    s = study(server, 3, balance_cents=1_000)
    amounts = ["0.03", "2.5", "7.12"]  # fees 0.01 (the minimum), 0.50, 1.42
    source = write_csv(
        tmp_path / "dry.csv", [(w, a, amt, "r") for (w, a), amt in zip(s.pairs, amounts, strict=True)]
    )
    never = tmp_path / "never.sqlite3"
    code, out, _ = bonus_pay(server, s.lab, source, "--dry-run", "--db", f"sqlite:///{never}")
    assert code == 1  # the balance does not cover it
    assert out == {
        "dry_run": True,
        "rows": 3,
        "to_pay": 3,
        "already_paid": 0,
        "bonuses": "9.65",
        "fees": "1.93",
        "total": "11.58",
        "balance": "10.00",
        "covered": False,
        "missing": "1.58",
    }
    human = run_cli(
        *pay_argv(server, source, "--dry-run", "--fee-rate", "0"), check=False, env=aws_env(s.lab)
    )
    assert human.returncode == 0
    assert (
        "3 bonuses to pay: 9.65 + 0.03 fees = 9.68; available balance 10.00"
    )  # the 0.01 minimum stays in human.stdout
    assert not never.exists()
    assert s.balance() == 1_000
    assert not (tmp_path / "dry.results.csv").exists()


def test_a_batch_the_balance_cannot_cover_is_refused_whole(server: RunningServer, tmp_path: Path) -> None:
    s = study(server, 4, balance_cents=1_199)
    source = write_csv(tmp_path / "short.csv", [(w, a, "2.50", "thanks") for w, a in s.pairs])  # 4 x 3.00
    code, out, _ = bonus_pay(server, s.lab, source, "--yes")
    assert code == 1
    assert out["missing"] == "0.01"
    assert "0.01 is missing" in out["error"]
    assert s.balance() == 1_199
    assert s.bonuses() == []
    assert not (tmp_path / "short.results.csv").exists()
    # Without --yes and without a terminal to ask on, nothing is paid either.
    server.services.accounts.fund(s.lab.access_key_id, 1)
    unconfirmed = run_cli(*pay_argv(server, source), check=False, env=aws_env(s.lab))
    assert unconfirmed.returncode == 1
    assert "--yes" in unconfirmed.stderr
    assert s.balance() == 1_200
    code, out, _ = bonus_pay(server, s.lab, source, "--yes")
    assert (code, out["paid"], s.balance()) == (0, 4, 0)


def test_failures_midway_unknown_assignment_then_insufficient_funds(
    server: RunningServer, tmp_path: Path
) -> None:
    s = study(server, 5, balance_cents=1_116)  # 11.10 of bonuses + 6 minimum fees
    (w1, a1), (w2, _), (w3, a3), (w4, a4), (w5, a5) = s.pairs
    rows = [
        (w1, a1, "4.00", "r"),
        (w2, "Z" * 30, "1.00", "no such assignment"),
        (w3, a3, "4.00", "r"),
        (w4, a4, "1.00", "r"),
        (w5, a5, "1.00", "r"),  # the server charges fees the client was told not to expect: no money left
        (w5, a5, "0.10", "r"),
    ]
    source = write_csv(tmp_path / "midway.csv", rows)
    code, out, _ = bonus_pay(server, s.lab, source, "--yes", "--fee-rate", "0")
    assert code == 1
    assert (out["paid"], out["failed"], out["not_attempted"]) == (3, 2, 1)
    results = read_results(tmp_path / "midway.results.csv")
    assert [r["Outcome"] for r in results] == ["paid", "failed", "paid", "paid", "failed", "not_attempted"]
    assert "does not exist" in results[1]["Message"]
    assert "insufficient funds" in results[4]["Message"]
    assert s.balance() == 1_116 - (480 + 480 + 120)  # the fees were charged all the same


def test_bad_credentials_and_no_server_are_refused_without_a_traceback(
    server: RunningServer, tmp_path: Path
) -> None:
    s = study(server, 1, balance_cents=100)
    source = write_csv(tmp_path / "creds.csv", [(*s.pairs[0], "0.5", "r")])
    wrong = NewRequester(s.lab.requester, s.lab.access_key_id, "x" * 40, 0)
    code, out, _ = bonus_pay(server, wrong, source, "--yes")
    assert code == 1
    assert "cannot read the account balance" in out["error"]
    nowhere = f"http://127.0.0.1:{free_port()}"
    dead = run_cli(
        "bonus",
        "pay",
        "--csv",
        str(source),
        "--endpoint-url",
        nowhere,
        "--json",
        env=aws_env(s.lab),
        check=False,
    )
    assert dead.returncode == 1
    assert "cannot read the account balance" in json.loads(dead.stdout)["error"]
    assert s.balance() == 100


def test_killed_mid_run_and_re_run_pays_every_row_exactly_once(server: RunningServer, tmp_path: Path) -> None:
    s = study(server, 25, balance_cents=1_000_000)
    rows = [
        (worker, assignment, format_amount(1 + (i * 37 + k * 11) % 500), f"round {k}")
        for k in range(8)
        for i, (worker, assignment) in enumerate(s.pairs)
    ]
    assert len(rows) == 200
    source = write_csv(tmp_path / "big.csv", rows)
    results_path = tmp_path / "big.results.csv"
    before = s.balance()
    with (tmp_path / "first.out").open("w") as sink:
        process = subprocess.Popen(
            openturk_argv(*pay_argv(server, source, "--yes", "--json")),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=aws_env(s.lab),
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and process.poll() is None:
                if results_path.exists() and results_path.read_text().count(",paid,") >= 10:
                    break
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL, (tmp_path / "first.out").read_text()
    partial = read_results(results_path)
    assert 10 <= len(partial) < 200
    paid_first = sum(r["Outcome"] == PAID for r in partial)

    code, out, _ = bonus_pay(server, s.lab, source, "--yes")
    assert code == 0, out
    assert out["paid"] + out["already_paid"] == 200
    assert out["already_paid"] >= paid_first
    final = read_results(results_path)
    assert len(final) == 200
    assert {r["Outcome"] for r in final} <= {PAID, ALREADY_PAID}
    # The row the kill interrupted (paid, not written down) is found among the payments, without its id.
    found = [r for r in final if not r["RequestId"]]
    assert all("found among the assignment's bonus payments" in r["Message"] for r in found)
    assert len(found) <= 1
    assert len({r["RequestId"] for r in final if r["RequestId"]}) == 200 - len(found)
    assert len(s.bonuses()) == 200
    assert before - s.balance() == sum(parse_cents(r[2]) + fee(parse_cents(r[2])) for r in rows)
    audit = run_cli("ledger", "audit", "--json", "--db", server.db_url)
    assert json.loads(audit.stdout)["ok"] is True


def test_a_re_run_after_the_tokens_expired_still_pays_nothing_twice(
    server: RunningServer, tmp_path: Path
) -> None:
    """A crash between paying a row and writing it down leaves that row to its token, which the service
    forgets after 24 hours: the re-run finds the payment among the assignment's bonuses instead."""
    s = study(server, 3, balance_cents=100_000)
    rows = [(worker, assignment, "0.25", "thanks") for worker, assignment in s.pairs]
    source = write_csv(tmp_path / "late.csv", rows)
    results_path = tmp_path / "late.results.csv"
    assert bonus_pay(server, s.lab, source, "--yes")[0] == 0
    lines = results_path.read_text(encoding="utf-8").splitlines(keepends=True)
    results_path.write_text("".join(lines[:-1]), encoding="utf-8")  # the last row, paid but not recorded
    cli(server, "clock", "advance", "25h")
    before = s.balance()

    code, out, _ = bonus_pay(server, s.lab, source, "--yes")
    assert code == 0, out
    assert (out["paid"], out["already_paid"]) == (0, 3)
    assert s.balance() == before
    assert len(s.bonuses()) == 3
    final = read_results(results_path)
    assert [r["Outcome"] for r in final] == [ALREADY_PAID] * 3
    assert "found among the assignment's bonus payments" in final[-1]["Message"]


# --- rows and tokens -----------------------------------------------------------------------------

W, A = "A1B2C3D4E5F6G7", "3XKXJ6ZZ0VQ4ZCH5YQS8K8E0JJPRBQ"


def test_read_batch_reports_every_problem_with_its_line() -> None:
    text = (
        "\ufeff Reason ,Extra,BONUSAMOUNT,workerId,AssignmentID\n"
        f'"two\nlines",x,1.50,{W},{A}\n'  # a quoted field spanning lines 2-3
        "\n"  # blank lines are skipped but still counted
        f"  spaced  ,x, 2 ,{W} ,{A}\n"
        f"r,x,$1,{W},{A}\n"
        f"r,x,0.00,{W},{A}\n"
        f"r,x,.5,{W},{A}\n"
        f"r,x,1,A,{A}\n"
        f"r,x,1,{W},{A.lower()}\n"
        f"spaced,x,2.00,{W},{A}\n"  # repeats line 5 once normalized
        f"r,x,1,{W}\n"  # short record: no AssignmentId
        f"r,x,99999999999,{W},{A}\n"  # well formed, more than any balance holds
    )
    batch = read_batch(io.StringIO(text))
    assert batch.columns == ("Reason", "Extra", "BONUSAMOUNT", "workerId", "AssignmentID")
    assert [(r.line, r.cents, r.reason) for r in batch.rows] == [(2, 150, "two\nlines"), (5, 200, "spaced")]
    assert batch.rows[1].values == ("  spaced  ", "x", " 2 ", f"{W} ", A)
    assert [(e.line, e.message.split(" ")[0]) for e in batch.errors] == [
        (6, "BonusAmount"),
        (7, "BonusAmount"),
        (8, "BonusAmount"),
        (9, "WorkerId"),
        (10, "AssignmentId"),
        (11, "repeats"),
        (12, "AssignmentId"),
        (13, "BonusAmount"),
    ]
    assert "at least 0.01" in batch.errors[1].message
    assert batch.errors[5].message.startswith("repeats line 5")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "needs WorkerId"),
        ("WorkerId,AssignmentId,Amount,Reason\n", "BonusAmount missing"),
        ("WorkerId,workerid,AssignmentId,BonusAmount,Reason\n", "two workerid columns"),
        ("WorkerId,AssignmentId,BonusAmount,Reason\n\n", "no bonuses"),
    ],
)
def test_read_batch_refuses_a_file_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(BulkBonusError, match=message):
        read_batch(io.StringIO(text))


@pytest.mark.parametrize(
    ("worker", "assignment", "amount", "reason", "ok"),
    [
        (W, A, "0.01", "r", True),
        ("A" + "1" * 63, "X" * 64, "5.", "r", True),
        ("A" + "1" * 64, A, "5", "r", False),
        (W, "X" * 65, "5", "r", False),
        ("A", A, "5", "r", False),
        ("B123", A, "5", "r", False),
        (W, A, "0", "r", False),
        (W, A, "1,50", "r", False),
        (W, A, "1.5e2", "r", False),
        (W, A, "-1", "r", False),
        (W, A, "5", "", False),
    ],
)
def test_check_row(worker: str, assignment: str, amount: str, reason: str, ok: bool) -> None:
    row, problems = check_row(7, worker, assignment, amount, reason)
    assert (row is not None) is ok
    assert bool(problems) is not ok


def test_tokens_are_stable_distinct_and_fit_64_characters() -> None:
    row = BonusRow(2, W, A, 150, "Great work")
    expected = hashlib.sha256(
        f"openturk-bonus-pay-v1\x1f\x1f{W}\x1f{A}\x1f150\x1fGreat work".encode()
    ).hexdigest()
    assert request_token(row) == expected  # the same in every process and every version of this file
    assert request_token(BonusRow(99, W, A, 150, "Great work", ("anything",))) == expected  # content only
    variants = [
        BonusRow(2, "A1B2C3D4E5F6G8", A, 150, "Great work"),
        BonusRow(2, W, A[:-1] + "R", 150, "Great work"),
        BonusRow(2, W, A, 151, "Great work"),
        BonusRow(2, W, A, 150, "Great work!"),
    ]
    tokens = {request_token(v) for v in variants} | {expected, request_token(row, "study-2")}
    assert len(tokens) == 6
    prefixed = request_token(row, "x" * 32)
    assert prefixed.startswith("x" * 32)
    assert all(len(t) <= 64 for t in [*tokens, prefixed])
    assert check_prefix("study-2:round.1_a") == "study-2:round.1_a"
    for bad in ("x" * 33, "has space", "é"):
        with pytest.raises(BulkBonusError):
            check_prefix(bad)


def test_errors_are_sorted_into_retry_stop_and_settled() -> None:
    def error(code: str, message: str, status: int = 400, turk: str = "") -> ClientError:
        response: Any = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        if turk:
            response["TurkErrorCode"] = turk
        return ClientError(response, "SendBonus")

    assert (
        error_kind(error("RequestError", 'The idempotency token "t" has already been processed'))
        == "duplicate"
    )
    assert error_kind(error("RequestError", "x", turk="AWS.MechanicalTurk.DuplicateRequest")) == "duplicate"
    assert error_kind(error("RequestError", "This Requester has insufficient funds")) == "insufficient"
    assert error_kind(error("ServiceFault", "try again", 500)) == "transient"
    assert error_kind(error("ThrottlingException", "Rate exceeded")) == "transient"
    assert error_kind(error("InvalidSignatureException", "bad")) == "fatal"
    assert error_kind(error("RequestError", "Assignment X does not exist.")) == "other"
    # A validation message naming the token parameter is not a duplicate.
    assert error_kind(error("ValidationException", "Value at 'uniqueRequestToken' too long")) == "other"


def test_connection_errors_are_retried_with_backoff_then_stop_the_batch() -> None:
    client = mturk_client(f"http://127.0.0.1:{free_port()}", "AKIAEXAMPLE", "secret")
    waits: list[float] = []
    result, stop = send_bonus(client, BonusRow(2, W, A, 100, "r"), "tok", attempts=3, sleep=waits.append)
    assert (result.outcome, stop, waits) == (FAILED, True, [0.5, 1.0])
    assert result.message.startswith("gave up after 3 attempts")
