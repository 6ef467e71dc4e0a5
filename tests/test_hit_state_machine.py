"""The HIT and assignment life cycle as a Hypothesis state machine, on a real SQLite file.

Several requesters and workers drive the service layer in-process (the HTTP path is covered elsewhere):
HITs are created, extended, expired, re-typed, reviewed and deleted; workers accept, submit and return;
requesters approve, reject, override rejections and send bonuses, with and without UniqueRequestTokens;
the marketplace clock jumps so that assignments are abandoned, auto-approved and HITs expire.  A
plain-Python reference model predicts the outcome of every step (success, or exactly which error) and
where every cent is; after each step the books are audited and compared with the model, and GetHIT and
ListAssignmentsForHIT are compared with the model's counts and statuses.

The marketplace clock's wall time is pinned (``MarketClock`` takes its wall clock as a parameter), so only
``clock.advance`` moves marketplace time and the model decides every deadline exactly as the service does,
boundaries included (a lifetime of 60 s and an advance of 60 s is an expiry).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from sqlalchemy import func, select

from openturk.errors import (
    AssignmentDoesNotExistError,
    DuplicateRequestError,
    HITDoesNotExistError,
    InsufficientFundsError,
    InvalidHITStateError,
    InvalidMaximumAssignmentsIncreaseError,
    InvalidStateError,
    OpenTurkError,
    ParameterError,
)
from openturk.service.audit import run_audit
from openturk.service.pricing import bonus_fee, slot_price
from openturk.service.records import HitSpec, HitTypeSpec
from openturk.service.services import Services, open_services
from openturk.service.transitions import OVERRIDE_WINDOW
from openturk.settings import Settings
from openturk.storage.schema import accounts as accounts_table
from openturk.storage.schema import assignments as assignments_table
from openturk.storage.schema import hits as hits_table
from openturk.storage.schema import journal_entries
from tests.hit_support import EXTERNAL
from tests.support import fresh_db_url, on_postgres, pg_databases

T0 = datetime(2030, 1, 1, tzinfo=UTC)
FEES = Settings().fees
HIT_STATUSES = frozenset({"Assignable", "Unassignable", "Reviewable", "Reviewing", "Disposed"})
LIVE = frozenset({"Accepted", "Submitted", "Approved", "Rejected"})  # one per worker and HIT
VISIBLE = frozenset({"Submitted", "Approved", "Rejected"})  # what a requester can see
REVIEWABLE = frozenset({"Submitted", "Rejected"})  # what approval can still pay
REQUESTERS = 2
WORKERS = 4
MAX_HITS = 8  # every step reads every HIT back, so more HITs make each step slower, not the test better
ANSWER = [("answer", "yes")]

# Times in seconds.  The sampled values line up with one another so that exact boundaries
# (deadline == now, expiry == now, auto-approval == now) come up often.  Most operations happen with
# no time passing before them, so that assignments live long enough to be submitted and reviewed.
LIFETIMES = st.sampled_from([30, 60, 600, 3_600, 86_400, 604_800])
DURATIONS = st.sampled_from([30, 60, 300, 3_600, 86_400])
DELAYS = st.sampled_from([0, 60, 3_600, 259_200])
ADVANCES = st.one_of(
    st.sampled_from([1, 29, 30, 31, 60, 300, 600, 3_600, 86_400, 259_200]),
    st.integers(min_value=1, max_value=7_200),
)
WAITS = st.sampled_from([0, 0, 0, 0, 0, 0, 30, 60, 600, 3_600, 259_200])
# Zero (no fee), one cent (the minimum fee), amounts whose 20% and 40% round half-up, and anything.
REWARDS = st.one_of(st.sampled_from([0, 1, 2, 3, 7, 33, 100, 500]), st.integers(min_value=0, max_value=500))
# UniqueRequestTokens: a requester's tokens share one namespace across CreateHIT,
# CreateAdditionalAssignmentsForHIT and SendBonus, and are remembered for a day of marketplace time.
TOKENS = st.sampled_from([None, None, "alpha", "beta"])
TOKEN_LIFETIME = Settings().token_lifetime


def pinned_services(db_url: str) -> Services:
    services = open_services(Settings().with_db(db_url))
    # open_services wires the system clock as the wall; pin it so only clock.advance moves time.
    services.clock._wall = lambda: T0
    return services


def refused(step: str, expected: type[OpenTurkError], call: Callable[[], object]) -> None:
    """``call`` raises exactly ``expected`` (not a sibling or a subclass); count it as an outcome."""
    with pytest.raises(OpenTurkError) as info:
        call()
    assert type(info.value) is expected, f"expected {expected.__name__}, got {info.value!r}"
    event(f"{step}: {expected.__name__}")


# --- the reference model ---------------------------------------------------------------------------


@dataclass
class ModelAssignment:
    id: str
    hit_id: str
    worker: int
    status: str
    deadline: datetime
    auto_approval_at: datetime | None = None
    submitted_at: datetime | None = None


@dataclass
class ModelHit:
    id: str
    requester: int
    reward: int
    fee: int
    max_assignments: int
    expires_at: datetime
    duration_s: int
    delay_s: int
    released: int = 0  # slots whose price went back to the requester (expiry, deletion)
    expiry_settled: bool = False
    reviewing: bool = False
    disposed: bool = False
    assignments: list[ModelAssignment] = field(default_factory=list)

    @property
    def unit(self) -> int:
        return self.reward + self.fee

    def count(self, status: str) -> int:
        return sum(a.status == status for a in self.assignments)

    def unused(self) -> int:
        taken = sum(self.count(s) for s in LIVE)
        return self.max_assignments - taken - self.released

    def unsettled(self) -> int:
        return self.max_assignments - self.count("Approved") - self.count("Rejected") - self.released

    def status(self, now: datetime) -> str:
        if self.disposed:
            return "Disposed"
        if self.reviewing:
            return "Reviewing"
        expired = self.expires_at <= now
        done = self.count("Submitted") + self.count("Approved") + self.count("Rejected")
        if self.count("Accepted") == 0 and (expired or done + self.released >= self.max_assignments):
            return "Reviewable"
        if not expired and self.unused() > 0:
            return "Assignable"
        return "Unassignable"


class Model:
    """Where the money should be, and what every HIT and assignment should look like."""

    def __init__(self) -> None:
        self.now = T0
        self.requester_ids: list[str] = []
        self.access_keys: list[str] = []
        self.worker_ids: list[str] = []
        self.balance: list[int] = []  # each requester's available balance
        self.earned: list[int] = []  # each worker's balance
        self.tokens: list[dict[str, datetime]] = []  # each requester's remembered tokens, to expiry
        self.deposited = 0
        self.fees = 0
        self.hits: dict[str, ModelHit] = {}
        self.assignments: dict[str, ModelAssignment] = {}

    def hit_of(self, a: ModelAssignment) -> ModelHit:
        return self.hits[a.hit_id]

    def settle(self, h: ModelHit) -> None:
        """After every change to a HIT: an expired HIT gives back the price of its unused slots, and a
        Reviewing HIT that can be worked again (it was extended) is Assignable."""
        if h.disposed:
            return
        if h.reviewing:
            h.reviewing = False
            if h.status(self.now) != "Assignable":
                h.reviewing = True
            else:
                event("extension: Reviewing HIT back on the market")
        if h.expires_at <= self.now:
            h.expiry_settled = True
            unused = h.unused()
            if unused > 0:
                event("expiry: released unused slots")
                self.balance[h.requester] += unused * h.unit
                h.released += unused

    def settle_due(self) -> None:
        """What every transaction of the service does first."""
        for a in self.assignments.values():
            if a.status == "Accepted" and a.deadline <= self.now:
                a.status = "Abandoned"
                event("clock: abandoned")
                self.settle(self.hit_of(a))
        for a in self.assignments.values():
            if a.status == "Submitted":
                assert a.auto_approval_at is not None
                if a.auto_approval_at <= self.now:
                    event("clock: auto-approved")
                    self.pay(a)
        for h in self.hits.values():
            if not h.disposed and not h.expiry_settled and h.expires_at <= self.now:
                self.settle(h)

    def wait(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self.settle_due()

    def pay(self, a: ModelAssignment) -> None:
        h = self.hit_of(a)
        if a.status == "Rejected":  # an overridden rejection is reserved again first
            self.balance[h.requester] -= h.unit
        self.earned[a.worker] += h.reward
        self.fees += h.fee
        a.status = "Approved"
        self.settle(h)

    def affords(self, requester: int, cents: int) -> bool:
        return cents <= 0 or self.balance[requester] >= cents

    def token_taken(self, requester: int, token: str | None) -> bool:
        return token is not None and self.tokens[requester].get(token, self.now) > self.now

    def remember(self, requester: int, token: str | None) -> None:
        """A token is kept only with what it guarded: a refused operation rolls its claim back."""
        if token is not None:
            self.tokens[requester][token] = self.now + TOKEN_LIFETIME


# --- the machine -----------------------------------------------------------------------------------


class HitLifeCycle(RuleBasedStateMachine):
    hits: Bundle[str] = Bundle("hits")
    assignments: Bundle[str] = Bundle("assignments")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="openturk-machine-"))
        self.db_url = fresh_db_url(self.dir)  # SQLite, or PostgreSQL on the suite's PostgreSQL run
        self.services = pinned_services(self.db_url)
        self.model = Model()
        self.earnings_seen = [0] * WORKERS

    def teardown(self) -> None:
        self.services.close()
        if on_postgres():
            pg_databases().drop(self.db_url)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------------

    def wait(self, seconds: int) -> None:
        """Let marketplace time pass before the next operation, which then settles what became due."""
        if seconds:
            self.services.clock.advance(timedelta(seconds=seconds))
            self.model.wait(seconds)

    def owner(self, h: ModelHit) -> str:
        return self.model.requester_ids[h.requester]

    def stranger(self, h: ModelHit) -> str:
        return self.model.requester_ids[(h.requester + 1) % REQUESTERS]

    def snapshot(self, requester: int) -> tuple[int, int, int]:
        """Balance, HIT count and journal size.  The balance is read first because GetAccountBalance
        settles whatever is due, so the counts read after it do not move between two snapshots."""
        requester_id = self.model.requester_ids[requester]
        available = self.services.accounts.balance(requester_id).available_cents
        with self.services.db.read() as conn:
            hit_count = conn.execute(
                select(func.count()).select_from(hits_table).where(hits_table.c.requester_id == requester_id)
            ).scalar_one()
            entries = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
        return available, int(hit_count), int(entries)

    # --- people and money -------------------------------------------------------------------------

    @initialize(
        target=hits,
        balances=st.lists(
            st.integers(min_value=0, max_value=5_000), min_size=REQUESTERS, max_size=REQUESTERS
        ),
        reward=REWARDS,
        max_assignments=st.integers(min_value=1, max_value=12),
        lifetime=LIFETIMES,
        duration=DURATIONS,
        delay=DELAYS,
    )
    def open_market(
        self,
        balances: list[int],
        reward: int,
        max_assignments: int,
        lifetime: int,
        duration: int,
        delay: int,
    ) -> str | MultipleResults[str]:
        """Requesters with random balances, workers, and a first HIT its requester can pay for (so the
        rules that need a HIT are enabled from the first step)."""
        first_hit = max_assignments * slot_price(FEES, reward, max_assignments).total_cents
        for i, cents in enumerate([balances[0] + first_hit, *balances[1:]]):
            created = self.services.accounts.create_requester(f"requester {i}", balance_cents=cents)
            assert created.balance_cents == cents
            self.model.requester_ids.append(created.requester.id)
            self.model.access_keys.append(created.access_key_id)
            self.model.balance.append(cents)
            self.model.tokens.append({})
            self.model.deposited += cents
        for j in range(WORKERS):
            self.model.worker_ids.append(self.services.workers.create(f"worker {j}", "US").id)
            self.model.earned.append(0)
        return self.create_hit(0, reward, max_assignments, lifetime, duration, delay, None)

    @rule(requester=st.integers(0, REQUESTERS - 1), cents=st.integers(min_value=1, max_value=3_000))
    def fund(self, requester: int, cents: int) -> None:
        self.services.accounts.fund(self.model.access_keys[requester], cents)
        self.model.balance[requester] += cents
        self.model.deposited += cents

    @rule(seconds=ADVANCES)
    def advance_clock(self, seconds: int) -> None:
        self.wait(seconds)

    # --- HITs -----------------------------------------------------------------------------------

    @precondition(lambda self: len(self.model.hits) < MAX_HITS)
    @rule(
        target=hits,
        requester=st.integers(0, REQUESTERS - 1),
        reward=REWARDS,
        max_assignments=st.integers(min_value=1, max_value=12),
        lifetime=LIFETIMES,
        duration=DURATIONS,
        delay=DELAYS,
        token=TOKENS,
    )
    def create_hit(
        self,
        requester: int,
        reward: int,
        max_assignments: int,
        lifetime: int,
        duration: int,
        delay: int,
        token: str | None,
    ) -> str | MultipleResults[str]:
        m = self.model
        price = slot_price(FEES, reward, max_assignments)
        hit_type = HitTypeSpec("Label a picture", "Say what you see", reward, duration, delay)
        spec = HitSpec(EXTERNAL, lifetime, max_assignments, unique_request_token=token)
        requester_id = m.requester_ids[requester]
        refusal: type[OpenTurkError] | None = None
        if m.token_taken(requester, token):
            refusal = DuplicateRequestError
        elif not m.affords(requester, max_assignments * price.total_cents):
            refusal = InsufficientFundsError
        if refusal is not None:
            before = self.snapshot(requester)
            refused(
                "create_hit",
                refusal,
                lambda: self.services.hits.create_hit(requester_id, hit_type, spec, request_id="create"),
            )
            assert self.snapshot(requester) == before, "a refused CreateHIT changed something"
            return multiple()
        hit = self.services.hits.create_hit(requester_id, hit_type, spec, request_id="create")
        event(f"create_hit: ok, {'free' if reward == 0 else 'large' if max_assignments >= 10 else 'paid'}")
        assert (hit.reward_cents, hit.fee_cents, hit.max_assignments) == (
            price.reward_cents,
            price.fee_cents,
            max_assignments,
        )
        assert hit.status == "Assignable"
        assert hit.expires_at == m.now + timedelta(seconds=lifetime)
        m.balance[requester] -= max_assignments * price.total_cents
        m.remember(requester, token)
        m.hits[hit.id] = ModelHit(
            hit.id,
            requester,
            price.reward_cents,
            price.fee_cents,
            max_assignments,
            hit.expires_at,
            duration,
            delay,
        )
        return hit.id

    @rule(hit_id=hits, count=st.integers(min_value=1, max_value=5), token=TOKENS, wait=WAITS)
    def create_additional_assignments(self, hit_id: str, count: int, token: str | None, wait: int) -> None:
        self.wait(wait)
        m, h = self.model, self.model.hits[hit_id]

        def call() -> None:
            self.services.hits.create_additional_assignments(
                self.owner(h), hit_id, count, token, request_id="more"
            )

        threshold = FEES.large_hit_threshold
        if m.token_taken(h.requester, token):
            refused("create_additional_assignments", DuplicateRequestError, call)
        elif h.disposed:
            refused("create_additional_assignments", InvalidHITStateError, call)
        elif h.max_assignments < threshold <= h.max_assignments + count:
            refused("create_additional_assignments", InvalidMaximumAssignmentsIncreaseError, call)
        elif not m.affords(h.requester, count * h.unit):
            refused("create_additional_assignments", InsufficientFundsError, call)
        else:
            call()
            event(f"create_additional_assignments: ok{' (expired)' if h.expires_at <= m.now else ''}")
            m.balance[h.requester] -= count * h.unit
            m.remember(h.requester, token)
            h.max_assignments += count
            m.settle(h)  # on an expired HIT the new slots are released at once

    @rule(hit_id=hits, offset=st.sampled_from([-86_400, -1, 0, 30, 600, 86_400]), wait=WAITS)
    def update_expiration(self, hit_id: str, offset: int, wait: int) -> None:
        self.wait(wait)
        m, h = self.model, self.model.hits[hit_id]
        expire_at = m.now + timedelta(seconds=offset)

        def call() -> None:
            self.services.hits.update_expiration(self.owner(h), hit_id, expire_at, request_id="expire")

        if h.disposed:
            refused("update_expiration", InvalidHITStateError, call)
        elif offset <= 0:
            call()
            event("update_expiration: expire now")
            h.expires_at = min(h.expires_at, m.now)
            m.settle(h)
        elif not m.affords(h.requester, h.released * h.unit):
            refused("update_expiration", InsufficientFundsError, call)
        else:
            call()
            event(f"update_expiration: extend{' (reserve again)' if h.released else ''}")
            m.balance[h.requester] -= h.released * h.unit
            h.released = 0
            h.expiry_settled = False
            h.expires_at = expire_at
            m.settle(h)

    @rule(hit_id=hits, revert=st.booleans())
    def update_review_status(self, hit_id: str, revert: bool) -> None:
        m, h = self.model, self.model.hits[hit_id]

        def call() -> None:
            self.services.hits.update_review_status(self.owner(h), hit_id, revert)

        if h.status(m.now) != ("Reviewing" if revert else "Reviewable"):
            refused("update_review_status", InvalidHITStateError, call)
        else:
            call()
            event(f"update_review_status: revert={revert}")
            h.reviewing = not revert
            m.settle(h)

    @rule(hit_id=hits, reward=REWARDS, duration=DURATIONS, delay=DELAYS)
    def update_hit_type(self, hit_id: str, reward: int, duration: int, delay: int) -> None:
        """Move the HIT to another type (every unsettled slot is re-priced)."""
        m, h = self.model, self.model.hits[hit_id]
        type_id = self.services.hits.create_hit_type(
            self.owner(h), HitTypeSpec("Label a picture", "Say what you see", reward, duration, delay)
        )
        price = slot_price(FEES, reward, h.max_assignments)
        extra = h.unsettled() * (price.total_cents - h.unit)

        def call() -> None:
            self.services.hits.update_hit_type_of_hit(self.owner(h), hit_id, type_id, request_id="retype")

        if h.disposed:
            refused("update_hit_type", InvalidHITStateError, call)
        elif not m.affords(h.requester, extra):
            refused("update_hit_type", InsufficientFundsError, call)
        else:
            call()
            event(f"update_hit_type: ok{' (new price)' if price.total_cents != h.unit else ''}")
            m.balance[h.requester] -= extra
            h.reward, h.fee, h.duration_s, h.delay_s = price.reward_cents, price.fee_cents, duration, delay
            m.settle(h)

    @rule(hit_id=hits)
    def delete_hit(self, hit_id: str) -> None:
        m, h = self.model, self.model.hits[hit_id]

        def call() -> None:
            self.services.hits.delete_hit(self.owner(h), hit_id, request_id="delete")

        if h.status(m.now) not in ("Reviewable", "Reviewing") or h.count("Submitted"):
            refused("delete_hit", InvalidHITStateError, call)
        else:
            call()
            event(f"delete_hit: ok ({h.status(m.now)})")
            unsettled = h.unsettled()
            m.balance[h.requester] += unsettled * h.unit
            h.released += unsettled
            h.disposed, h.reviewing = True, False

    # --- the worker side ----------------------------------------------------------------------------

    def _accept(self, h: ModelHit, worker: int) -> str | MultipleResults[str]:
        m = self.model
        worker_id = m.worker_ids[worker]
        live = any(a.worker == worker and a.status in LIVE for a in h.assignments)
        if h.status(m.now) != "Assignable" or live:
            refused("accept", InvalidHITStateError, lambda: self.services.workers.accept(h.id, worker_id))
            return multiple()
        accepted = self.services.workers.accept(h.id, worker_id)
        event(f"accept: ok{' (again)' if any(a.worker == worker for a in h.assignments) else ''}")
        deadline = m.now + timedelta(seconds=h.duration_s)
        assert accepted.deadline == deadline
        a = ModelAssignment(accepted.assignment_id, h.id, worker, "Accepted", deadline)
        h.assignments.append(a)
        m.assignments[a.id] = a
        m.settle(h)
        return a.id

    @rule(target=assignments, hit_id=hits, worker=st.integers(0, WORKERS - 1), wait=WAITS)
    def accept(self, hit_id: str, worker: int, wait: int) -> str | MultipleResults[str]:
        self.wait(wait)
        return self._accept(self.model.hits[hit_id], worker)

    @rule(
        target=assignments,
        hit_id=hits,
        worker=st.integers(0, WORKERS - 1),
        decision=st.sampled_from([None, "approve", "reject"]),
    )
    def accept_and_submit(self, hit_id: str, worker: int, decision: str | None) -> str | MultipleResults[str]:
        """A worker who answers at once, and maybe a requester who reviews at once: submitted assignments
        are otherwise soon auto-approved, and rejected ones (for OverrideRejection) would be rare."""
        accepted = self._accept(self.model.hits[hit_id], worker)
        if isinstance(accepted, str):
            self.submit(accepted, 0)
            if decision == "approve":
                self.approve(accepted, False, 0)
            elif decision == "reject":
                self.reject(accepted, 0)
        return accepted

    @rule(target=assignments, assignment_id=assignments, wait=WAITS)
    def accept_again(self, assignment_id: str, wait: int) -> str | MultipleResults[str]:
        """The same worker takes the same HIT again: refused while the first assignment is live."""
        self.wait(wait)
        a = self.model.assignments[assignment_id]
        return self._accept(self.model.hit_of(a), a.worker)

    @rule(assignment_id=assignments, wait=WAITS)
    def submit(self, assignment_id: str, wait: int) -> None:
        self.wait(wait)
        m, a = self.model, self.model.assignments[assignment_id]
        h = m.hit_of(a)
        if a.status != "Accepted":
            refused("submit", InvalidStateError, lambda: self.services.workers.submit(assignment_id, ANSWER))
            return
        status = self.services.workers.submit(assignment_id, ANSWER)
        expired = " (HIT expired)" if h.expires_at <= m.now else ""
        event(f"submit: ok{expired}{' (delay 0)' if not h.delay_s else ''}")
        a.status = "Submitted"
        a.submitted_at = m.now
        a.auto_approval_at = m.now + timedelta(seconds=h.delay_s)
        if h.delay_s == 0:
            m.pay(a)
        m.settle(h)
        assert status == a.status

    @rule(assignment_id=assignments, wait=WAITS)
    def return_assignment(self, assignment_id: str, wait: int) -> None:
        self.wait(wait)
        m, a = self.model, self.model.assignments[assignment_id]
        if a.status != "Accepted":
            refused(
                "return_assignment",
                InvalidStateError,
                lambda: self.services.workers.return_assignment(assignment_id),
            )
            return
        self.services.workers.return_assignment(assignment_id)
        event("return_assignment: ok")
        a.status = "Returned"
        m.settle(m.hit_of(a))

    # --- the requester's review ---------------------------------------------------------------------

    @rule(assignment_id=assignments, override=st.booleans(), wait=WAITS)
    def approve(self, assignment_id: str, override: bool, wait: int) -> None:
        self.wait(wait)
        m, a = self.model, self.model.assignments[assignment_id]
        h = m.hit_of(a)

        def call() -> None:
            self.services.assignments.approve(self.owner(h), assignment_id, "good", override, request_id="ok")

        if a.status not in VISIBLE:
            refused("approve", AssignmentDoesNotExistError, call)
        elif a.status == "Approved":
            call()  # approving twice succeeds and pays nothing
            event("approve: already approved")
        elif a.status == "Rejected" and not override:
            refused("approve", InvalidStateError, call)
        elif a.status == "Rejected" and (h.disposed or m.now - (a.submitted_at or m.now) > OVERRIDE_WINDOW):
            refused("approve", InvalidStateError, call)  # MTurk: within 30 days, while the HIT exists
        elif a.status == "Rejected" and not m.affords(h.requester, h.unit):
            refused("approve", InsufficientFundsError, call)
        else:
            call()
            event(f"approve: ok ({a.status})")
            m.pay(a)
            got, _ = self.services.assignments.get(self.owner(h), assignment_id)
            assert (got.status, got.requester_feedback) == ("Approved", "good")

    @rule(assignment_id=assignments, wait=WAITS)
    def reject(self, assignment_id: str, wait: int) -> None:
        self.wait(wait)
        m, a = self.model, self.model.assignments[assignment_id]
        h = m.hit_of(a)

        def call() -> None:
            self.services.assignments.reject(self.owner(h), assignment_id, "bad", request_id="no")

        if a.status not in VISIBLE:
            refused("reject", AssignmentDoesNotExistError, call)
        elif a.status != "Submitted":
            refused("reject", InvalidStateError, call)
        else:
            call()
            event("reject: ok")
            a.status = "Rejected"
            m.balance[h.requester] += h.unit
            m.settle(h)

    @rule(
        assignment_id=assignments,
        cents=st.integers(min_value=1, max_value=300),
        right_worker=st.sampled_from([True, True, True, False]),
        token=TOKENS,
        wait=WAITS,
    )
    def send_bonus(
        self, assignment_id: str, cents: int, right_worker: bool, token: str | None, wait: int
    ) -> None:
        self.wait(wait)
        m, a = self.model, self.model.assignments[assignment_id]
        h = m.hit_of(a)
        worker = a.worker if right_worker else (a.worker + 1) % WORKERS
        fee = bonus_fee(FEES, cents)

        def call() -> None:
            self.services.bonuses.send(
                self.owner(h), m.worker_ids[worker], assignment_id, cents, "thanks", token, request_id="bonus"
            )

        if m.token_taken(h.requester, token):
            refused("send_bonus", DuplicateRequestError, call)
        elif a.status not in VISIBLE:
            refused("send_bonus", AssignmentDoesNotExistError, call)
        elif not right_worker:
            refused("send_bonus", ParameterError, call)
        elif not m.affords(h.requester, cents + fee):
            refused("send_bonus", InsufficientFundsError, call)
        else:
            call()
            event(f"send_bonus: ok ({a.status})")
            m.balance[h.requester] -= cents + fee
            m.earned[worker] += cents
            m.fees += fee
            m.remember(h.requester, token)

    @precondition(lambda self: any(a.status in REVIEWABLE for a in self.model.assignments.values()))
    @rule(
        pick=st.integers(min_value=0, max_value=100),
        decision=st.sampled_from(["approve", "reject", "override"]),
    )
    def review(self, pick: int, decision: str) -> None:
        """Review one of the submitted (or rejected) assignments there are: the assignments bundle holds
        mostly returned, abandoned and approved ones, so approve and reject alone seldom get there."""
        candidates = [a.id for a in self.model.assignments.values() if a.status in REVIEWABLE]
        assignment_id = candidates[pick % len(candidates)]
        if decision == "reject":
            self.reject(assignment_id, 0)
        else:
            self.approve(assignment_id, decision == "override", 0)

    @rule(hit_id=hits, assignment_id=assignments)
    def a_stranger_sees_nothing(self, hit_id: str, assignment_id: str) -> None:
        """Another requester's HITs and assignments do not exist for it, whatever their state."""
        m = self.model
        h, a = m.hits[hit_id], m.assignments[assignment_id]
        stranger, other = self.stranger(h), self.stranger(m.hit_of(a))
        refused("stranger", HITDoesNotExistError, lambda: self.services.hits.get_hit(stranger, hit_id))
        refused(
            "stranger",
            HITDoesNotExistError,
            lambda: self.services.hits.delete_hit(stranger, hit_id, request_id="x"),
        )
        refused(
            "stranger",
            HITDoesNotExistError,
            lambda: self.services.hits.update_expiration(stranger, hit_id, m.now, request_id="x"),
        )
        refused(
            "stranger",
            AssignmentDoesNotExistError,
            lambda: self.services.assignments.approve(other, assignment_id, None, True, request_id="x"),
        )
        refused(
            "stranger",
            AssignmentDoesNotExistError,
            lambda: self.services.assignments.reject(other, assignment_id, "x", request_id="x"),
        )

    # --- invariants --------------------------------------------------------------------------------

    @invariant()
    def books_are_sound(self) -> None:
        report = run_audit(self.services.db)
        assert report.ok, "\n".join(report.problems)
        assert report.deposited_cents == report.total_cents == self.model.deposited

    @invariant()
    def money_is_where_the_model_says(self) -> None:
        m = self.model
        # GetAccountBalance settles what the clock made due before it reads.
        for i, requester_id in enumerate(m.requester_ids):
            available = self.services.accounts.balance(requester_id).available_cents
            assert available >= 0
            assert available == m.balance[i], f"requester {i}"
        # Each worker's earnings are read again whenever the model says it was paid since the last look.
        for j, worker_id in enumerate(m.worker_ids):
            if self.earnings_seen[j] != m.earned[j]:
                self.earnings_seen[j] = sum(p.cents for p in self.services.workers.earnings(worker_id))
        with self.services.db.read() as conn:
            held = {
                str(code): int(credits - debits)
                for code, credits, debits in conn.execute(
                    select(
                        accounts_table.c.code, accounts_table.c.credits_posted, accounts_table.c.debits_posted
                    )
                )
            }
            assignment_count = conn.execute(select(func.count()).select_from(assignments_table)).scalar_one()
        workers = [held[f"worker:{w}"] for w in m.worker_ids]
        fees, deposited = held["fees"], -held["deposits"]
        escrow = {
            code.removeprefix("escrow:"): cents for code, cents in held.items() if code.startswith("escrow:")
        }
        assert min(workers) >= 0
        assert workers == self.earnings_seen == m.earned
        assert fees == m.fees
        assert deposited == m.deposited
        assert escrow == {h.id: h.unsettled() * h.unit for h in m.hits.values()}
        assert sum(m.balance) + sum(escrow.values()) + sum(workers) + fees == deposited
        assert assignment_count == len(m.assignments)

    @invariant()
    def hits_look_as_the_model_says(self) -> None:
        m = self.model
        for h in m.hits.values():
            got = self.services.hits.get_hit(self.owner(h), h.id)
            expired = h.expires_at <= m.now
            submitted = h.count("Submitted")
            assert got.status in HIT_STATUSES
            assert got.status == h.status(m.now), h.id
            assert (got.max_assignments, got.reward_cents, got.fee_cents) == (
                h.max_assignments,
                h.reward,
                h.fee,
            )
            assert got.expires_at == h.expires_at
            assert got.num_pending == h.count("Accepted")
            assert got.num_available == (0 if expired or h.disposed else h.unused())
            assert got.num_completed == h.count("Approved") + h.count("Rejected")
            assert got.num_pending + got.num_available + got.num_completed + submitted <= got.max_assignments
            if not h.assignments:
                continue  # (and there are as many assignments as the model has: see above)
            page = self.services.assignments.list_for_hit(self.owner(h), h.id, None, None, 100)
            assert {a.id: a.status for a in page.items} == {
                a.id: a.status for a in h.assignments if a.status in VISIBLE
            }


