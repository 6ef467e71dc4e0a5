"""A real SQS/SNS-compatible server (moto's) on loopback, and an OpenTurk server pointed at it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import httpx

from tests.support import RunningServer, free_port, start_server

ACCOUNT = "123456789012"  # moto's default account
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass
class Moto:
    url: str
    process: subprocess.Popen[bytes]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def queue(self) -> str:
        url: str = self.client("sqs").create_queue(QueueName=f"mturk-{uuid.uuid4().hex[:10]}")["QueueUrl"]
        return url

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "OPENTURK_SQS_ENDPOINT_URL": self.url,
            "OPENTURK_SNS_ENDPOINT_URL": self.url,
            "OPENTURK_NOTIFICATION_POLL_SECONDS": "0.1",
            "OPENTURK_NOTIFICATION_RETRY_SECONDS": "0.2",
            "OPENTURK_NOTIFICATION_RETRY_MAX_SECONDS": "1",
            **CREDENTIALS,
            **extra,
        }


@contextmanager
def moto_server() -> Iterator[Moto]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited with {process.returncode}")
            try:
                httpx.get(f"{url}/moto-api/", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield Moto(url, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def openturk_for(moto: Moto, db_url: str, **extra: str) -> Iterator[RunningServer]:
    running = start_server(db_url, env=moto.env(**extra))
    try:
        yield running
    finally:
        running.stop()


def receive(
    moto: Moto, queue_url: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 20.0
) -> list[dict[str, Any]]:
    """Every message body (parsed JSON) from the queue, in arrival order, until ``until`` holds."""
    sqs = moto.client("sqs")
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not until(bodies):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; received {json.dumps(bodies)[:2000]}")
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def event_types(bodies: list[dict[str, Any]]) -> list[str]:
    return [event["EventType"] for body in bodies for event in body["Events"]]
