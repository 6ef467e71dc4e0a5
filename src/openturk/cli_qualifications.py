"""``openturk worker ...`` commands for qualifications, messages and what a worker can find.

* ``request-qualification WORKER QUAL_TYPE [--answer NAME=VALUE ...]``: request a Qualification, taking
  its test at once when it has one.
* ``qualifications WORKER``: every Qualification the worker holds, system ones included.
* ``messages WORKER``: what NotifyWorkers has sent the worker.
* ``hits WORKER`` and ``preview HIT_ID --worker WORKER``: the HITs the worker can find, and one HIT's
  question, both subject to blocks and QualificationRequirements.
* ``grant-masters WORKER [--sandbox] [--revoke]`` and ``set WORKER [--country ..] [--subdivision ..]
  [--approval-rate N|auto] [--hits-approved N|auto] [--adult yes|no]``: the administrator's settings.
"""

from __future__ import annotations

import argparse
from typing import Any

from openturk.money import format_amount
from openturk.service import qualification_values
from openturk.service.services import Services


def _pairs(raw: list[str] | None) -> list[tuple[str, str]]:
    pairs = []
    for pair in raw or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--answer takes NAME=VALUE, not {pair!r}")
        pairs.append((name, value))
    return pairs


def request_qualification(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    outcome = services.worker_qualifications.request(
        args.worker_id, args.qualification_type_id, _pairs(args.answer)
    )
    shown = f" with value {outcome.value}" if outcome.value is not None else ""
    return {
        "qualification_request_id": outcome.request_id,
        "qualification_type_id": outcome.type_id,
        "worker_id": outcome.worker_id,
        "status": outcome.status,
        "value": outcome.value,
        "_text": f"{outcome.status}{shown} (request {outcome.request_id})",
    }


def qualifications(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    held = services.worker_qualifications.held(args.worker_id)
    rows = [
        {
            "qualification_type_id": h.type_id,
            "name": h.name,
            "value": h.value,
            "source": h.source,
            "granted_at": None if h.granted_at is None else h.granted_at.isoformat(),
        }
        for h in held
    ]
    text = "\n".join(
        f"{r['qualification_type_id']}  {r['value']:>8}  {r['source']:8}  {r['name']}" for r in rows
    )
    return {"worker_id": args.worker_id, "qualifications": rows, "_text": text}


def messages(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    found = services.worker_relations.messages(args.worker_id)
    rows = [
        {
            "message_id": m.id,
            "requester_id": m.requester_id,
            "requester_name": m.requester_name,
            "subject": m.subject,
            "message": m.text,
            "sent_at": m.sent_at.isoformat(),
        }
        for m in found
    ]
    text = "\n\n".join(
        f"{r['sent_at']}  from {r['requester_name']}\n{r['subject']}\n{r['message']}" for r in rows
    )
    return {"worker_id": args.worker_id, "messages": rows, "_text": text or "no messages"}


def hits(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    page = services.worker_market.available(args.worker_id, args.next_token, args.max)
    rows = [
        {
            "hit_id": item.hit.id,
            "hit_type_id": item.hit.hit_type_id,
            "title": item.hit.title,
            "reward": format_amount(item.hit.reward_cents),
            "available": item.hit.num_available,
            "can_preview": item.can_preview,
            "can_accept": item.can_accept,
        }
        for item in page
    ]
    text = "\n".join(
        f"{r['hit_id']}  {r['reward']:>8}  {'accept' if r['can_accept'] else 'view':6}  {r['title']}"
        for r in rows
    )
    return {
        "worker_id": args.worker_id,
        "hits": rows,
        "next_token": page.next_token,
        "_text": text or "no HITs",
    }


def preview(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    found = services.worker_market.preview(args.worker, args.hit_id)
    return {
        "hit_id": found.hit.id,
        "title": found.hit.title,
        "description": found.hit.description,
        "reward": format_amount(found.hit.reward_cents),
        "question": found.hit.question,
        "can_accept": found.can_accept,
    }


def grant_masters(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    type_id = qualification_values.SANDBOX_MASTERS if args.sandbox else qualification_values.MASTERS
    services.worker_qualifications.set_system(args.worker_id, type_id, None if args.revoke else 1)
    return {"worker_id": args.worker_id, "qualification_type_id": type_id, "granted": not args.revoke}


def _setting(raw: str | None) -> tuple[bool, int | None]:
    """(given, value): ``auto`` clears the setting (the value is computed from history again)."""
    if raw is None:
        return False, None
    if raw == "auto":
        return True, None
    try:
        return True, int(raw)
    except ValueError:
        raise ValueError(f"expected a whole number or 'auto', not {raw!r}") from None


def set_worker(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    wq = services.worker_qualifications
    if args.country is not None or args.subdivision is not None:
        wq.set_locale(args.worker_id, args.country, args.subdivision)
    for raw, type_id in (
        (args.approval_rate, qualification_values.APPROVAL_RATE),
        (args.hits_approved, qualification_values.HITS_APPROVED),
    ):
        given, value = _setting(raw)
        if given:
            wq.set_system(args.worker_id, type_id, value)
    if args.adult is not None:
        wq.set_system(args.worker_id, qualification_values.ADULT, 1 if args.adult == "yes" else None)
    return qualifications(services, args)


def add_worker_qualification_commands(worker: Any, leaf: Any) -> None:
    request = leaf(
        worker, "request-qualification", request_qualification, "request a Qualification (take its test)"
    )
    request.add_argument("worker_id")
    request.add_argument("qualification_type_id")
    request.add_argument("--answer", action="append", metavar="NAME=VALUE")
    leaf(worker, "qualifications", qualifications, "the Qualifications a worker holds").add_argument(
        "worker_id"
    )
    leaf(worker, "messages", messages, "messages requesters sent a worker").add_argument("worker_id")
    listing = leaf(worker, "hits", hits, "the HITs a worker can find")
    listing.add_argument("worker_id")
    listing.add_argument("--max", type=int, default=None, help="page size, 1-100 (default 10)")
    listing.add_argument("--next-token", default=None)
    look = leaf(worker, "preview", preview, "preview a HIT as a worker")
    look.add_argument("hit_id")
    look.add_argument("--worker", required=True)
    masters = leaf(worker, "grant-masters", grant_masters, "grant (or --revoke) the Masters Qualification")
    masters.add_argument("worker_id")
    masters.add_argument("--sandbox", action="store_true", help="the sandbox Masters type")
    masters.add_argument("--revoke", action="store_true")
    settings = leaf(worker, "set", set_worker, "change a worker's locale and system Qualification values")
    settings.add_argument("worker_id")
    settings.add_argument("--country", help="ISO 3166 country code, e.g. US")
    settings.add_argument("--subdivision", help="ISO 3166-2 subdivision, e.g. CA ('' clears it)")
    settings.add_argument("--approval-rate", metavar="N|auto", help="pin the approval rate, or compute it")
    settings.add_argument("--hits-approved", metavar="N|auto", help="pin the HITs approved, or compute it")
    settings.add_argument("--adult", choices=("yes", "no"), help="the Worker_Adult Qualification")