HitLifeCycle.TestCase.settings = settings(max_examples=25, stateful_step_count=100, deadline=None)
TestHitLifeCycle = HitLifeCycle.TestCase


# --- deterministic regressions for paths the machine found worth pinning down ---------------------

TYPE = HitTypeSpec("Label a picture", "Say what you see", 100, 120, 3_600)  # a slot costs 1.00 + 0.20


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    opened = pinned_services(db_url)
    yield opened
    opened.close()


def available(services: Services, requester_id: str) -> int:
    return services.accounts.balance(requester_id).available_cents


def test_expiry_keeps_pending_slots_until_they_end_and_extension_reserves_only_released_ones(
    services: Services,
) -> None:
    requester = services.accounts.create_requester("lab", balance_cents=1_000).requester.id
    alice, bob = services.workers.create("alice").id, services.workers.create("bob").id
    hit = services.hits.create_hit(requester, TYPE, HitSpec(EXTERNAL, 60, 3), request_id="create")
    first = services.workers.accept(hit.id, alice).assignment_id
    second = services.workers.accept(hit.id, bob).assignment_id
    assert available(services, requester) == 640

    services.clock.advance(timedelta(seconds=60))  # exactly the lifetime: expired
    got = services.hits.get_hit(requester, hit.id)
    assert (got.status, got.num_pending, got.num_available) == ("Unassignable", 2, 0)
    assert available(services, requester) == 760  # only the unused slot came back
    assert services.workers.submit(first, ANSWER) == "Submitted"  # the assignment outlives the HIT

    services.clock.advance(timedelta(seconds=60))  # exactly bob's deadline: abandoned
    with pytest.raises(InvalidStateError):
        services.workers.submit(second, ANSWER)
    assert services.hits.get_hit(requester, hit.id).status == "Reviewable"
    assert available(services, requester) == 880
    services.assignments.reject(requester, first, "no", request_id="reject")
    assert available(services, requester) == 1_000

    # Extending reserves the two released slots again, not the rejected one.
    services.hits.update_expiration(requester, hit.id, T0 + timedelta(hours=2), request_id="extend")
    got = services.hits.get_hit(requester, hit.id)
    assert (got.status, got.num_available, got.num_completed) == ("Assignable", 2, 1)
    assert available(services, requester) == 760
    report = run_audit(services.db)
    assert report.ok, report.problems


