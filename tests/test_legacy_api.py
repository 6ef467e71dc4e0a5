"""The legacy query/XML API over real HTTP: the seed documents' samples, both signature forms, GET and
POST, every protocol version, and every refusal as a legacy error that changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openturk.service.accounts import NewRequester
from tests.hit_support import EXTERNAL
from tests.legacy_client import LegacyClient, LegacyResponse, utc_timestamp
from tests.support import RunningServer

REQUEST_ID = r"<OperationRequest><RequestId>[0-9a-f-]{36}</RequestId></OperationRequest>"


def legacy(server: RunningServer, who: NewRequester, **options: Any) -> LegacyClient:
    return LegacyClient(server.url, who.access_key_id, who.secret_access_key, **options)


def balance(client: LegacyClient) -> str:
    return str(
        client.ok("GetAccountBalance").root.findtext("GetAccountBalanceResult/AvailableBalance/Amount")
    )


def bonus_params(worker: str, assignment: str, amount: str = "0.50") -> dict[str, str]:
    """A GrantBonus request's parameters, the amount flattened as a Price."""
    return {
        "WorkerId": worker,
        "AssignmentId": assignment,
        "BonusAmount.1.Amount": amount,
        "BonusAmount.1.CurrencyCode": "USD",
        "Reason": "thanks",
    }


def submitted(server: RunningServer, client: LegacyClient, reward: str = "0.00") -> tuple[str, str, str]:
    """A HIT created through the legacy API and one assignment a worker submitted on it."""
    hit = client.ok(
        "CreateHIT",
        {
            "Title": "Label",
            "Description": "Say what you see",
            "Reward.1.Amount": reward,
            "Reward.1.CurrencyCode": "USD",
            "AssignmentDurationInSeconds": 600,
            "LifetimeInSeconds": 3600,
            "MaxAssignments": 2,
            "Question": EXTERNAL,
        },
    )
    hit_id = str(hit.root.findtext("HIT/HITId"))
    worker = server.services.workers.create("w", "US").id
    assignment = server.services.workers.accept(hit_id, worker).assignment_id
    server.services.workers.submit(assignment, [("answer", "done")])
    return hit_id, worker, assignment


@pytest.mark.parametrize("style", ["documented", "v1"])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("version", ["2012-03-25", "2014-08-15", "2017-01-17"])
def test_seed_get_account_balance_every_way(
    server: RunningServer, style: str, method: str, version: str
) -> None:
    """Seed 000: the sample response, element for element, with the Price structure of seed 001."""
    who = server.requester(balance_cents=1_000_000)
    response = legacy(server, who, style=style, method=method, version=version).call("GetAccountBalance")
    assert response.status == 200
    assert re.fullmatch(
        "<GetAccountBalanceResponse>"
        + REQUEST_ID
        + "<GetAccountBalanceResult><Request><IsValid>True</IsValid>"
        "</Request><AvailableBalance><Amount>10000.00</Amount><CurrencyCode>USD</CurrencyCode>"
        "<FormattedPrice>\\$10,000.00</FormattedPrice></AvailableBalance></GetAccountBalanceResult>"
        "</GetAccountBalanceResponse>",
        response.text,
    ), response.text


def test_seed_grant_bonus_and_get_bonus_payments(server: RunningServer) -> None:
    """Seeds 002 and 003: GrantBonus's sample request and response; GetBonusPayments empty, then listed."""
    client = legacy(server, server.requester(balance_cents=10_000))
    hit_id, worker, assignment = submitted(server, client)
    empty = client.ok("GetBonusPayments", {"HITId": hit_id})
    assert re.fullmatch(
        "<GetBonusPaymentsResponse>" + REQUEST_ID + "<GetBonusPaymentsResult><Request><IsValid>True</IsValid>"
        "</Request><NumResults>0</NumResults><TotalNumResults>0</TotalNumResults><PageNumber>1</PageNumber>"
        "</GetBonusPaymentsResult></GetBonusPaymentsResponse>",
        empty.text,
    ), empty.text
    assert balance(client) == "100.00"
    granted = client.call(
        "GrantBonus",
        {
            "WorkerId": worker,
            "AssignmentId": assignment,
            "BonusAmount.1.Amount": "5",
            "BonusAmount.1.CurrencyCode": "USD",
            "Reason": "Thanks for doing great work!",
        },
    )
    assert re.fullmatch(
        "<GrantBonusResponse>" + REQUEST_ID + "<GrantBonusResult><Request><IsValid>True</IsValid></Request>"
        "</GrantBonusResult></GrantBonusResponse>",
        granted.text,
    ), granted.text
    assert balance(client) == "94.00"  # 5.00 and the 20% fee
    listed = client.ok("GetBonusPayments", {"AssignmentId": assignment})
    stamp = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
    assert re.fullmatch(
        "<GetBonusPaymentsResponse>" + REQUEST_ID + "<GetBonusPaymentsResult><Request><IsValid>True</IsValid>"
        "</Request><NumResults>1</NumResults><TotalNumResults>1</TotalNumResults><PageNumber>1</PageNumber>"
        f"<BonusPayment><WorkerId>{worker}</WorkerId><BonusAmount><Amount>5.00</Amount><CurrencyCode>USD"
        "</CurrencyCode><FormattedPrice>\\$5.00</FormattedPrice></BonusAmount>"
        f"<AssignmentId>{assignment}</AssignmentId><Reason>Thanks for doing great work!</Reason>"
        f"<GrantTime>{stamp}</GrantTime></BonusPayment></GetBonusPaymentsResult></GetBonusPaymentsResponse>",
        listed.text,
    ), listed.text


