"""``openturk bonus pay``: bulk bonus payouts from a CSV, through any MTurk endpoint.

A pure API client: it never opens OpenTurk's database (``client_only``), so it pays on real MTurk, its
sandbox or an OpenTurk server alike, with credentials from the usual AWS environment and profiles.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openturk.money import format_amount
from openturk.settings import Fees

if TYPE_CHECKING:
    from openturk.bulk_bonus import Plan, Result, ResultsFile

SANDBOX_URL = "https://mturk-requester-sandbox.us-east-1.amazonaws.com"


def bonus_pay(services: object, args: argparse.Namespace) -> dict[str, Any]:
    # Deferred: botocore and rich are only needed here, other commands start quicker without them.
    from botocore.exceptions import BotoCoreError, ClientError

    from openturk.bulk_bonus import (
        BulkBonusError,
        ResultsFile,
        check_prefix,
        make_plan,
        read_batch,
        settled_tokens,
        summary,
    )

    as_json = bool(getattr(args, "json", False))
    source = Path(args.csv)
    target = Path(args.results) if args.results else source.with_name(f"{source.stem}.results.csv")
    if target.resolve() == source.resolve():
        raise BulkBonusError("--results must not be the input file")
    prefix = check_prefix(args.token_prefix or "")
    fees = Fees(bonus_rate=_rate(args.fee_rate)) if args.fee_rate is not None else Fees()
    try:
        with source.open(newline="", encoding="utf-8-sig") as stream:
            batch = read_batch(stream)
    except (OSError, UnicodeDecodeError, BulkBonusError) as error:
        raise BulkBonusError(f"{source}: {error}") from None
    if batch.errors:
        lines = [f"  line {e.line}: {e.message}" for e in batch.errors]
        return _refuse(
            as_json,
            f"{source}: {len(batch.errors)} problem(s), nothing was paid:\n" + "\n".join(lines),
            rows=len(batch.rows) + len({e.line for e in batch.errors}),
            errors=[{"line": e.line, "message": e.message} for e in batch.errors],
        )
    try:
        settled = settled_tokens(target)
    except (OSError, UnicodeDecodeError) as error:
        raise BulkBonusError(f"cannot read the earlier results file: {error}") from None
    try:
        client = _client(args)
        plan = make_plan(client, batch, prefix, fees, settled, rerun=target.exists())
    except (BotoCoreError, ClientError) as error:
        raise BulkBonusError(f"cannot read the account balance or earlier payments: {error}") from None
    due = _due(plan, len(batch.rows))
    if args.dry_run:
        covered = plan.missing_cents == 0
        text = _plan_text(plan) + ("" if covered else f"\n{format_amount(plan.missing_cents)} is missing")
        missing = format_amount(plan.missing_cents)
        return {
            "dry_run": True,
            **due,
            "covered": covered,
            "missing": missing,
            "_text": text,
            "_exit": int(not covered),
        }
    if plan.missing_cents:
        return _refuse(
            as_json,
            f"the available balance {format_amount(plan.balance_cents)} does not cover "
            f"{format_amount(plan.due.total_cents)} for {plan.due.count} bonuses with fees: "
            f"{format_amount(plan.missing_cents)} is missing; nothing was paid",
            **due,
            missing=format_amount(plan.missing_cents),
        )
    if plan.pending and not args.yes and not _confirm(_plan_text(plan) + "\nPay now?"):
        return _refuse(as_json, "nothing was paid (not confirmed)", **due)
    try:
        out = ResultsFile(target, batch.columns, plan.settled)
    except OSError as error:
        raise BulkBonusError(f"cannot write the results file: {error}; nothing was paid") from None
    try:
        results = _pay_with_progress(client, plan, out)
    finally:
        out.close()
    counts = summary(results, fees)
    result: dict[str, Any] = {"rows": len(results), **{k: v for k, v in counts.items() if "cents" not in k}}
    result |= {
        "total_paid": format_amount(counts["bonus_cents"]),
        "fees": format_amount(counts["fee_cents"]),
        "results": str(target),
    }
    result["_text"] = (
        f"paid {counts['paid']} bonuses: {result['total_paid']} + {result['fees']} fees; "
        f"already paid {counts['already_paid']}, failed {counts['failed']}, "
        f"not attempted {counts['not_attempted']}\nresults: {target}"
    )
    result["_exit"] = 1 if counts["failed"] or counts["not_attempted"] else 0
    return result


def _rate(text: str) -> Decimal:
    try:
        rate = Decimal(text)
        valid = rate.is_finite() and Decimal(0) <= rate <= Decimal(1)
    except InvalidOperation:
        valid = False
    if not valid:
        raise ValueError(f"--fee-rate {text!r} must be a rate between 0 and 1, such as 0.20")
    return rate


def _client(args: argparse.Namespace) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=args.profile)
    config = Config(retries={"max_attempts": 1}, user_agent_extra="openturk-bonus-pay")
    url = SANDBOX_URL if args.sandbox else args.endpoint_url
    return session.client("mturk", region_name=args.region, endpoint_url=url, config=config)


def _due(plan: Plan, rows: int) -> dict[str, Any]:
    return {
        "rows": rows,
        "to_pay": plan.due.count,
        "already_paid": len(plan.settled),
        "bonuses": format_amount(plan.due.bonus_cents),
        "fees": format_amount(plan.due.fee_cents),
        "total": format_amount(plan.due.total_cents),
        "balance": format_amount(plan.balance_cents),
    }


def _plan_text(plan: Plan) -> str:
    settled = f" ({len(plan.settled)} already paid in an earlier run)" if plan.settled else ""
    return (
        f"{plan.due.count} bonuses to pay{settled}: {format_amount(plan.due.bonus_cents)} + "
        f"{format_amount(plan.due.fee_cents)} fees = {format_amount(plan.due.total_cents)}; "
        f"available balance {format_amount(plan.balance_cents)}"
    )


def _refuse(as_json: bool, message: str, **data: Any) -> dict[str, Any]:
    if not as_json:
        print(f"openturk: {message}", file=sys.stderr)
    return {**data, "error": message, "_exit": 1, "_text": ""}


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise ValueError(f"{question}\nnothing was paid: add --yes to pay without a confirmation prompt")
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _pay_with_progress(client: Any, plan: Plan, out: ResultsFile) -> list[Result]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from openturk.bulk_bonus import pay

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("paying bonuses", total=len(plan.pending))
        return pay(client, plan, out, advance=lambda result: progress.advance(task))


def add_bonus_commands(commands: Any, leaf: Any) -> None:
    bonus = commands.add_parser("bonus", help="bonuses (an MTurk API client)").add_subparsers(
        metavar="ACTION"
    )
    pay_cmd = leaf(bonus, "pay", bonus_pay, "pay the bonuses of a CSV file, each exactly once")
    pay_cmd.set_defaults(client_only=True)  # main() opens no database for it
    pay_cmd.add_argument(
        "--csv", required=True, metavar="FILE", help="columns WorkerId, AssignmentId, BonusAmount, Reason"
    )
    where = pay_cmd.add_mutually_exclusive_group()
    where.add_argument("--endpoint-url", metavar="URL", help="an OpenTurk server (default: real MTurk)")
    where.add_argument("--sandbox", action="store_true", help=f"MTurk's sandbox, {SANDBOX_URL}")
    pay_cmd.add_argument("--region", default="us-east-1", help="default: us-east-1")
    pay_cmd.add_argument("--profile", metavar="NAME", help="an AWS profile (default: the usual chain)")
    pay_cmd.add_argument("--dry-run", action="store_true", help="check and total the file, pay nothing")
    pay_cmd.add_argument("--results", metavar="FILE", help="default: <input stem>.results.csv beside it")
    pay_cmd.add_argument("--token-prefix", metavar="TEXT", help="starts every UniqueRequestToken")
    pay_cmd.add_argument("--fee-rate", metavar="RATE", help="the bonus commission (default 0.20)")
    pay_cmd.add_argument("--yes", action="store_true", help="pay without a confirmation prompt")
