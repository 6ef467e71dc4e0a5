"""SendBonus and ListBonusPayments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.money import format_amount, parse_cents
from openturk.protocol.handlers.base import Call, Handler
from openturk.protocol.handlers.shapes import paged
from openturk.service.bonuses import Bonus


def send_bonus(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    call.services.bonuses.send(
        call.requester_id,
        params["WorkerId"],
        params["AssignmentId"],
        parse_cents(params["BonusAmount"]),
        params["Reason"],
        params.get("UniqueRequestToken"),
        request_id=call.request_id,
    )
    return {}


def bonus_structure(bonus: Bonus) -> dict[str, Any]:
    return {
        "WorkerId": bonus.worker_id,
        "BonusAmount": format_amount(bonus.amount_cents),
        "AssignmentId": bonus.assignment_id,
        "Reason": bonus.reason,
        "GrantTime": bonus.granted_at,
    }


def list_bonus_payments(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    page = call.services.bonuses.list_payments(
        call.requester_id,
        params.get("HITId"),
        params.get("AssignmentId"),
        params.get("NextToken"),
        params.get("MaxResults"),
    )
    return paged(page, "BonusPayments", bonus_structure)


HANDLERS: dict[str, Handler] = {"SendBonus": send_bonus, "ListBonusPayments": list_bonus_payments}
