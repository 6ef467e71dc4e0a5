"""The ``openturk`` command: a thin layer that parses, calls a service and prints.

Every subcommand accepts ``--db URL`` and ``--json`` before or after its own arguments; with ``--json``
it prints exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from openturk.cli_bonus import add_bonus_commands
from openturk.cli_notifications import add_notification_commands
from openturk.cli_workers import add_worker_commands
from openturk.errors import OpenTurkError
from openturk.money import MoneyFormatError, format_amount, parse_cents
from openturk.service.services import Services, open_services
from openturk.settings import Settings

Command = Callable[[Services, argparse.Namespace], dict[str, Any]]


class CliError(Exception):
    """A mistake in what the user typed; printed without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    _Parser.json_errors = "--json" in (sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        if _Parser.json_errors:
            return _fail("name a command and its action (openturk --help lists them)", True, status=2)
        parser.print_help()
        return 2
    settings = Settings.from_env(db_url=getattr(args, "db", None))
    as_json = getattr(args, "json", False)
    if args.run is _serve:
        from openturk import server  # deferred: uvicorn is only needed to serve

        return server.serve(
            settings, host=args.host, port=args.port, access_log=args.access_log, workers=args.workers
        )
    # Client-only commands (bonus pay) talk to an MTurk endpoint and never open the database.
    client_only = getattr(args, "client_only", False)
    try:
        services = None if client_only else open_services(settings)
    except Exception as error:
        return _fail(f"cannot open database {settings.db_url}: {error}", as_json)
    try:
        result = args.run(services, args)
    except (CliError, OpenTurkError, MoneyFormatError, ValueError) as error:
        return _fail(str(error), as_json)
    except BrokenPipeError:  # `openturk ledger export | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if services is not None:
            services.close()
    text = result.pop("_text", None)
    status = int(result.pop("_exit", 0))
    if as_json:
        print(json.dumps(result))
    elif text != "":
        print(text or _human(result))
    return status


def _fail(message: str, as_json: bool, *, status: int = 1) -> int:
    if as_json:
        print(json.dumps({"error": message}))
    else:
        print(f"openturk: {message}", file=sys.stderr)
    return status


def _human(result: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in result.items())


# --- commands ------------------------------------------------------------------------------------


def _serve(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    raise AssertionError("serve is dispatched before services are opened")


def _requester_create(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    created = services.accounts.create_requester(args.name, balance_cents=parse_cents(args.balance))
    return {
        "name": created.requester.name,
        "requester_id": created.requester.id,
        "access_key_id": created.access_key_id,
        "secret_access_key": created.secret_access_key,
        "balance": format_amount(created.balance_cents),
    }


def _requester_fund(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    cents = parse_cents(args.amount)
    if cents <= 0:
        raise CliError("the amount to fund must be more than 0.00")
    balance = services.accounts.fund(args.access_key_id, cents)
    return {"access_key_id": args.access_key_id, "balance": format_amount(balance)}


def _requester_list(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    rows = [
        {
            "requester_id": s.requester.id,
            "name": s.requester.name,
            "access_key_ids": list(s.access_key_ids),
            "balance": format_amount(s.balance_cents),
            "created_at": s.requester.created_at.isoformat(),
        }
        for s in services.accounts.list_requesters()
    ]
    text = "\n".join(
        f"{r['requester_id']}  {r['balance']:>12}  {','.join(r['access_key_ids'])}  {r['name']}" for r in rows
    )
    return {"requesters": rows, "_text": text or "no requesters"}


def _clock_advance(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    from openturk.durations import parse_duration

    now = services.clock.advance(parse_duration(args.duration))
    return {"now": now.isoformat(), "offset_seconds": services.clock.offset().total_seconds()}


def _clock_show(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    with services.db.read() as conn:
        now = services.clock.now(conn)
    return {"now": now.isoformat(), "offset_seconds": services.clock.offset().total_seconds()}


def _ledger_audit(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    from openturk.service.audit import run_audit

    report = run_audit(services.db)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "postings": report.postings,
        "accounts": report.accounts,
        "deposited": format_amount(report.deposited_cents),
        "held": format_amount(report.total_cents),
        "problems": list(report.problems),
        "_exit": 0 if report.ok else 1,
    }


def _ledger_export(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    from openturk.service.exports import write_csv

    if args.csv in (None, "-"):
        if getattr(args, "json", False):
            raise CliError("ledger export --json needs --csv FILE (the rows go to the file)")
        count = write_csv(services.db, sys.stdout)
        return {"rows": count, "_text": ""}
    try:
        with open(args.csv, "w", newline="", encoding="utf-8") as out:
            count = write_csv(services.db, out)
    except OSError as error:
        raise CliError(f"cannot write {args.csv}: {error.strerror or error}") from None
    return {"rows": count, "file": args.csv, "_text": f"wrote {count} movements to {args.csv}"}


# --- parser --------------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """--db and --json, on ``parser`` (or on a new parent parser for the commands)."""
    # SUPPRESS lets the same options appear before and after a subcommand without one erasing the other.
    common = parser if parser is not None else argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", default=argparse.SUPPRESS, help="database URL or SQLite path (env OPENTURK_DB)"
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object"
    )
    return common


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but a mistake in a command given --json is one JSON object on stdout, as every
    other answer of such a command is (exit status 2, as argparse's own)."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if not _Parser.json_errors:
            super().error(message)
        print(json.dumps({"error": f"{self.prog}: {message}"}))
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(prog="openturk", parents=[common], description=__doc__)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def leaf(group: Any, name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, parents=[common], help=help_text)
        sub.set_defaults(run=run)
        return sub

    serve = leaf(commands, "serve", _serve, "run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes sharing the port (default 1); any number of servers may share one database",
    )

    requester = commands.add_parser("requester", help="requester accounts").add_subparsers(metavar="ACTION")
    create = leaf(requester, "create", _requester_create, "create a requester and print its credentials")
    create.add_argument("name")
    create.add_argument("--balance", default="0", help="starting balance in dollars, e.g. 10000 or 25.50")
    fund = leaf(requester, "fund", _requester_fund, "deposit money for a requester")
    fund.add_argument("access_key_id")
    fund.add_argument("amount", help="dollars, e.g. 25 or 25.50")
    leaf(requester, "list", _requester_list, "list requesters and balances")

    clock = commands.add_parser("clock", help="the marketplace clock").add_subparsers(metavar="ACTION")
    advance = leaf(clock, "advance", _clock_advance, "move the marketplace clock forward")
    advance.add_argument("duration", help="e.g. 90s, 15m, 2h, 3d")
    leaf(clock, "show", _clock_show, "show the marketplace time")

    add_worker_commands(commands, leaf)
    add_bonus_commands(commands, leaf)
    add_notification_commands(commands, leaf)

    ledger = commands.add_parser("ledger", help="the books").add_subparsers(metavar="ACTION")
    leaf(ledger, "audit", _ledger_audit, "re-add the journal and check every invariant")
    export = leaf(ledger, "export", _ledger_export, "every money movement as CSV")
    export.add_argument("--csv", metavar="FILE", help="write to FILE (default: standard output)")
    # Between a group and its action too: `openturk worker --json accept ...`.
    for group in commands.choices.values():
        if "--json" not in group._option_string_actions:
            _common(group)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
