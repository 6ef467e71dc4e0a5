"""``openturk worker ...``: play the worker side from a script, as the real sandbox cannot."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlencode

from openturk.cli_qualifications import add_worker_qualification_commands
from openturk.money import format_amount
from openturk.service.services import Services
from openturk.settings import public_url


def task_url(external_url: str | None, assignment_id: str, hit_id: str, worker_id: str) -> str:
    """Where the worker's browser goes: the ExternalURL (or OpenTurk's own task page) with MTurk's
    usual query parameters, turkSubmitTo pointing back at this server."""
    server = public_url() or "http://127.0.0.1:8000"
    query = urlencode(
        {"assignmentId": assignment_id, "hitId": hit_id, "workerId": worker_id, "turkSubmitTo": server}
    )
    base, hash_mark, fragment = (external_url or f"{server}/mturk/task").partition("#")
    return f"{base}{'&' if '?' in base else '?'}{query}{hash_mark}{fragment}"


def worker_create(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    worker = services.workers.create(args.name, args.country, args.subdivision)
    return {"worker_id": worker.id, "_text": worker.id}


def worker_accept(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    accepted = services.workers.accept(args.hit_id, args.worker)
    return {
        "assignment_id": accepted.assignment_id,
        "hit_id": accepted.hit_id,
        "worker_id": accepted.worker_id,
        "deadline": accepted.deadline.isoformat(),
        "task_url": task_url(
            accepted.external_url, accepted.assignment_id, accepted.hit_id, accepted.worker_id
        ),
    }


def worker_submit(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    answers = []
    for pair in args.answer or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--answer takes NAME=VALUE, not {pair!r}")
        answers.append((name, value))
    status = services.workers.submit(args.assignment_id, answers)
    return {"assignment_id": args.assignment_id, "status": status}


def worker_return(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    services.workers.return_assignment(args.assignment_id)
    return {"assignment_id": args.assignment_id, "status": "Returned"}


def worker_earnings(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    payments = services.workers.earnings(args.worker_id)
    rewards = sum(p.cents for p in payments if p.kind == "reward")
    bonuses = sum(p.cents for p in payments if p.kind == "bonus")
    rows = [
        {
            "kind": p.kind,
            "amount": format_amount(p.cents),
            "assignment_id": p.assignment_id,
            "hit_id": p.hit_id,
            "reason": p.reason,
            "time": p.time.isoformat(),
        }
        for p in payments
    ]
    text = "\n".join(
        [
            f"{r['time']}  {r['kind']:6}  {r['amount']:>10}  {r['assignment_id']}  {r['reason'] or ''}"
            for r in rows
        ]
        + [
            f"rewards {format_amount(rewards)}  bonuses {format_amount(bonuses)}  "
            f"total {format_amount(rewards + bonuses)}"
        ]
    )
    return {
        "worker_id": args.worker_id,
        "rewards": format_amount(rewards),
        "bonuses": format_amount(bonuses),
        "total": format_amount(rewards + bonuses),
        "payments": rows,
        "_text": text,
    }


def worker_sign_in_link(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    """The worker's sign-in link for the worker pages (where they require one): whoever holds it acts
    as the worker there, so it goes to the worker alone."""
    key = services.worker_sign_in.key(args.worker_id)
    server = public_url() or "http://127.0.0.1:8000"
    url = f"{server}/mturk/signin?{urlencode({'workerId': args.worker_id, 'key': key})}"
    return {"worker_id": args.worker_id, "sign_in_url": url, "_text": url}


def add_worker_commands(commands: Any, leaf: Any) -> None:
    worker = commands.add_parser("worker", help="play the worker side").add_subparsers(metavar="ACTION")
    create = leaf(worker, "create", worker_create, "create a worker")
    create.add_argument("name", nargs="?")
    create.add_argument("--country", help="ISO 3166 country code, e.g. US")
    create.add_argument("--subdivision", help="ISO 3166-2 subdivision, e.g. CA")
    accept = leaf(worker, "accept", worker_accept, "accept a HIT: creates an assignment")
    accept.add_argument("hit_id")
    accept.add_argument("--worker", required=True)
    submit = leaf(worker, "submit", worker_submit, "submit an assignment's answers")
    submit.add_argument("assignment_id")
    submit.add_argument("--answer", action="append", metavar="NAME=VALUE")
    ret = leaf(worker, "return", worker_return, "return an accepted assignment unfinished")
    ret.add_argument("assignment_id")
    earnings = leaf(worker, "earnings", worker_earnings, "every reward and bonus paid to a worker")
    earnings.add_argument("worker_id")
    link = leaf(worker, "sign-in-link", worker_sign_in_link, "a worker's sign-in link for the worker pages")
    link.add_argument("worker_id")
    add_worker_qualification_commands(worker, leaf)
