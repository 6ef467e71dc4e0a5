"""Delivering the event outbox: at least once, after commit, with retries and backoff.

Any number of processes may run ``deliver_due`` on one database (each server runs it in a background
thread, ``openturk notifications deliver --once`` runs it once).  A row is claimed by a conditional
UPDATE (``... WHERE id = :id AND delivered_at IS NULL AND (claimed_until IS NULL OR claimed_until <
:now)``) that only one process can win; the claim is a lease, so a process killed mid-delivery (kill -9)
only delays the row until the lease ends, and the next process to look sends it.  The message is sent
outside any transaction, then marked delivered; a crash between the two sends it again (at-least-once:
receivers de-duplicate on EventDocId, as MTurk tells them to).  A failed send is retried after
``base * 2**(attempts-1)`` seconds, capped, forever: a row is never dropped.

SQS and SNS go through boto3 to the endpoint the operator configures; Email lands in the outbox itself
(``openturk notifications list``), marked delivered.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from openturk.storage.db import Database
from openturk.storage.schema_events import event_outbox

log = logging.getLogger("openturk.notifications")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    return default if raw in (None, "") else float(raw)


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """From the environment: where SQS and SNS are, and how delivery paces itself."""

    sqs_endpoint_url: str | None = None
    sns_endpoint_url: str | None = None
    region: str = "us-east-1"
    enabled: bool = True
    poll_seconds: float = 0.5
    lease_seconds: float = 30.0
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    batch: int = 20

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeliveryConfig:
        env = os.environ if env is None else env
        return cls(
            sqs_endpoint_url=env.get("OPENTURK_SQS_ENDPOINT_URL") or None,
            sns_endpoint_url=env.get("OPENTURK_SNS_ENDPOINT_URL") or None,
            region=env.get("OPENTURK_NOTIFICATION_REGION") or "us-east-1",
            enabled=env.get("OPENTURK_NOTIFICATION_DELIVERY", "on").lower()
            not in ("0", "off", "false", "no"),
            poll_seconds=_float(env, "OPENTURK_NOTIFICATION_POLL_SECONDS", 0.5),
            lease_seconds=_float(env, "OPENTURK_NOTIFICATION_LEASE_SECONDS", 30.0),
            retry_base_seconds=_float(env, "OPENTURK_NOTIFICATION_RETRY_SECONDS", 2.0),
            retry_max_seconds=_float(env, "OPENTURK_NOTIFICATION_RETRY_MAX_SECONDS", 300.0),
        )

    def backoff(self, attempts: int) -> timedelta:
        seconds = self.retry_base_seconds * 2 ** max(0, min(attempts - 1, 30))
        return timedelta(seconds=min(seconds, self.retry_max_seconds))


def _region_of(transport: str, destination: str, default: str) -> str:
    if transport == "SNS":
        parts = destination.split(":")
        return parts[3] if len(parts) > 3 and parts[3] else default
    host = destination.split("/")[2] if destination.count("/") >= 2 else ""
    labels = host.split(".")
    if len(labels) > 2 and labels[0] == "sqs" and labels[2] == "amazonaws":
        return labels[1]
    return default


class Transports:
    """boto3 clients per (service, region), created on first use and shared by the delivery thread."""

    def __init__(self, config: DeliveryConfig) -> None:
        self._config = config
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _client(self, service: str, region: str) -> Any:
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                import boto3
                from botocore.config import Config

                endpoint = (
                    self._config.sqs_endpoint_url if service == "sqs" else self._config.sns_endpoint_url
                )
                client = boto3.client(
                    service,
                    region_name=region,
                    endpoint_url=endpoint,
                    config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1}),
                )
                self._clients[(service, region)] = client
            return client

    def send(self, transport: str, destination: str, body: str, subject: str) -> None:
        region = _region_of(transport, destination, self._config.region)
        if transport == "SQS":
            self._client("sqs", region).send_message(QueueUrl=destination, MessageBody=body)
        elif transport == "SNS":
            self._client("sns", region).publish(TopicArn=destination, Message=body, Subject=subject)
        elif transport != "Email":  # Email: the outbox row is the mailbox
            raise ValueError(f"unknown transport {transport!r}")


def wall_now() -> datetime:
    return datetime.now(UTC)


class Deliverer:
    """Claims due rows, sends them, records the outcome.  Safe to run in many processes at once."""

    def __init__(
        self,
        db: Database,
        config: DeliveryConfig,
        *,
        transports: Transports | None = None,
        now: Callable[[], datetime] = wall_now,
    ) -> None:
        self._db = db
        self._config = config
        self._transports = transports or Transports(config)
        self._now = now
        self.worker_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"

    def _claim(self) -> list[Any]:
        now = self._now()
        due = (
            event_outbox.c.delivered_at.is_(None)
            & (event_outbox.c.next_attempt_at <= now)
            & or_(event_outbox.c.claimed_until.is_(None), event_outbox.c.claimed_until < now)
        )
        with self._db.read() as conn:
            candidates = (
                conn.execute(
                    select(event_outbox.c.id).where(due).order_by(event_outbox.c.id).limit(self._config.batch)
                )
                .scalars()
                .all()
            )
        if not candidates:
            return []
        lease = now + timedelta(seconds=self._config.lease_seconds)
        claimed: list[Any] = []
        with self._db.write() as conn:
            for row_id in candidates:
                won = conn.execute(
                    update(event_outbox)
                    .where(event_outbox.c.id == row_id, due)
                    .values(
                        claimed_until=lease,
                        claimed_by=self.worker_id,
                        attempts=event_outbox.c.attempts + 1,
                    )
                ).rowcount
                if won == 1:
                    claimed.append(
                        conn.execute(select(event_outbox).where(event_outbox.c.id == row_id)).one()
                    )
        return claimed

    def deliver_due(self) -> int:
        """One pass: claim what is due and try each; returns how many were delivered."""
        delivered = 0
        for row in self._claim():
            try:
                self._transports.send(row.transport, row.destination, row.body, _subject(row))
            except Exception as error:  # any failure is retried later; the row is never dropped
                retry_at = self._now() + self._config.backoff(int(row.attempts))
                log.warning(
                    "notification %s to %s failed (attempt %s): %s",
                    row.id,
                    row.destination,
                    row.attempts,
                    error,
                )
                self._finish(
                    int(row.id),
                    next_attempt_at=retry_at,
                    last_error=f"{type(error).__name__}: {error}"[:2000],
                )
                continue
            self._finish(int(row.id), delivered_at=self._now(), last_error=None)
            delivered += 1
        return delivered

    def _finish(self, row_id: int, **values: Any) -> None:
        with self._db.write() as conn:
            conn.execute(
                update(event_outbox)
                .where(event_outbox.c.id == row_id, event_outbox.c.claimed_by == self.worker_id)
                .values(claimed_until=None, claimed_by=None, **values)
            )

    def drain(self, rounds: int = 1000) -> int:
        total = 0
        for _ in range(rounds):
            sent = self.deliver_due()
            total += sent
            if sent == 0:
                break
        return total


def _subject(row: Any) -> str:
    # What real SNS notifications from MTurk carry as Subject: the event time in epoch milliseconds.
    created: datetime = row.created_at
    return str(int(created.timestamp() * 1000))


_WAKE = threading.Event()


def wake() -> None:
    """Ask this process's delivery loop to look now rather than at its next poll."""
    _WAKE.set()


class DeliveryLoop:
    """The server's background thread: delivers until stopped, never letting an error end it."""

    def __init__(self, db: Database, config: DeliveryConfig) -> None:
        self._deliverer = Deliverer(db, config)
        self._config = config
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="openturk-notifications", daemon=True)

    def start(self) -> None:
        if self._config.enabled:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        _WAKE.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._deliverer.drain()
            except Exception:
                log.exception("notification delivery pass failed; retrying")
            _WAKE.wait(self._config.poll_seconds)
            _WAKE.clear()
