"""Legacy operations end to end over real HTTP, checked against the 2017 API (boto3) on the same server."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openturk.money import format_amount, parse_cents
from tests.hit_support import EXTERNAL
from tests.legacy_client import LegacyClient, flatten
from tests.support import RunningServer
from tests.test_legacy_api import balance, legacy, submitted

HIT_LAYOUT = [
    "Request", "HITId", "HITTypeId", "HITGroupId", "CreationTime", "Title", "Description", "Question",
    "Keywords", "HITStatus", "MaxAssignments", "Reward", "AutoApprovalDelayInSeconds", "Expiration",
    "AssignmentDurationInSeconds", "NumberOfSimilarHITs", "RequesterAnnotation",
    "QualificationRequirement", "QualificationRequirement", "HITReviewStatus",
    "NumberOfAssignmentsPending", "NumberOfAssignmentsAvailable", "NumberOfAssignmentsCompleted",
]  # fmt: skip


def parse_time(text: str | None) -> datetime:
    assert text is not None
    assert text.endswith("Z")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def hit_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Title": "Label a picture",
        "Description": "Say what you see",
        "Keywords": "image, label",
        "Reward.1.Amount": "0.50",
        "Reward.1.CurrencyCode": "USD",
        "AssignmentDurationInSeconds": 600,
        "AutoApprovalDelayInSeconds": 86400,
        "LifetimeInSeconds": 3600,
        "MaxAssignments": 1,
        "Question": EXTERNAL,
    }
    params.update(overrides)
    return params


def test_full_legacy_flow(server: RunningServer) -> None:
    client = legacy(server, server.requester(balance_cents=10_000), style="v1")
    type_params = {
        k: v for k, v in hit_params().items() if k not in ("LifetimeInSeconds", "MaxAssignments", "Question")
    }
    type_id = client.ok("RegisterHITType", type_params).root.findtext("RegisterHITTypeResult/HITTypeId")
    assert type_id
    created = client.ok(
        "CreateHIT",
        {"HITTypeId": type_id, "Question": EXTERNAL, "LifetimeInSeconds": 3600, "MaxAssignments": 1},
    )
    hit_id = str(created.root.findtext("HIT/HITId"))
    assert created.root.findtext("HIT/HITTypeId") == type_id
    assert created.root.findtext("HIT/HITGroupId")
    assert created.root.findtext("HIT/Expiration")
    assert balance(client) == "99.40"  # 0.50 reward and its 0.10 fee reserved
    hit = client.ok("GetHIT", {"HITId": hit_id}).root.find("HIT")
    assert hit is not None
    assert hit.findtext("HITStatus") == "Assignable"
    assert hit.findtext("Reward/FormattedPrice") == "$0.50"
    assert hit.findtext("Question") == EXTERNAL

    worker = server.services.workers.create("w", "US").id
    assignment = server.services.workers.accept(hit_id, worker).assignment_id
    server.services.workers.submit(assignment, [("label", "a cat")])
    listed = client.ok("GetAssignmentsForHIT", {"HITId": hit_id}).root.find("GetAssignmentsForHITResult")
    assert listed is not None
    assert listed.findtext("NumResults") == "1"
    fetched = client.ok("GetAssignment", {"AssignmentId": assignment}).root.find("GetAssignmentResult")
    assert fetched is not None
    assert [c.tag for c in fetched] == ["Request", "Assignment", "HIT"]
    assert fetched.findtext("Assignment/AssignmentStatus") == "Submitted"
    assert "a cat" in str(fetched.findtext("Assignment/Answer"))

    client.ok("ApproveAssignment", {"AssignmentId": assignment, "RequesterFeedback": "Thanks"})
    approved = client.ok("GetAssignment", {"AssignmentId": assignment}).root
    assert approved.findtext("GetAssignmentResult/Assignment/AssignmentStatus") == "Approved"
    assert approved.findtext("GetAssignmentResult/Assignment/ApprovalTime")
    bonus = {
        "WorkerId": worker,
        "AssignmentId": assignment,
        "Reason": "Great",
        **flatten("BonusAmount", [{"Amount": "1", "CurrencyCode": "USD"}]),
    }
    client.ok("GrantBonus", bonus)
    payments = client.ok("GetBonusPayments", {"HITId": hit_id}).root
    assert payments.findtext("GetBonusPaymentsResult/BonusPayment/BonusAmount/Amount") == "1.00"
    assert balance(client) == "98.20"
    reviewable = client.ok("GetReviewableHITs", {}).root.find("GetReviewableHITsResult")
    assert reviewable is not None
    assert [h.findtext("HITId") for h in reviewable.findall("HIT")] == [hit_id]
    assert [c.tag for c in reviewable.findall("HIT/*")] == ["HITId", "HITTypeId"]  # Minimal only
    client.ok("DisposeHIT", {"HITId": hit_id})
    assert client.ok("SearchHITs", {}).root.findtext("SearchHITsResult/TotalNumResults") == "0"
    earnings = server.services.workers.earnings(worker)
    assert sorted((p.kind, p.cents) for p in earnings) == [("bonus", 100), ("reward", 50)]


def test_hit_layout_and_qualification_requirements(server: RunningServer) -> None:
    lab = server.requester()
    client = legacy(server, lab)
    requirements = [
        {
            "QualificationTypeId": "000000000000000000L0",
            "Comparator": "GreaterThanOrEqualTo",
            "IntegerValue": "95",
        },
        {
            "QualificationTypeId": "00000000000000000071",
            "Comparator": "In",
            "LocaleValue": [{"Country": "US"}, {"Country": "CA", "Subdivision": "QC"}],
            "RequiredToPreview": True,
        },
    ]
    params = hit_params(RequesterAnnotation="batch 7", **flatten("QualificationRequirement", requirements))
    hit_id = client.ok("CreateHIT", params).root.findtext("HIT/HITId")
    hit = client.ok(
        "GetHIT",
        {
            "HITId": hit_id,
            "ResponseGroup.1": "Minimal",
            "ResponseGroup.2": "HITDetail",
            "ResponseGroup.3": "HITQuestion",
            "ResponseGroup.4": "HITAssignmentSummary",
        },
    ).root.find("HIT")
    assert hit is not None
    assert [c.tag for c in hit] == HIT_LAYOUT
    assert hit.findtext("NumberOfSimilarHITs") == "1"
    first, second = hit.findall("QualificationRequirement")
    assert [c.tag for c in first] == ["QualificationTypeId", "Comparator", "IntegerValue"]
    assert [
        (c.tag, c.findtext("Country"), c.findtext("Subdivision")) for c in second.findall("LocaleValue")
    ] == [("LocaleValue", "US", None), ("LocaleValue", "CA", "QC")]
    assert second.findtext("RequiredToPreview") == "true"
    via_boto3 = server.client(lab).get_hit(HITId=hit_id)["HIT"]["QualificationRequirements"]
    assert via_boto3[0]["IntegerValues"] == [95]
    assert via_boto3[1]["LocaleValues"] == [{"Country": "US"}, {"Country": "CA", "Subdivision": "QC"}]
    default = client.ok("GetHIT", {"HITId": hit_id}).root.find("HIT")
    assert default is not None
    assert default.find("NumberOfAssignmentsPending") is None  # off by default for GetHIT


def test_a_bonus_granted_through_one_api_is_listed_by_the_other(server: RunningServer) -> None:
    lab = server.requester(balance_cents=10_000)
    client, boto3 = legacy(server, lab), server.client(lab)
    hit_id, worker, assignment = submitted(server, client)
    client.ok(
        "GrantBonus",
        {
            "WorkerId": worker,
            "AssignmentId": assignment,
            "BonusAmount.1.Amount": "0.33",
            "BonusAmount.1.CurrencyCode": "USD",
            "Reason": "legacy",
        },
    )
    after_legacy = balance(client)
    boto3.send_bonus(WorkerId=worker, AssignmentId=assignment, BonusAmount="0.33", Reason="json")
    after_json = boto3.get_account_balance()["AvailableBalance"]
    # The same amount costs the same through both doors: 0.33 and a 0.07 fee.
    assert 10_000 - parse_cents(after_legacy) == 40
    assert parse_cents(after_legacy) - parse_cents(after_json) == 40
    from_json = boto3.list_bonus_payments(HITId=hit_id)["BonusPayments"]
    assert [(p["Reason"], p["BonusAmount"]) for p in from_json] == [("legacy", "0.33"), ("json", "0.33")]
    from_legacy = client.ok("GetBonusPayments", {"HITId": hit_id}).root.find("GetBonusPaymentsResult")
    assert from_legacy is not None
    assert [
        (p.findtext("Reason"), p.findtext("BonusAmount/Amount")) for p in from_legacy.findall("BonusPayment")
    ] == [("legacy", "0.33"), ("json", "0.33")]


def test_numbered_pages_follow_the_2017_order_and_stay_per_requester(server: RunningServer) -> None:
    lab = server.requester(balance_cents=100_000)
    client, boto3 = legacy(server, lab, method="GET"), server.client(lab)
    for n in range(23):
        client.ok("CreateHIT", hit_params(Title=f"HIT {n}", **{"Reward.1.Amount": "0.01"}))
    order = [h["HITId"] for h in boto3.list_hits(MaxResults=100)["HITs"]]
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        result = client.ok("SearchHITs", {"PageSize": 10, "PageNumber": page}).root.find("SearchHITsResult")
        assert result is not None
        assert result.findtext("TotalNumResults") == "23"
        assert result.findtext("PageNumber") == str(page)
        assert result.findtext("NumResults") == str(len(result.findall("HIT")))
        if page < 4:  # SearchHITs' default groups: detail and assignment summary, no question
            assert result.find("HIT/Question") is None
            assert result.find("HIT/NumberOfAssignmentsAvailable") is not None
        seen += [str(h.findtext("HITId")) for h in result.findall("HIT")]
    assert seen == order
    assert client.ok("SearchHITs", {}).root.findtext("SearchHITsResult/NumResults") == "10"  # default size
    other = legacy(server, server.requester())
    assert other.ok("SearchHITs", {}).root.findtext("SearchHITsResult/TotalNumResults") == "0"
    missing = other.call("GetHIT", {"HITId": order[0]})
    assert missing.error_code == "AWS.MechanicalTurk.HITDoesNotExist"


def test_hit_and_assignment_state_operations(server: RunningServer) -> None:
    lab = server.requester(balance_cents=10_000)
    client = legacy(server, lab)
    hit_id, _worker, assignment = submitted(server, client, reward="1.00")
    expiration = parse_time(client.ok("GetHIT", {"HITId": hit_id}).root.findtext("HIT/Expiration"))
    client.ok(
        "ExtendHIT", {"HITId": hit_id, "ExpirationIncrementInSeconds": 3600, "MaxAssignmentsIncrement": 1}
    )
    extended = client.ok("GetHIT", {"HITId": hit_id}).root
    assert parse_time(extended.findtext("HIT/Expiration")) - expiration == timedelta(hours=1)
    assert extended.findtext("HIT/MaxAssignments") == "3"
    assert balance(client) == "96.40"  # three slots of 1.00 + 0.20
    client.ok("RejectAssignment", {"AssignmentId": assignment})
    wrong = client.call("ApproveRejectedAssignment", {"AssignmentId": "NOSUCH"})
    assert wrong.error_code == "AWS.MechanicalTurk.AssignmentDoesNotExist"
    client.ok("ApproveRejectedAssignment", {"AssignmentId": assignment, "RequesterFeedback": "sorry"})
    again = client.call("ApproveRejectedAssignment", {"AssignmentId": assignment})
    assert again.error_code == "AWS.MechanicalTurk.InvalidAssignmentState"
    client.ok("ForceExpireHIT", {"HITId": hit_id})
    assert balance(client) == "98.80"  # the two unused slots came back
    assert client.ok("GetHIT", {"HITId": hit_id}).root.findtext("HIT/HITStatus") == "Reviewable"
    client.ok("SetHITAsReviewing", {"HITId": hit_id})
    reviewing = client.ok("GetReviewableHITs", {"Status": "Reviewing"}).root
    assert reviewing.findtext("GetReviewableHITsResult/HIT/HITId") == hit_id
    client.ok("SetHITAsReviewing", {"HITId": hit_id, "Revert": "true"})
    assert client.ok("GetHIT", {"HITId": hit_id}).root.findtext("HIT/HITStatus") == "Reviewable"
    cheaper = client.ok(
        "RegisterHITType",
        {
            k: v
            for k, v in hit_params(**{"Reward.1.Amount": "0.10"}).items()
            if k not in ("LifetimeInSeconds", "MaxAssignments", "Question")
        },
    )
    live_id, _w, _a = submitted(server, client, reward="1.00")
    new_type = cheaper.root.findtext("RegisterHITTypeResult/HITTypeId")
    client.ok("ChangeHITTypeOfHIT", {"HITId": live_id, "HITTypeId": new_type})
    assert client.ok("GetHIT", {"HITId": live_id}).root.findtext("HIT/HITTypeId") == new_type
    before = balance(client)
    client.ok("DisableHIT", {"HITId": live_id})
    disabled = client.ok("GetHIT", {"HITId": live_id}).root
    assert disabled.findtext("HIT/HITStatus") == "Disposed"
    assert disabled.findtext("HIT/NumberOfAssignmentsCompleted") is None  # summary is off for GetHIT
    approved = server.client(lab).list_assignments_for_hit(HITId=live_id)["Assignments"]
    assert [a["AssignmentStatus"] for a in approved] == ["Approved"]
    assert parse_cents(balance(client)) - parse_cents(before) == 12  # the unused slot's 0.10 + 0.02 back


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.integers(min_value=1, max_value=100_000), zeros=st.integers(min_value=0, max_value=2))
def test_bonus_amounts_to_the_cent(server: RunningServer, cents: int, zeros: int) -> None:
    client, worker, assignment = _target(server)
    before = parse_cents(balance(client))
    amount = format_amount(cents) + "0" * zeros  # old SDKs print floats with trailing zeros
    client.ok(
        "GrantBonus",
        {
            "WorkerId": worker,
            "AssignmentId": assignment,
            "BonusAmount.1.Amount": amount,
            "BonusAmount.1.CurrencyCode": "USD",
            "Reason": "r",
        },
    )
    fee = max(int((Decimal(cents) * Decimal("0.20")).quantize(Decimal(1), rounding=ROUND_HALF_UP)), 1)
    assert before - parse_cents(balance(client)) == cents + fee


_TARGETS: dict[str, tuple[LegacyClient, str, str]] = {}


def _target(server: RunningServer) -> tuple[LegacyClient, str, str]:
    """One well-funded requester and submitted assignment for every example."""
    if server.url not in _TARGETS:
        client = legacy(server, server.requester(balance_cents=100_000_000))
        _hit, worker, assignment = submitted(server, client)
        _TARGETS[server.url] = (client, worker, assignment)
    return _TARGETS[server.url]


def test_extend_hit_is_one_operation_refused_whole_or_done_whole(server: RunningServer) -> None:
    """ExtendHIT adds assignments and moves the expiration in one transaction: a bad increment refuses
    the whole call (no assignment bought, the token still free), a good retry with it does both."""
    client = legacy(server, server.requester(balance_cents=10_000))
    hit_id, _worker, _assignment = submitted(server, client, reward="1.00")
    before = client.ok("GetHIT", {"HITId": hit_id}).root
    expiration = parse_time(before.findtext("HIT/Expiration"))
    assert balance(client) == "97.60"
    for seconds in (-5, 0, 59, 31_536_001):
        refused = client.call(
            "ExtendHIT",
            {
                "HITId": hit_id,
                "MaxAssignmentsIncrement": 3,
                "ExpirationIncrementInSeconds": seconds,
                "UniqueRequestToken": "extend-once",
            },
        )
        assert refused.error_code == "AWS.ParameterOutOfRange"
    # Too many assignments (across the 10-assignment line) refuses the new expiration too.
    crossing = client.call(
        "ExtendHIT", {"HITId": hit_id, "MaxAssignmentsIncrement": 8, "ExpirationIncrementInSeconds": 3600}
    )
    assert crossing.error_code == "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease"
    after = client.ok("GetHIT", {"HITId": hit_id}).root
    assert after.findtext("HIT/MaxAssignments") == "2"
    assert parse_time(after.findtext("HIT/Expiration")) == expiration
    assert balance(client) == "97.60"

    params = {
        "HITId": hit_id,
        "MaxAssignmentsIncrement": 3,
        "ExpirationIncrementInSeconds": 3600,
        "UniqueRequestToken": "extend-once",
    }
    client.ok("ExtendHIT", params)
    extended = client.ok("GetHIT", {"HITId": hit_id}).root
    assert extended.findtext("HIT/MaxAssignments") == "5"
    assert parse_time(extended.findtext("HIT/Expiration")) - expiration == timedelta(hours=1)
    assert balance(client) == "94.00"  # three more slots of 1.00 + 0.20
    assert client.call("ExtendHIT", params).error_code == "AWS.MechanicalTurk.DuplicateRequest"
    assert balance(client) == "94.00"
