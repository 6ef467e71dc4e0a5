"""``openturk notifications ...``: the event outbox (Email destinations land here) and its delivery."""

from __future__ import annotations

import argparse
from typing import Any

from openturk.service.notifications import describe
from openturk.service.notifications_delivery import Deliverer, DeliveryConfig
from openturk.service.services import Services


def notifications_list(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    messages = describe(services.notifications.outbox(args.transport, args.pending, args.limit))
    lines = []
    for m in messages:
        head = f"#{m['id']} {m['status']:9} {m['transport']:5} {m['destination']}  {m['event_type']}"
        lines.append(
            head + (f"\n    Subject: {m['subject']}\n    {m['text'].strip()}" if "subject" in m else "")
        )
    return {"messages": messages, "_text": "\n".join(lines) or "no notifications"}


def notifications_deliver(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    """Deliver what is due now (the server does this continuously; useful when no server runs)."""
    delivered = Deliverer(services.db, DeliveryConfig.from_env()).drain()
    return {"delivered": delivered, "_text": f"delivered {delivered} notification(s)"}


def add_notification_commands(commands: Any, leaf: Any) -> None:
    group = commands.add_parser("notifications", help="HIT event notifications").add_subparsers(
        metavar="ACTION"
    )
    listing = leaf(group, "list", notifications_list, "the outbox: every message, Email ones in full")
    listing.add_argument("--transport", choices=("Email", "SQS", "SNS"))
    listing.add_argument("--pending", action="store_true", help="only messages not delivered yet")
    listing.add_argument(
        "--limit", type=_limit, default=100, help="the newest N messages (1-10000, default 100)"
    )
    deliver = leaf(group, "deliver", notifications_deliver, "deliver due notifications")
    deliver.add_argument("--once", action="store_true", help="one pass, then exit (the default)")


def _limit(text: str) -> int:
    value = int(text) if text.strip().isdigit() else 0
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of messages from 1 to 10000")
    return value