def test_overriding_a_rejection_needs_the_money_and_a_hit_not_deleted(services: Services) -> None:
    """Overriding charges the reward again (refused, moving nothing, without the money); once the HIT is
    deleted it is refused whatever the balance (MTurk: "only if the assignment's related HIT has not
    been deleted")."""
    lab = services.accounts.create_requester("lab", balance_cents=122)
    requester, worker = lab.requester.id, services.workers.create("w").id
    hit = services.hits.create_hit(requester, TYPE, HitSpec(EXTERNAL, 600, 1), request_id="create")
    assignment = services.workers.accept(hit.id, worker).assignment_id
    services.workers.submit(assignment, ANSWER)
    services.assignments.reject(requester, assignment, "no", request_id="reject")
    assert available(services, requester) == 122
    cheap = HitTypeSpec("Other", "Other", 1, 60, 60)  # 0.01 + the 0.01 minimum fee
    services.hits.create_hit(requester, cheap, HitSpec(EXTERNAL, 600, 2), request_id="spend")
    assert available(services, requester) == 118

    with pytest.raises(InsufficientFundsError):
        services.assignments.approve(requester, assignment, "sorry", True, request_id="override")
    assert available(services, requester) == 118
    assert services.workers.balance(worker) == 0
    assert services.assignments.get(requester, assignment)[0].status == "Rejected"

    services.accounts.fund(lab.access_key_id, 2)
    services.hits.delete_hit(requester, hit.id, request_id="delete")
    with pytest.raises(InvalidStateError, match="belongs to a deleted HIT"):
        services.assignments.approve(requester, assignment, "sorry", True, request_id="override")
    assert available(services, requester) == 120
    assert services.workers.balance(worker) == 0
    got = services.hits.get_hit(requester, hit.id)
    assert (got.status, got.num_completed) == ("Disposed", 1)
    report = run_audit(services.db)
    assert report.ok, report.problems


