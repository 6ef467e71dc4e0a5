"""GetAccountBalance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.money import format_amount
from openturk.protocol.handlers.base import Call, Handler


def get_account_balance(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    balance = call.services.accounts.balance(call.requester_id)
    return {
        "AvailableBalance": format_amount(balance.available_cents),
        "OnHoldBalance": format_amount(balance.on_hold_cents),
    }


HANDLERS: dict[str, Handler] = {"GetAccountBalance": get_account_balance}