def test_seed_price_structure_in_a_reward(server: RunningServer) -> None:
    """Seed 001: Reward.1.Amount=0.32&Reward.1.CurrencyCode=USD comes back as a Price structure."""
    client = legacy(server, server.requester())
    response = client.ok(
        "CreateHIT",
        {
            "Title": "t",
            "Description": "d",
            "Reward.1.Amount": "0.32",
            "Reward.1.CurrencyCode": "USD",
            "AssignmentDurationInSeconds": 600,
            "LifetimeInSeconds": 3600,
            "Question": EXTERNAL,
        },
    )
    assert (
        "<Reward><Amount>0.32</Amount><CurrencyCode>USD</CurrencyCode><FormattedPrice>$0.32</FormattedPrice>"
        "</Reward>" in response.text
    )


def test_timestamps_verify_as_sent_with_offset_or_milliseconds(server: RunningServer) -> None:
    who = server.requester()
    now = datetime.now(UTC)
    offset = now.astimezone(UTC).replace(tzinfo=None) - timedelta(hours=7)
    forms = [
        now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        offset.strftime("%Y-%m-%dT%H:%M:%S") + "-07:00",
    ]
    for style in ("documented", "v1"):
        for stamp in forms:
            response = legacy(server, who, style=style).call("GetAccountBalance", timestamp=stamp)
            assert response.valid, (stamp, response.text)


def auth_error(response: LegacyResponse, code: str) -> None:
    assert response.status == 200
    assert re.fullmatch(
        "<GetAccountBalanceResponse><OperationRequest><RequestId>[0-9a-f-]{36}</RequestId><Errors><Error>"
        f"<Code>{re.escape(code)}</Code><Message>[^<]+</Message></Error></Errors></OperationRequest>"
        "</GetAccountBalanceResponse>",
        response.text,
    ), response.text


@pytest.mark.parametrize("style", ["documented", "v1"])
def test_bad_credentials_and_stale_timestamps(server: RunningServer, style: str) -> None:
    who = server.requester()
    client = legacy(server, who, style=style)
    auth_error(client.call("GetAccountBalance", timestamp=utc_timestamp(-16 * 60)), "AWS.BadClaimsSupplied")
    auth_error(client.call("GetAccountBalance", timestamp=utc_timestamp(16 * 60)), "AWS.BadClaimsSupplied")
    auth_error(client.call("GetAccountBalance", timestamp="yesterday"), "AWS.BadClaimsSupplied")
    assert client.call("GetAccountBalance", timestamp=utc_timestamp(-14 * 60)).valid
    wrong_secret = LegacyClient(server.url, who.access_key_id, "x" * 40, style=style)
    auth_error(wrong_secret.call("GetAccountBalance"), "AWS.NotAuthorized")
    unknown_key = LegacyClient(server.url, "AKIANOSUCHKEY0000000", who.secret_access_key, style=style)
    auth_error(unknown_key.call("GetAccountBalance"), "AWS.NotAuthorized")
    tampered = client.signed("GetAccountBalance")
    tampered["Signature"] = tampered["Signature"][:-4] + "AAA="
    auth_error(client.send(tampered), "AWS.NotAuthorized")
    unsigned = client.signed("GetAccountBalance")
    del unsigned["Signature"]
    auth_error(client.send(unsigned), "AWS.NotAuthorized")


def test_signature_covers_the_parameters_in_version_1(server: RunningServer) -> None:
    """A v1 signature is over every parameter: changing one after signing is refused, and nothing moves."""
    client = legacy(server, server.requester(balance_cents=10_000), style="v1")
    _hit, worker, assignment = submitted(server, client)
    params = client.signed(
        "GrantBonus",
        {"WorkerId": worker, "AssignmentId": assignment, "BonusAmount.1.Amount": "1", "Reason": "r"},
    )
    params["BonusAmount.1.Amount"] = "90"
    response = client.send(params)
    assert response.root.findtext("OperationRequest/Errors/Error/Code") == "AWS.NotAuthorized"
    assert response.root.find("GrantBonusResult") is None
    assert balance(client) == "100.00"
    assert (
        client.ok("GetBonusPayments", {"AssignmentId": assignment}).root.findtext(
            "GetBonusPaymentsResult/TotalNumResults"
        )
        == "0"
    )