def test_balance_shows_an_expiry_refund_without_another_request(services: Services) -> None:
    requester = services.accounts.create_requester("lab", balance_cents=1_000).requester.id
    services.hits.create_hit(requester, TYPE, HitSpec(EXTERNAL, 60, 1), request_id="create")
    assert available(services, requester) == 880
    services.clock.advance(timedelta(seconds=60))
    assert available(services, requester) == 1_000  # GetAccountBalance settles the expiry itself


def test_update_hit_type_of_hit_reprices_unsettled_slots(services: Services) -> None:
    """The machine's first find (Row._replace on a re-price), fixed in ec25612."""
    requester = services.accounts.create_requester("lab", balance_cents=1_000).requester.id
    hit = services.hits.create_hit(requester, TYPE, HitSpec(EXTERNAL, 600, 2), request_id="create")
    assert available(services, requester) == 760
    dearer = services.hits.create_hit_type(requester, HitTypeSpec("Dearer", "Dearer", 200, 120, 3_600))
    services.hits.update_hit_type_of_hit(requester, hit.id, dearer, request_id="retype")
    assert available(services, requester) == 520  # 2 x (2.00 + 0.40)
    assert services.hits.get_hit(requester, hit.id).reward_cents == 200
    report = run_audit(services.db)
    assert report.ok, report.problems
