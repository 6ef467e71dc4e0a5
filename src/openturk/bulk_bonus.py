"""Bulk bonus payouts at the end of a study: check a whole CSV, then pay it row by row through any MTurk
endpoint (real MTurk, its sandbox or OpenTurk) with one stable UniqueRequestToken per row.

A row's token is a hash of what it pays, so re-running a file after a crash pays nothing twice: the
service refuses a token it has seen within 24 hours ("already_paid"), and a row an earlier run's results
file records as paid is not sent again at all (which also holds after those 24 hours).  The row a crash
interrupted (paid, but not yet written down) is covered by its token for 24 hours only; so a re-run
(a results file is there) also looks for each unrecorded row among its assignment's bonus payments
(ListBonusPayments) and takes one with the same worker, amount and reason as that row, paid.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointError

from openturk.money import MoneyFormatError, format_amount, parse_cents
from openturk.service.pricing import bonus_fee
from openturk.settings import Fees

REQUIRED = ("WorkerId", "AssignmentId", "BonusAmount", "Reason")
RESULT_COLUMNS = ("UniqueRequestToken", "Outcome", "RequestId", "Message")
PAID, ALREADY_PAID, FAILED, NOT_ATTEMPTED = "paid", "already_paid", "failed", "not_attempted"
OUTCOMES = (PAID, ALREADY_PAID, FAILED, NOT_ATTEMPTED)

# The botocore model's patterns for SendBonus (lengths 1-64 for both ids).
_WORKER = re.compile(r"A[A-Z0-9]{1,63}")
_ASSIGNMENT = re.compile(r"[A-Z0-9]{1,64}")
_AMOUNT = re.compile(r"[0-9]+(\.)?[0-9]{0,2}")
_PREFIX = re.compile(r"[A-Za-z0-9._:-]{1,32}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TOKEN_VERSION = "openturk-bonus-pay-v1"  # noqa: S105 - a hash domain, not a secret
_TRANSIENT = ("ServiceFault", "ServiceUnavailable", "InternalFailure", "InternalError", "SlowDown")
_AUTH = ("ClientException", "SignatureException", "TokenException", "AccessDeniedException", "ClientTokenId")
DUPLICATE = (
    "repeats line {first} (same WorkerId, AssignmentId, BonusAmount and Reason): a bonus is almost never "
    "meant to be paid twice; if this one is, make its Reason different"
)
INTERRUPTED = (
    "interrupted while paying: this row may or may not be paid; run the same file again to settle it "
    "(with the same token it cannot be paid twice)"
)


class BulkBonusError(ValueError):
    """A problem with the file or the batch as a whole: nothing was paid."""


@dataclass(frozen=True, slots=True)
class BonusRow:
    line: int
    worker_id: str
    assignment_id: str
    cents: int
    reason: str
    values: tuple[str, ...] = ()  # the record as read, one value per input column


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Batch:
    columns: tuple[str, ...]
    rows: tuple[BonusRow, ...]
    errors: tuple[RowError, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    bonus_cents: int
    fee_cents: int

    @property
    def total_cents(self) -> int:
        return self.bonus_cents + self.fee_cents


@dataclass(frozen=True, slots=True)
class Result:
    row: BonusRow
    token: str
    outcome: str
    request_id: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    pending: tuple[tuple[BonusRow, str], ...]  # rows still to pay, with their tokens
    settled: tuple[Result, ...]  # rows an earlier run's results file records as paid
    due: Totals
    balance_cents: int

    @property
    def missing_cents(self) -> int:
        return max(self.due.total_cents - self.balance_cents, 0)


# --- reading and checking ------------------------------------------------------------------------


def read_batch(stream: Iterable[str]) -> Batch:
    """Every row checked; the caller pays nothing unless ``errors`` is empty."""
    reader = csv.reader(stream)
    header = [name.strip().lstrip("\ufeff").strip() for name in next(reader, [])]
    where: dict[str, int] = {}
    for i, name in enumerate(header):
        if name.lower() in where and name.lower() in {c.lower() for c in REQUIRED}:
            raise BulkBonusError(f"the header row has two {name} columns")
        where.setdefault(name.lower(), i)
    missing = [c for c in REQUIRED if c.lower() not in where]
    if missing:
        found = ", ".join(h for h in header if h) or "nothing"
        raise BulkBonusError(
            f"the header row needs {', '.join(REQUIRED)}; {', '.join(missing)} missing (found {found})"
        )
    rows: list[BonusRow] = []
    errors: list[RowError] = []
    first_seen: dict[tuple[str, str, int, str], int] = {}
    end = reader.line_num
    for record in reader:
        line, end = end + 1, reader.line_num
        if not any(value.strip() for value in record):
            continue
        worker, assignment, amount, reason = (
            record[where[c.lower()]].strip() if where[c.lower()] < len(record) else "" for c in REQUIRED
        )
        row, problems = check_row(line, worker, assignment, amount, reason)
        errors += [RowError(line, p) for p in problems]
        if row is None:
            continue
        key = (row.worker_id, row.assignment_id, row.cents, row.reason)
        if key in first_seen:
            errors.append(RowError(line, DUPLICATE.format(first=first_seen[key])))
            continue
        first_seen[key] = line
        rows.append(replace(row, values=tuple(record)))
    if not rows and not errors:
        raise BulkBonusError("the file has a header row but no bonuses")
    return Batch(tuple(header), tuple(rows), tuple(errors))


def check_row(
    line: int, worker: str, assignment: str, amount: str, reason: str
) -> tuple[BonusRow | None, list[str]]:
    problems = []
    if not _WORKER.fullmatch(worker):
        problems.append(_bad("WorkerId", worker, "a worker id (A, then capital letters and digits, 2-64)"))
    if not _ASSIGNMENT.fullmatch(assignment):
        problems.append(_bad("AssignmentId", assignment, "an assignment id (capital letters and digits)"))
    cents = 0
    if not _AMOUNT.fullmatch(amount):
        problems.append(_bad("BonusAmount", amount, "an amount in dollars such as 1.50 (no $, 2 decimals)"))
    else:
        try:
            cents = parse_cents(amount)
        except MoneyFormatError as error:  # well formed, but more than any balance can hold
            problems.append(f"BonusAmount {amount!r}: {error}")
        else:
            if cents <= 0:
                problems.append(f"BonusAmount {amount!r} must be at least 0.01")
    if not reason:
        problems.append("Reason is empty: MTurk shows the reason to the worker and requires one")
    if problems:
        return None, problems
    return BonusRow(line, worker, assignment, cents, reason), []


def _bad(column: str, value: str, what: str) -> str:
    return f"{column} {value!r} is not {what}" if value else f"{column} is empty"


def check_prefix(prefix: str) -> str:
    if prefix and not _PREFIX.fullmatch(prefix):
        raise BulkBonusError(f"--token-prefix {prefix!r} must be 1-32 letters, digits or . _ : -")
    return prefix


def request_token(row: BonusRow, prefix: str = "") -> str:
    """The row's UniqueRequestToken: the prefix, then the sha256 of the normalized row (amount in cents,
    so "5" and "5.00" are one bonus), cut to MTurk's 64 characters (at least 128 bits of hash remain)."""
    material = "\x1f".join(
        (_TOKEN_VERSION, prefix, row.worker_id, row.assignment_id, str(row.cents), row.reason)
    )
    return prefix + hashlib.sha256(material.encode("utf-8")).hexdigest()[: 64 - len(prefix)]


