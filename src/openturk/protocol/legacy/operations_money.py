"""GetAccountBalance, GrantBonus and GetBonusPayments: the same service calls as GetAccountBalance,
SendBonus and ListBonusPayments of the 2017 API, so the money rules (fees, funds, tokens) are one."""

from __future__ import annotations

from openturk.protocol.legacy import xml
from openturk.protocol.legacy.base import Context, Operation, Runner
from openturk.protocol.legacy.params import Params
from openturk.protocol.legacy.shapes import bonus_element, page_header
from openturk.protocol.legacy.xml import Xml


def get_account_balance(params: Params) -> Runner:
    def run(ctx: Context) -> Xml:
        balance = ctx.services.accounts.balance(ctx.requester_id)
        # The legacy service showed AvailableBalance only; OnHoldBalance was "not used, always 0".
        return xml.price("AvailableBalance", balance.available_cents)

    return run


def grant_bonus(params: Params) -> Runner:
    worker_id = params.required("WorkerId")
    assignment_id = params.required("AssignmentId")
    cents = params.price_cents("BonusAmount")
    assert cents is not None
    reason = params.required("Reason")
    token = params.text("UniqueRequestToken") or None

    def run(ctx: Context) -> Xml:
        ctx.services.bonuses.send(
            ctx.requester_id, worker_id, assignment_id, cents, reason, token, request_id=ctx.request_id
        )
        return ""

    return run


def get_bonus_payments(params: Params) -> Runner:
    hit_id = params.text("HITId") or None
    assignment_id = params.text("AssignmentId") or None
    page_size = params.integer("PageSize")
    page_number = params.integer("PageNumber")

    def run(ctx: Context) -> Xml:
        page = ctx.services.numbered_pages.bonus_payments(
            ctx.requester_id, hit_id, assignment_id, page_size, page_number
        )
        header = page_header(page)
        return header + xml.concat(bonus_element(b) for b in page.items)

    return run


OPERATIONS = {
    "GetAccountBalance": Operation("GetAccountBalanceResult", get_account_balance),
    "GrantBonus": Operation("GrantBonusResult", grant_bonus),
    "GetBonusPayments": Operation("GetBonusPaymentsResult", get_bonus_payments),
}
