"""GetRequesterStatistic and GetRequesterWorkerStatistic over real HTTP, checked against the books:
what was paid, what is held and what is left always add up to what was deposited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from openturk.service.statistics.periods import Window, windows
from tests.hit_support import cli
from tests.legacy_client import LegacyClient, flatten
from tests.support import RunningServer, start_server
from tests.test_legacy_api import balance, legacy
from tests.test_legacy_flow import hit_params
from tests.test_legacy_review_policies import legacy_policy
from tests.test_review_policies_e2e import KNOWN_ANSWERS, _submit

INVALID = "AWS.MechanicalTurk.InvalidParameterValue"


@pytest.fixture
def turk(db_url: str) -> Iterator[RunningServer]:
    running = start_server(db_url)  # its own server: the test moves the marketplace clock
    yield running
    running.stop()


def stat(client: LegacyClient, statistic: str, period: str = "LifeToDate", **extra: object) -> list[str]:
    answer = client.ok(
        "GetRequesterWorkerStatistic" if "WorkerId" in extra else "GetRequesterStatistic",
        {"Statistic": statistic, "TimePeriod": period, **extra},
    ).result("GetStatisticResult")
    assert answer.findtext("Statistic") == statistic
    assert answer.findtext("TimePeriod") == period
    return [str(p.findtext("LongValue") or p.findtext("DoubleValue")) for p in answer.iter("DataPoint")]


def test_requester_statistics_add_up_to_the_books(turk: RunningServer) -> None:
    client = legacy(turk, turk.requester(balance_cents=10_000))
    params = hit_params(**{"Reward.1.Amount": "0.50", "MaxAssignments": 3})
    hit_id = str(client.ok("CreateHIT", params).root.findtext("HIT/HITId"))
    ann, bob = (turk.services.workers.create(n, "US").id for n in ("ann", "bob"))
    good, _ = _submit(turk, hit_id, ann, label="cat")
    bad, _ = _submit(turk, hit_id, bob, label="?")
    client.ok("ApproveAssignment", {"AssignmentId": good})
    client.ok("RejectAssignment", {"AssignmentId": bad})
    bonus = {"WorkerId": ann, "AssignmentId": good, "BonusAmount.1.Amount": "1.00", "Reason": "Well done"}
    client.ok("GrantBonus", {**bonus, "BonusAmount.1.CurrencyCode": "USD"})

    expected = {
        "NumberAssignmentsAccepted": "2",
        "NumberAssignmentsApproved": "1",
        "NumberAssignmentsRejected": "1",
        "PercentAssignmentsApproved": "0.500000",
        "PercentAssignmentsRejected": "0.500000",
        "TotalRewardPayout": "0.50",
        "AverageRewardAmount": "0.500000",
        "TotalRewardFeePayout": "0.10",
        "TotalBonusPayout": "1.00",
        "TotalBonusFeePayout": "0.20",
        "TotalFeePayout": "0.30",
        "TotalRewardAndFeePayout": "0.60",
        "NumberHITsCreated": "1",
        "NumberAssignmentsPending": "0",
        "NumberAssignmentsAvailable": "1",
        "NumberHITsAssignable": "1",
        "NumberHITsReviewable": "0",
        "NumberHITsCompleted": "0",
        "EstimatedRewardLiability": "0.50",  # the unused third slot; the rejected one was refunded
        "EstimatedFeeLiability": "0.10",
        "EstimatedTotalLiability": "0.60",
    }
    assert {name: stat(client, name) for name in expected} == {k: [v] for k, v in expected.items()}
    held, paid = Decimal("0.60"), Decimal("0.60") + Decimal("1.20")
    assert Decimal(balance(client)) + held + paid == Decimal("100.00")

    # OneDay: one data point per day up to today; the periods move with the marketplace clock.
    assert stat(client, "NumberAssignmentsApproved", "OneDay", Count=3) == ["0", "0", "1"]
    cli(turk, "clock", "advance", "2d")
    assert stat(client, "NumberAssignmentsApproved", "OneDay") == ["0"]
    assert stat(client, "TotalRewardPayout", "SevenDays") == ["0.50"]
    assert stat(client, "TotalBonusPayout", "ThirtyDays") == ["1.00"]
    assert stat(client, "NumberHITsCreated", "LifeToDate") == ["1"]


def test_worker_statistics_are_the_callers_own(turk: RunningServer) -> None:
    who = turk.requester(balance_cents=10_000)
    client, other = legacy(turk, who), legacy(turk, turk.requester("other"))
    params = hit_params(**{"Reward.1.Amount": "1.00", "MaxAssignments": 2})
    params.update(flatten("AssignmentReviewPolicy.1", legacy_policy(KNOWN_ANSWERS)))
    hit_id = str(client.ok("CreateHIT", params).root.findtext("HIT/HITId"))
    ann = turk.services.workers.create("ann", "US").id
    _, status = _submit(turk, hit_id, ann, color="blue", shape="square")  # one known answer of two
    assert status == "Rejected"
    expected = {
        "NumberAssignmentsApproved": "0",
        "NumberAssignmentsRejected": "1",
        "PercentAssignmentsRejected": "1.000000",
        "NumberKnownAnswersCorrect": "1",
        "NumberKnownAnswersIncorrect": "1",
        "NumberKnownAnswersEvaluated": "2",
        "PercentKnownAnswersCorrect": "50",
        "NumberPluralityAnswersEvaluated": "0",
    }
    assert {n: stat(client, n, WorkerId=ann) for n in expected} == {k: [v] for k, v in expected.items()}
    assert stat(other, "NumberKnownAnswersEvaluated", WorkerId=ann) == ["0"]
    assert stat(other, "NumberAssignmentsRejected", WorkerId=ann) == ["0"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Statistic": "NumberHITsAssignable", "TimePeriod": "SevenDays"}, INVALID),
        ({"Statistic": "NumberOfCats", "TimePeriod": "LifeToDate"}, INVALID),
        ({"Statistic": "TotalRewardPayout", "TimePeriod": "OneYear"}, INVALID),
        ({"Statistic": "TotalRewardPayout", "TimePeriod": "OneDay", "Count": 0}, "AWS.ParameterOutOfRange"),
        ({"Statistic": "TotalRewardPayout"}, "AWS.MissingParameters"),
    ],
)
def test_bad_statistics_requests(server: RunningServer, params: dict[str, object], code: str) -> None:
    refused = legacy(server, server.requester()).call("GetRequesterStatistic", params)
    assert refused.error_code == code, refused.text
    worker = legacy(server, server.requester()).call(
        "GetRequesterWorkerStatistic",
        {"WorkerId": "A1NOSUCHWORKER", "Statistic": "NumberAssignmentsApproved", "TimePeriod": "LifeToDate"},
    )
    assert worker.error_code == "AWS.MechanicalTurk.WorkerDoesNotExist", worker.text


def test_days_tile_time_without_overlap() -> None:
    now = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
    days = windows("OneDay", 3, now)
    assert [date for date, _ in days] == [datetime(2026, 11, d, tzinfo=UTC) for d in (21, 22, 23)]
    assert [(w.start, w.end) for _, w in days] == [
        (datetime(2026, 11, 21, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC)),
        (datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)),
        (datetime(2026, 11, 23, tzinfo=UTC), None),  # today, up to whatever is written
    ]
    assert windows("SevenDays", None, now) == [
        (now, Window(datetime(2026, 11, 16, 15, 30, tzinfo=UTC), None))
    ]
    assert windows("LifeToDate", 5, now) == [(now, Window(None, None))]  # Count is OneDay's only