def totals(rows: Iterable[BonusRow], fees: Fees) -> Totals:
    cents = [row.cents for row in rows]
    return Totals(len(cents), sum(cents), sum(bonus_fee(fees, c) for c in cents))


# --- the results file ----------------------------------------------------------------------------


def settled_tokens(path: Path) -> dict[str, str]:
    """Tokens an earlier run's results file records as paid or already paid, with their request ids."""
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        header = [name.strip().lower() for name in next(reader, [])]
        if not header:
            return {}
        if "uniquerequesttoken" not in header or "outcome" not in header:
            raise BulkBonusError(
                f"{path} exists and is not a results file of `openturk bonus pay`; choose another --results"
            )
        token, outcome = header.index("uniquerequesttoken"), header.index("outcome")
        rid = header.index("requestid") if "requestid" in header else -1
        return {
            record[token]: (record[rid] if 0 <= rid < len(record) else "")
            for record in reader
            if len(record) > max(token, outcome) and record[outcome] in (PAID, ALREADY_PAID)
        }


class ResultsFile:
    """The input columns plus token, outcome, request id and message; one flushed line per row, so a
    crash leaves a usable partial file.  Built beside the target and renamed over it, so the earlier
    run's record is replaced only once the rows it settles are written again."""

    def __init__(self, path: Path, columns: Sequence[str], settled: Sequence[Result]) -> None:
        added = {c.lower() for c in RESULT_COLUMNS}
        self._keep = [i for i, c in enumerate(columns) if c.lower() not in added]
        staging = path.with_name(path.name + ".tmp")
        with staging.open("w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerow([columns[i] for i in self._keep] + list(RESULT_COLUMNS))
            csv.writer(file).writerows(self._line(r) for r in settled)
            file.flush()
            os.fsync(file.fileno())
        os.replace(staging, path)
        self._file = path.open("a", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)

    def _line(self, r: Result) -> list[str]:
        values = [r.row.values[i] if i < len(r.row.values) else "" for i in self._keep]
        return [*values, r.token, r.outcome, r.request_id, r.message]

    def write(self, result: Result) -> None:
        self._writer.writerow(self._line(result))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


# --- paying --------------------------------------------------------------------------------------

_FOUND = "found among the assignment's bonus payments: an earlier run paid it without writing it down"


def _paid_before(client: Any, assignment_ids: Iterable[str]) -> set[tuple[str, str, int, str]]:
    """(worker, assignment, cents, reason) of every bonus already paid on these assignments."""
    found = set()
    for assignment_id in sorted(assignment_ids):
        pages = client.get_paginator("list_bonus_payments").paginate(AssignmentId=assignment_id)
        for page in pages:
            for payment in page.get("BonusPayments", []):
                cents = parse_cents(str(payment["BonusAmount"]))
                found.add((payment["WorkerId"], payment["AssignmentId"], cents, payment["Reason"]))
    return found


def make_plan(
    client: Any, batch: Batch, prefix: str, fees: Fees, settled: Mapping[str, str], *, rerun: bool = False
) -> Plan:
    pending, done = [], []
    for row in batch.rows:
        token = request_token(row, prefix)
        if token in settled:
            note = f"paid by request {settled[token]} in an earlier run" if settled[token] else ""
            done.append(Result(row, token, ALREADY_PAID, settled[token], note or "paid in an earlier run"))
        else:
            pending.append((row, token))
    if rerun and pending:
        found = _paid_before(client, {row.assignment_id for row, _ in pending})
        unpaid = []
        for row, token in pending:
            if (row.worker_id, row.assignment_id, row.cents, row.reason) in found:
                done.append(Result(row, token, ALREADY_PAID, "", _FOUND))
            else:
                unpaid.append((row, token))
        pending = unpaid
    balance = parse_cents(str(client.get_account_balance()["AvailableBalance"]))
    return Plan(tuple(pending), tuple(done), totals((r for r, _ in pending), fees), balance)


def error_kind(error: ClientError) -> str:
    """duplicate (token already used), insufficient (funds), transient (retry), fatal (stop) or other."""
    info = error.response.get("Error", {})
    code, message = str(info.get("Code", "")), str(info.get("Message", ""))
    turk = str(error.response.get("TurkErrorCode", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    text = message.lower()
    if (
        turk.endswith("DuplicateRequest")
        or "has already been processed" in text
        or ("idempotency token" in text and "already" in text)
    ):
        return "duplicate"
    if turk.endswith("InsufficientFunds") or "insufficient funds" in text:
        return "insufficient"
    if status >= 500 or status == 429 or code in _TRANSIENT or "throttl" in f"{code}{turk}{text}".lower():
        return "transient"
    if code.endswith(_AUTH) or status in (401, 403):
        return "fatal"
    return "other"


def send_bonus(
    client: Any, row: BonusRow, token: str, *, attempts: int = 5, sleep: Callable[[float], None] = time.sleep
) -> tuple[Result, bool]:
    """One row, retried with the same token on throttling, 5xx and connection errors; the bool says
    whether the batch must stop here (no money, no credentials or no service)."""
    for attempt in range(1, attempts + 1):
        try:
            response = client.send_bonus(
                WorkerId=row.worker_id,
                AssignmentId=row.assignment_id,
                BonusAmount=format_amount(row.cents),
                Reason=row.reason,
                UniqueRequestToken=token,
            )
        except ClientError as error:
            kind = error_kind(error)
            info = error.response.get("Error", {})
            message = f"{info.get('Code', 'Error')}: {info.get('Message', '')}"
            if kind == "duplicate":
                found = _UUID.search(message.replace(token, ""))  # the first request's id
                return Result(row, token, ALREADY_PAID, found.group(0) if found else "", message), False
            if kind != "transient" or attempt == attempts:
                return Result(row, token, FAILED, "", message), kind != "other"
        except (EndpointError, HTTPClientError) as error:
            if attempt == attempts:
                return Result(row, token, FAILED, "", f"gave up after {attempts} attempts: {error}"), True
        except BotoCoreError as error:  # e.g. credentials that could not be refreshed
            return Result(row, token, FAILED, "", str(error)), True
        else:
            return Result(row, token, PAID, str(response["ResponseMetadata"].get("RequestId", ""))), False
        sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
    raise AssertionError("unreachable")


def pay(
    client: Any,
    plan: Plan,
    out: ResultsFile,
    *,
    advance: Callable[[Result], None] = lambda result: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Result]:
    """Pays the plan's pending rows in order, writing each outcome as soon as it is known."""
    results = list(plan.settled)
    stop = ""
    for row, token in plan.pending:
        if stop:
            result = Result(row, token, NOT_ATTEMPTED, "", stop)
        else:
            try:
                result, stopped = send_bonus(client, row, token, sleep=sleep)
            except KeyboardInterrupt:
                result, stopped = Result(row, token, FAILED, "", INTERRUPTED), True
            if stopped:
                stop = f"not attempted: the batch stopped at line {row.line}"
        out.write(result)
        results.append(result)
        advance(result)
    return results


def summary(results: Sequence[Result], fees: Fees) -> dict[str, int]:
    counts = {outcome: sum(r.outcome == outcome for r in results) for outcome in OUTCOMES}
    paid = totals((r.row for r in results if r.outcome == PAID), fees)
    return {**counts, "bonus_cents": paid.bonus_cents, "fee_cents": paid.fee_cents}