def test_refusals_are_legacy_errors_and_change_nothing(server: RunningServer) -> None:
    client = legacy(server, server.requester(balance_cents=10_000))
    hit_id, worker, assignment = submitted(server, client)
    bonus = {"WorkerId": worker, "AssignmentId": assignment, "BonusAmount.1.Amount": "1", "Reason": "r"}

    def refused(operation: str, params: dict[str, Any], code: str) -> LegacyResponse:
        response = client.call(operation, params)
        assert response.status == 200, response.text
        assert response.root.findtext("./*/Request/IsValid") == "False", response.text
        assert response.error_code == code, response.text
        return response

    missing = refused(
        "GrantBonus", {k: v for k, v in bonus.items() if k != "Reason"}, "AWS.MissingParameters"
    )
    assert "Reason" in str(missing.error_message)
    refused(
        "GrantBonus", {**bonus, "BonusAmount.1.Amount": "0.001"}, "AWS.MechanicalTurk.InvalidParameterValue"
    )
    refused(
        "GrantBonus",
        {**bonus, "BonusAmount.1.CurrencyCode": "EUR"},
        "AWS.MechanicalTurk.InvalidParameterValue",
    )
    refused("GrantBonus", {**bonus, "BonusAmount.1.Amount": "500"}, "AWS.MechanicalTurk.InsufficientFunds")
    nul = client.call("GrantBonus", {**bonus, "Reason": "thanks\x00"})  # PostgreSQL could not store it
    assert nul.error_code == "AWS.MechanicalTurk.InvalidParameterValue", nul.text
    assert "Reason contains the character U+0000" in str(nul.error_message)
    gone = refused(
        "GrantBonus", {**bonus, "AssignmentId": "NOSUCH"}, "AWS.MechanicalTurk.AssignmentDoesNotExist"
    )
    assert re.search(
        r"<Message>Assignment NOSUCH does not exist\. \([0-9]+ s\)</Message>"
        r"<Data><Key>AssignmentId</Key><Value>NOSUCH</Value></Data>",
        gone.text,
    )
    for size in ("0", "101", "-1"):
        refused("GetBonusPayments", {"HITId": hit_id, "PageSize": size}, "AWS.ParameterOutOfRange")
    refused("SearchHITs", {"PageSize": "101"}, "AWS.ParameterOutOfRange")
    refused("GetBonusPayments", {"HITId": hit_id, "PageNumber": "0"}, "AWS.ParameterOutOfRange")
    refused(
        "GetBonusPayments", {"HITId": hit_id, "PageSize": "ten"}, "AWS.MechanicalTurk.InvalidParameterValue"
    )
    refused("GetBonusPayments", {}, "AWS.MechanicalTurk.InvalidParameterValue")
    refused("GetHIT", {"HITId": "NOSUCH"}, "AWS.MechanicalTurk.HITDoesNotExist")
    for operation in ("Help", "ListHITs", "GetRequesterStatistics"):
        unknown = client.call(operation, {"Subject": "x"})
        assert unknown.status == 200
        assert unknown.root.tag == f"{operation}Response"
        assert unknown.root.findtext("OperationRequest/Errors/Error/Code") == "AWS.InvalidOperation"
    no_operation = client.send({k: v for k, v in client.signed("").items() if k != "Operation"})
    assert no_operation.root.findtext("OperationRequest/Errors/Error/Code") == "AWS.InvalidOperation"
    validated = client.ok("GrantBonus", {**bonus, "Validate": "true"})  # checked, not acted on
    assert validated.root.find("GrantBonusResult/Request/IsValid") is not None
    assert balance(client) == "100.00"
    assert (
        client.ok("GetBonusPayments", {"HITId": hit_id}).root.findtext(
            "GetBonusPaymentsResult/TotalNumResults"
        )
        == "0"
    )


def test_a_repeated_unique_request_token_pays_once(server: RunningServer) -> None:
    client = legacy(server, server.requester(balance_cents=10_000))
    _hit, worker, assignment = submitted(server, client)
    bonus = {
        "WorkerId": worker,
        "AssignmentId": assignment,
        "BonusAmount.1.Amount": "2.50",
        "Reason": "r",
        "UniqueRequestToken": f"{worker}_{assignment}",
    }
    first = client.ok("GrantBonus", bonus)
    first_id = first.root.findtext("OperationRequest/RequestId")
    again = client.call("GrantBonus", bonus)
    assert again.error_code == "AWS.MechanicalTurk.DuplicateRequest"
    assert str(first_id) in str(again.error_message)
    assert balance(client) == "97.00"


def test_malformed_requests_never_answer_500(server: RunningServer) -> None:
    client = legacy(server, server.requester())
    for response in (
        client.send({"Operation": "GetAccountBalance"}, method="GET"),
        client.send({}, method="POST"),
        client.send({**client.signed("GetAccountBalance"), "Service": "AWSECommerceService"}),
    ):
        assert response.status == 200, response.text
        assert response.root.find("OperationRequest/Errors/Error/Code") is not None, response.text
