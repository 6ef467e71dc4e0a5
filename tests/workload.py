"""A bank-style workload against several real server processes sharing one database, with faults.

Client threads do random funding, CreateHIT, accept/submit, approve/reject and SendBonus, each with a
UniqueRequestToken where the API has one, and retry after any error or timeout (with the same token) on
whichever server answers.  Every acknowledgement is remembered, so that afterwards ``check_books`` can
prove against the database that nothing acknowledged is missing or was done twice, that no balance is
negative and that the money held equals the money deposited.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import func, select

from openturk.errors import OpenTurkError
from openturk.service.services import Services
from openturk.storage.schema import accounts, assignments, bonuses, journal_entries, request_tokens
from tests.hit_support import EXTERNAL
from tests.support import REGION, free_port, openturk_argv, run_cli, wait_until_healthy

DUPLICATE = re.compile(r"already been processed by request ([0-9A-Za-z-]+)")
TARGET = "MTurkRequesterServiceV20170117"


# --- server processes --------------------------------------------------------------------------------


@dataclass
class ServerSlot:
    """One ``openturk serve`` on a fixed port, which can be killed and started again on that port."""

    db_url: str
    log_dir: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.starts += 1
        log = (self.log_dir / f"server-{self.port}-{self.starts}.log").open("wb")
        argv = ["serve", "--port", str(self.port), "--db", self.db_url, "--workers", str(self.workers)]
        self.process = subprocess.Popen(openturk_argv(*argv), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if not wait_until_healthy(self.url, timeout, self.process):
            raise RuntimeError(f"server on {self.port} did not become healthy:\n{self.log_text()}")

    def kill(self) -> None:
        """``kill -9`` the server (with ``--workers``, the supervisor and every worker process)."""
        assert self.process is not None
        for pid in [*child_pids(self.process.pid), self.process.pid]:
            with _Gone():
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def kill_one_worker(self) -> None:
        """``kill -9`` one worker process of a ``--workers N`` server; its supervisor starts another."""
        assert self.process is not None
        assert self.workers > 1
        workers = [pid for pid in child_pids(self.process.pid) if "multiprocessing.spawn" in _cmdline(pid)]
        assert workers, "no worker processes found"
        os.kill(workers[0], signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.log_dir.glob(f"server-{self.port}-*"))
        )


class _Gone:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> bool:
        return kind is not None and issubclass(kind, ProcessLookupError)


def child_pids(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def healthy(url: str, timeout: float = 30.0) -> None:
    if not wait_until_healthy(url, timeout):
        raise AssertionError(f"{url} never became healthy again")


# --- what the clients were told ------------------------------------------------------------------


@dataclass
class Ledgerbook:
    """Everything acknowledged to a client (thread-safe appends), to hold against the database."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    deposits_acked: Counter[str] = field(default_factory=Counter)  # requester id -> cents
    deposit_entries_acked: Counter[str] = field(default_factory=Counter)  # requester id -> count
    deposits_unknown: Counter[str] = field(default_factory=Counter)
    deposit_entries_unknown: Counter[str] = field(default_factory=Counter)
    bonus_requests: set[str] = field(default_factory=set)  # request ids answered 200
    bonus_tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # (requester, token) -> first id
    hit_tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # (requester, token) -> HIT id
    hit_requests: set[str] = field(default_factory=set)
    approved: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    operations: Counter[str] = field(default_factory=Counter)

    def error(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_samples) < 40:
                self.error_samples.append(f"{kind}: {message[:300]}")

    def count(self, operation: str) -> None:
        with self.lock:
            self.operations[operation] += 1


@dataclass(frozen=True)
class Lab:
    requester_id: str
    key: str
    secret: str


# --- the workload --------------------------------------------------------------------------------


class Workload:
    """Random operations from ``threads`` client threads until ``stop`` is set."""

    def __init__(
        self, services: Services, servers: Sequence[ServerSlot], labs: Sequence[Lab], workers: Sequence[str]
    ) -> None:
        self.services = services
        self.servers = list(servers)
        self.labs = list(labs)
        self.workers = list(workers)
        self.book = Ledgerbook()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.open_hits: list[tuple[Lab, str]] = []
        self.submitted: list[tuple[Lab, str, str]] = []  # (lab, assignment, worker)
        self.reviewed: list[tuple[Lab, str, str]] = []
        self._clients: dict[tuple[str, str, float], Any] = {}
        self.deadline_per_call = 60.0

    # -- plumbing ---------------------------------------------------------------------------------

    def client(self, lab: Lab, url: str, read_timeout: float = 15.0) -> Any:
        key = (lab.key, url, read_timeout)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = boto3.client(
                    "mturk",
                    endpoint_url=url,
                    region_name=REGION,
                    aws_access_key_id=lab.key,
                    aws_secret_access_key=lab.secret,
                    config=Config(
                        retries={"max_attempts": 1},
                        connect_timeout=2,
                        read_timeout=read_timeout,
                        max_pool_connections=50,
                    ),
                )
            return self._clients[key]

    def call(self, lab: Lab, operation: str, impatient: bool = False, **params: Any) -> dict[str, Any]:
        """Call until an answer that is not a transport error or a ServiceFault; raise ClientError for a
        business error (insufficient funds, duplicate token, wrong state).  The same parameters (and so
        the same UniqueRequestToken) every time."""
        deadline = time.monotonic() + self.deadline_per_call
        first = impatient
        while True:
            url = random.choice(self.servers).url
            try:
                method = getattr(self.client(lab, url, 0.005 if first else 15.0), operation)
                result: dict[str, Any] = method(**params)
                return result
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if (
                    code != "ServiceFault"
                    and error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) < 500
                ):
                    raise
                self.book.error(f"{operation}: {code}", str(error))
            except BotoCoreError as error:  # connection refused or reset, read timeout
                self.book.error(f"{operation}: {type(error).__name__}", str(error))
            first = False
            if time.monotonic() > deadline:
                raise AssertionError(f"{operation} did not get an answer in {self.deadline_per_call}s")
            time.sleep(random.uniform(0.02, 0.2))

    def in_process(self, name: str, call: Callable[[], Any]) -> Any:
        """A worker-side or admin call through the service layer; None when its outcome is unknown."""
        try:
            return call()
        except OpenTurkError:
            raise
        except Exception as error:  # the database went away mid-commit: outcome unknown
            self.book.error(f"{name}: {type(error).__name__}", str(error))
            return None

    # -- operations -------------------------------------------------------------------------------

    def fund(self) -> None:
        lab = random.choice(self.labs)
        cents = random.randint(100, 2_000)
        try:
            self.services.accounts.fund(lab.key, cents)
        except Exception as error:
            self.book.error(f"fund: {type(error).__name__}", str(error))
            with self.book.lock:
                self.book.deposits_unknown[lab.requester_id] += cents
                self.book.deposit_entries_unknown[lab.requester_id] += 1
            return
        with self.book.lock:
            self.book.deposits_acked[lab.requester_id] += cents
            self.book.deposit_entries_acked[lab.requester_id] += 1

    def create_hit(self) -> None:
        lab = random.choice(self.labs)
        token = uuid.uuid4().hex
        params: dict[str, Any] = {
            "Title": "Count the birds",
            "Description": "How many birds are in the picture?",
            "Reward": f"{random.randint(5, 60) / 100:.2f}",
            "MaxAssignments": random.randint(1, 3),
            "LifetimeInSeconds": 3600,
            "AssignmentDurationInSeconds": 600,
            # Some HITs pay at once on submission (0), most wait for the requester.
            "AutoApprovalDelayInSeconds": random.choice((0, 86_400, 86_400, 86_400)),
            "Question": EXTERNAL,
            "UniqueRequestToken": token,
        }
        try:
            answer = self.call(lab, "create_hit", **params)
        except ClientError as error:
            message = str(error)
            duplicate = DUPLICATE.search(message)
            if duplicate is None:
                assert "insufficient funds" in message.lower(), message
                return
            with self.book.lock:
                self.book.hit_tokens[(lab.requester_id, token)] = ""  # done by an earlier attempt
            return
        hit_id = str(answer["HIT"]["HITId"])
        with self.book.lock:
            self.book.hit_tokens[(lab.requester_id, token)] = hit_id
            self.book.hit_requests.add(answer["ResponseMetadata"]["RequestId"])
        with self._lock:
            self.open_hits.append((lab, hit_id))

    def work(self) -> None:
        with self._lock:
            if not self.open_hits:
                return
            lab, hit_id = random.choice(self.open_hits)
        worker = random.choice(self.workers)
        try:
            accepted = self.in_process("accept", lambda: self.services.workers.accept(hit_id, worker))
        except OpenTurkError:  # full, or this worker holds one already
            with self._lock:
                if (lab, hit_id) in self.open_hits and random.random() < 0.3:
                    self.open_hits.remove((lab, hit_id))
            return
        if accepted is None:
            return
        assignment = accepted.assignment_id
        try:
            status = self.in_process(
                "submit",
                lambda: self.services.workers.submit(assignment, [("birds", str(random.randint(0, 9)))]),
            )
        except OpenTurkError as error:
            self.book.error("submit refused", str(error))
            return
        if status is None:
            return
        with self._lock:
            (self.reviewed if status == "Approved" else self.submitted).append((lab, assignment, worker))

    def review(self) -> None:
        with self._lock:
            if not self.submitted:
                return
            lab, assignment, worker = self.submitted.pop(random.randrange(len(self.submitted)))
        if random.random() < 0.75:
            self.call(lab, "approve_assignment", AssignmentId=assignment, RequesterFeedback="thanks")
            with self.book.lock:
                self.book.approved.add(assignment)
        else:
            try:
                self.call(lab, "reject_assignment", AssignmentId=assignment, RequesterFeedback="no")
            except ClientError as error:  # an earlier attempt whose answer was lost did it
                if "Submitted" not in str(error):
                    raise
            with self.book.lock:
                self.book.rejected.add(assignment)
        with self._lock:
            self.reviewed.append((lab, assignment, worker))

    def bonus(self) -> None:
        with self._lock:
            pool = self.reviewed or self.submitted
            if not pool:
                return
            lab, assignment, worker = random.choice(pool)
        token = uuid.uuid4().hex
        try:
            answer = self.call(
                lab,
                "send_bonus",
                impatient=random.random() < 0.15,  # hangs up before the answer, then retries
                WorkerId=worker,
                AssignmentId=assignment,
                BonusAmount=f"{random.randint(1, 200) / 100:.2f}",
                Reason="good work",
                UniqueRequestToken=token,
            )
        except ClientError as error:
            message = str(error)
            duplicate = DUPLICATE.search(message)
            if duplicate is None:
                assert "insufficient funds" in message.lower(), message
                return
            with self.book.lock:
                self.book.bonus_tokens[(lab.requester_id, token)] = duplicate.group(1)
            return
        request_id = str(answer["ResponseMetadata"]["RequestId"])
        with self.book.lock:
            self.book.bonus_requests.add(request_id)
            self.book.bonus_tokens[(lab.requester_id, token)] = request_id

    def balance(self) -> None:
        lab = random.choice(self.labs)
        answer = self.call(lab, "get_account_balance")
        assert not answer["AvailableBalance"].startswith("-")

    # -- running ----------------------------------------------------------------------------------

    def one(self) -> None:
        operation = random.choices(
            (self.fund, self.create_hit, self.work, self.review, self.bonus, self.balance),
            weights=(8, 15, 25, 17, 25, 10),
        )[0]
        self.book.count(operation.__name__)
        operation()

    def client_thread(self, failures: list[BaseException]) -> None:
        while not self.stop.is_set():
            try:
                self.one()
            except BaseException as error:
                failures.append(error)
                self.stop.set()
                return

    def run(self, threads: int, seconds: float, faults: Sequence[tuple[float, Callable[[], None]]]) -> None:
        failures: list[BaseException] = []
        pool = [threading.Thread(target=self.client_thread, args=(failures,)) for _ in range(threads)]
        started = time.monotonic()
        for thread in pool:
            thread.start()
        try:
            for at, fault in sorted(faults, key=lambda f: f[0]):
                wait = started + at - time.monotonic()
                if self.stop.wait(max(0.0, wait)):
                    break
                fault()
            self.stop.wait(max(0.0, started + seconds - time.monotonic()))
        finally:
            self.stop.set()
            for thread in pool:
                thread.join(timeout=120)
        if failures:
            raise failures[0]


# --- a client that hangs up halfway through a request ---------------------------------------------


def half_sent_send_bonus(url: str, lab: Lab, worker: str, assignment: str, token: str) -> None:
    """Send a signed SendBonus whose body stops halfway, then close the connection: it must pay nothing."""
    body = json.dumps(
        {"WorkerId": worker, "AssignmentId": assignment, "BonusAmount": "0.50", "Reason": "cut",
         "UniqueRequestToken": token}
    ).encode()  # fmt: skip
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={"X-Amz-Target": f"{TARGET}.SendBonus", "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(lab.key, lab.secret), "mturk-requester", REGION).add_auth(request)
    parsed = urlparse(url)
    head = f"POST / HTTP/1.1\r\nHost: {parsed.netloc}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "content-length")
    with socket.create_connection((parsed.hostname, parsed.port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n" + body[: len(body) // 2])
        time.sleep(0.05)


# --- the checks ----------------------------------------------------------------------------------


def check_books(services: Services, db_url: str, book: Ledgerbook, labs: Sequence[Lab], initial: int) -> None:
    """Everything acknowledged is in the books exactly once; nothing is negative; money adds up."""
    audit = json.loads(run_cli("ledger", "audit", "--json", "--db", db_url, check=False).stdout)
    assert audit["ok"] is True, audit
    with services.db.read() as conn:
        # Every SendBonus answered 200 is one bonus and one journal entry, under its own request id.
        for request_id in book.bonus_requests:
            entries = conn.execute(
                select(func.count())
                .select_from(journal_entries)
                .where(journal_entries.c.request_id == request_id)
            ).scalar_one()
            rows = conn.execute(
                select(func.count()).select_from(bonuses).where(bonuses.c.request_id == request_id)
            ).scalar_one()
            assert (entries, rows) == (1, 1), f"bonus request {request_id}: {entries} entries, {rows} bonuses"
        # Every token is at most one bonus, and exactly one when the client was told it was paid.
        paid_by_token: dict[str, int] = dict(
            conn.execute(
                select(bonuses.c.unique_request_token, func.count())
                .where(bonuses.c.unique_request_token.is_not(None))
                .group_by(bonuses.c.unique_request_token)
            ).all()
        )
        assert all(n == 1 for n in paid_by_token.values()), "a token paid twice"
        for (_, token), first in book.bonus_tokens.items():
            assert paid_by_token.get(token) == 1, f"token {token} acknowledged ({first}) but not paid once"
        # Every CreateHIT token acknowledged is one HIT with one reserve entry.
        for (requester_id, token), hit_id in book.hit_tokens.items():
            stored = conn.execute(
                select(request_tokens.c.result_id).where(
                    request_tokens.c.requester_id == requester_id, request_tokens.c.token == token
                )
            ).scalar_one_or_none()
            assert stored is not None, (token, hit_id)
            assert hit_id in ("", stored), (token, hit_id, stored)
            reserves = conn.execute(
                select(func.count())
                .select_from(journal_entries)
                .where(journal_entries.c.hit_id == stored, journal_entries.c.kind == "hit_reserve")
            ).scalar_one()
            assert reserves == 1, f"HIT {stored}: {reserves} reserve entries"
        # Approved means paid once; rejected means refunded once.
        for assignment_id, kind, status in [
            *((a, "reward", "Approved") for a in book.approved),
            *((a, "assignment_refund", "Rejected") for a in book.rejected),
        ]:
            row_status = conn.execute(
                select(assignments.c.status).where(assignments.c.id == assignment_id)
            ).scalar_one()
            entries = conn.execute(
                select(func.count())
                .select_from(journal_entries)
                .where(journal_entries.c.assignment_id == assignment_id, journal_entries.c.kind == kind)
            ).scalar_one()
            assert (row_status, entries) == (status, 1), (assignment_id, row_status, kind, entries)
        # No balance is negative.
        negative = conn.execute(
            select(accounts.c.code).where(
                accounts.c.kind != "funding", accounts.c.debits_posted > accounts.c.credits_posted
            )
        ).all()
        assert negative == [], negative
        # The money held by everyone equals the money deposited, and that is what the clients deposited.
        held = conn.execute(
            select(func.sum(accounts.c.credits_posted - accounts.c.debits_posted)).where(
                accounts.c.kind != "funding"
            )
        ).scalar_one()
        deposited = conn.execute(
            select(func.sum(accounts.c.debits_posted - accounts.c.credits_posted)).where(
                accounts.c.kind == "funding"
            )
        ).scalar_one()
        deposit_entries: dict[str, int] = dict(
            conn.execute(
                select(journal_entries.c.requester_id, func.count())
                .where(journal_entries.c.kind == "deposit")
                .group_by(journal_entries.c.requester_id)
            ).all()
        )
    assert int(held) == int(deposited)
    acked = initial + sum(book.deposits_acked.values())
    assert acked <= int(deposited) <= acked + sum(book.deposits_unknown.values()), (acked, deposited)
    for lab in labs:
        low = book.deposit_entries_acked[lab.requester_id] + 1  # the starting balance is a deposit too
        high = low + book.deposit_entries_unknown[lab.requester_id]
        assert low <= deposit_entries.get(lab.requester_id, 0) <= high, lab.requester_id
