"""Notifications end to end: real boto3 against a real server process, delivered to a real
SQS/SNS-compatible server (moto's) on loopback."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openturk.service import events
from openturk.service.notifications import NotificationService
from openturk.service.notifications_delivery import Deliverer, DeliveryConfig
from openturk.service.services import open_services
from openturk.settings import Settings
from tests.hit_support import accept_and_submit, cli, hit_args, new_worker
from tests.moto_support import ACCOUNT, Moto, event_types, moto_server, openturk_for, receive
from tests.support import RunningServer, free_port, start_server
from tests.test_legacy_api import legacy

ALL_EVENTS = [e for e in events.EVENT_TYPES if e != "Ping"]
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    with moto_server() as running:
        yield running


@pytest.fixture
def turk(moto: Moto, db_url: str) -> Iterator[RunningServer]:
    with openturk_for(moto, db_url) as running:
        yield running


def _type_args() -> dict[str, Any]:
    args = hit_args(AssignmentDurationInSeconds=60)
    return {
        k: args[k]
        for k in (
            "Title",
            "Description",
            "Keywords",
            "Reward",
            "AssignmentDurationInSeconds",
            "AutoApprovalDelayInSeconds",
        )
    }


def _hit(client: Any, type_id: str, **overrides: Any) -> str:
    args = {
        "HITTypeId": type_id,
        "MaxAssignments": 2,
        "LifetimeInSeconds": 3600,
        "Question": hit_args()["Question"],
    }
    args.update(overrides)
    return str(client.create_hit_with_hit_type(**args)["HIT"]["HITId"])


def _notify(client: Any, type_id: str, transport: str, destination: str, kinds: list[str]) -> None:
    client.update_notification_settings(
        HITTypeId=type_id,
        Notification={
            "Destination": destination,
            "Transport": transport,
            "Version": "2014-08-15",
            "EventTypes": kinds,
        },
        Active=True,
    )


def _check_format(body: dict[str, Any], customer: str) -> None:
    """MTurk's notification document, key for key and in MTurk's order."""
    assert list(body) == ["Events", "EventDocId", "SourceAccount", "CustomerId", "EventDocVersion"]
    assert re.fullmatch(r"[0-9a-f]{40}", body["EventDocId"])
    assert re.fullmatch(r"[0-9]{12}", body["SourceAccount"])
    assert body["CustomerId"] == customer
    assert body["EventDocVersion"] == "2014-08-15"
    for event in body["Events"]:
        assert TIMESTAMP.fullmatch(event["EventTimestamp"])
        keys = ["EventType", "EventTimestamp", "HITId", "AssignmentId", "HITTypeId"]
        if event["EventType"].startswith("HIT"):
            keys.remove("AssignmentId")
        if event["EventType"] == "Ping":
            keys = ["EventType", "EventTimestamp"]
        assert list(event) == keys


def test_every_event_type_arrives_in_mturk_format(moto: Moto, turk: RunningServer) -> None:
    queue = moto.queue()
    who = turk.requester()
    client = turk.client(who)
    type_id = client.create_hit_type(**_type_args())["HITTypeId"]
    _notify(client, type_id, "SQS", queue, ALL_EVENTS)

    first = _hit(client, type_id)  # HITCreated
    alice, bob, carol = (new_worker(turk, n) for n in ("alice", "bob", "carol"))
    returned = cli(turk, "worker", "accept", first, "--worker", alice)["assignment_id"]  # AssignmentAccepted
    cli(turk, "worker", "return", returned)  # AssignmentReturned
    good = accept_and_submit(turk, first, bob, label="cat")  # AssignmentSubmitted
    bad = accept_and_submit(turk, first, carol, label="dog")  # ... and HITReviewable
    client.approve_assignment(AssignmentId=good)  # AssignmentApproved
    client.reject_assignment(AssignmentId=bad, RequesterFeedback="no")  # AssignmentRejected
    client.delete_hit(HITId=first)  # HITDisposed

    second = _hit(client, type_id, MaxAssignments=1)
    client.create_additional_assignments_for_hit(HITId=second, NumberOfAdditionalAssignments=1)  # HITExtended
    late = cli(turk, "worker", "accept", second, "--worker", alice)["assignment_id"]
    cli(turk, "clock", "advance", "61s")
    client.get_hit(HITId=second)  # the clock settles: AssignmentAbandoned
    client.update_expiration_for_hit(HITId=second, ExpireAt=datetime(2015, 1, 1, tzinfo=UTC))  # HITExpired

    bodies = receive(moto, queue, lambda got: set(ALL_EVENTS) <= set(event_types(got)))
    for body in bodies:
        _check_format(body, who.requester.id)
    seen = [(e["EventType"], e["HITId"], e.get("AssignmentId")) for b in bodies for e in b["Events"]]
    for expected in [
        ("HITCreated", first, None),
        ("AssignmentAccepted", first, returned),
        ("AssignmentReturned", first, returned),
        ("AssignmentSubmitted", first, good),
        ("HITReviewable", first, None),
        ("AssignmentApproved", first, good),
        ("AssignmentRejected", first, bad),
        ("HITDisposed", first, None),
        ("HITExtended", second, None),
        ("AssignmentAbandoned", second, late),
        ("HITExpired", second, None),
    ]:
        assert expected in seen, expected
    assert all(e["HITTypeId"] == type_id for b in bodies for e in b["Events"])
    assert len({b["EventDocId"] for b in bodies}) == len(bodies)


def test_sns_topic_and_test_events(moto: Moto, turk: RunningServer) -> None:
    sns, sqs = moto.client("sns"), moto.client("sqs")
    topic = sns.create_topic(Name="mturk-events")["TopicArn"]
    queue = moto.queue()
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    who = turk.requester()
    client = turk.client(who)
    spec = {"Destination": topic, "Transport": "SNS", "Version": "2014-08-15", "EventTypes": ["Ping"]}
    assert set(client.send_test_event_notification(Notification=spec, TestEventType="Ping")) == {
        "ResponseMetadata"
    }
    type_id = client.create_hit_type(**_type_args())["HITTypeId"]
    _notify(client, type_id, "SNS", topic, ["HITCreated"])
    hit_id = _hit(client, type_id)

    envelopes = receive(moto, queue, lambda got: len(got) >= 2)
    assert all(e["Type"] == "Notification" and e["TopicArn"] == topic for e in envelopes)
    documents = [json.loads(e["Message"]) for e in envelopes]
    for document in documents:
        _check_format(document, who.requester.id)
    by_type = {d["Events"][0]["EventType"]: d for d in documents}
    assert list(by_type["Ping"]["Events"][0]) == ["EventType", "EventTimestamp"]
    assert by_type["HITCreated"]["Events"][0]["HITId"] == hit_id
    # As real MTurk SNS notifications: the Subject is the event time in epoch milliseconds.
    assert all(re.fullmatch(r"[0-9]{13}", e["Subject"]) for e in envelopes)


def test_email_destinations_land_in_the_outbox(turk: RunningServer) -> None:
    client = turk.client(turk.requester())
    type_id = client.create_hit_type(**_type_args())["HITTypeId"]
    _notify(client, type_id, "Email", "lab@example.org", ["HITCreated", "AssignmentAccepted"])
    hit_id = _hit(client, type_id)
    cli(turk, "worker", "accept", hit_id, "--worker", new_worker(turk))
    deadline = time.monotonic() + 15
    while True:
        listed = cli(turk, "notifications", "list", "--transport", "Email")["messages"]
        if (
            len(listed) == 2 and all(m["status"] == "delivered" for m in listed)
        ) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [m["event_type"] for m in listed] == ["HITCreated", "AssignmentAccepted"]
    assert all(m["status"] == "delivered" and m["destination"] == "lab@example.org" for m in listed)
    assert listed[0]["subject"] == "Amazon Mechanical Turk notification: HITCreated"
    assert hit_id in listed[0]["text"]
    assert listed[1]["message"]["Events"][0]["HITId"] == hit_id


@pytest.mark.parametrize(
    ("transport", "destination"),
    [
        ("SQS", "https://example.com/my-queue"),
        ("SQS", "not a url"),
        ("SNS", "arn:aws:sqs:us-east-1:123456789012:queue"),
        ("SNS", "https://sns.us-east-1.amazonaws.com/topic"),
        ("Email", "nobody"),
        ("Email", "https://sqs.us-east-1.amazonaws.com/123456789012/q"),
    ],
)
def test_bad_destinations_are_refused(server: RunningServer, transport: str, destination: str) -> None:
    client = server.client(server.requester())
    type_id = client.create_hit_type(**_type_args())["HITTypeId"]
    spec = {
        "Destination": destination,
        "Transport": transport,
        "Version": "2014-08-15",
        "EventTypes": ["HITCreated"],
    }
    with pytest.raises(ClientError) as settings_error:
        client.update_notification_settings(HITTypeId=type_id, Notification=spec)
    with pytest.raises(ClientError) as test_error:
        client.send_test_event_notification(Notification=spec, TestEventType="Ping")
    for info in (settings_error, test_error):
        assert info.value.response["Error"]["Code"] == "RequestError"
        assert "Destination" in info.value.response["Error"]["Message"]


def test_settings_rules(server: RunningServer) -> None:
    client = server.client(server.requester())
    type_id = client.create_hit_type(**_type_args())["HITTypeId"]
    queue = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/my-queue"
    ping = {"Destination": queue, "Transport": "SQS", "Version": "2014-08-15", "EventTypes": ["Ping"]}
    with pytest.raises(ClientError, match="Ping is only valid"):
        client.update_notification_settings(HITTypeId=type_id, Notification=ping)
    with pytest.raises(ClientError, match="no notification specification"):
        client.update_notification_settings(HITTypeId=type_id, Active=False)
    other = server.client(server.requester("other"))
    good = {**ping, "EventTypes": ["HITCreated"]}
    with pytest.raises(ClientError, match="does not exist"):
        other.update_notification_settings(HITTypeId=type_id, Notification=good)
    with pytest.raises(ClientError, match="Version"):
        client.update_notification_settings(HITTypeId=type_id, Notification={**good, "Version": "2020-01-01"})
    assert set(client.update_notification_settings(HITTypeId=type_id, Notification=good)) == {
        "ResponseMetadata"
    }
    assert set(client.update_notification_settings(HITTypeId=type_id, Active=False)) == {"ResponseMetadata"}
    # "You must specify either the Notification parameter or the Active parameter" (the model).
    with pytest.raises(ClientError, match="either the Notification parameter or the Active parameter"):
        client.update_notification_settings(HITTypeId=type_id)


def test_inactive_settings_send_nothing(moto: Moto, turk: RunningServer) -> None:
    queue = moto.queue()
    client = turk.client(turk.requester())
    type_id = client.create_hit_type(**_type_args())["HITTypeId"]
    _notify(client, type_id, "SQS", queue, ["HITCreated"])
    client.update_notification_settings(HITTypeId=type_id, Active=False)
    _hit(client, type_id)
    client.update_notification_settings(HITTypeId=type_id, Active=True)
    switched_on = _hit(client, type_id)
    bodies = receive(moto, queue, lambda got: len(got) >= 1)
    time.sleep(0.5)
    bodies += receive(moto, queue, lambda got: True)
    assert [b["Events"][0]["HITId"] for b in bodies] == [switched_on]


def test_a_rolled_back_operation_sends_nothing(moto: Moto, turk: RunningServer) -> None:
    queue = moto.queue()
    who = turk.requester(balance_cents=50)
    client = turk.client(who)
    type_id = client.create_hit_type(**_type_args())["HITTypeId"]
    _notify(client, type_id, "SQS", queue, ["HITCreated"])
    with pytest.raises(ClientError, match="insufficient funds"):
        _hit(client, type_id)  # HITCreated was queued inside the transaction that then rolled back
    ping = {"Destination": queue, "Transport": "SQS", "Version": "2014-08-15", "EventTypes": ["Ping"]}
    client.send_test_event_notification(Notification=ping, TestEventType="Ping")
    bodies = receive(moto, queue, lambda got: "Ping" in event_types(got))
    assert event_types(bodies) == ["Ping"]
    outbox = cli(turk, "notifications", "list")["messages"]
    assert "HITCreated" not in [m["event_type"] for m in outbox]


@pytest.mark.slow
def test_a_server_killed_before_delivery_delivers_after_restart(moto: Moto, db_url: str) -> None:
    queue = moto.queue()
    # First server: SQS unreachable (nothing listens on that port), so every attempt fails and is retried.
    dead = f"http://127.0.0.1:{free_port()}"
    # A short lease: the kill may land while this server holds a claimed row, which the next server may
    # only take over once the lease has run out.
    first = start_server(
        db_url, env=moto.env(OPENTURK_SQS_ENDPOINT_URL=dead, OPENTURK_NOTIFICATION_LEASE_SECONDS="2")
    )
    try:
        client = first.client(first.requester())
        type_id = client.create_hit_type(**_type_args())["HITTypeId"]
        _notify(client, type_id, "SQS", queue, ["HITCreated", "AssignmentAccepted"])
        hit_id = _hit(client, type_id)
        cli(first, "worker", "accept", hit_id, "--worker", new_worker(first))
        deadline = time.monotonic() + 15
        while True:
            pending = cli(first, "notifications", "list", "--pending")["messages"]
            if all(m["attempts"] >= 2 for m in pending) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [m["event_type"] for m in pending] == ["HITCreated", "AssignmentAccepted"]
        assert all(m["attempts"] >= 2 and "last_error" in m for m in pending)  # retried with backoff
    finally:
        first.process.kill()  # kill -9: no shutdown of any kind
        first.process.wait()
        first.stop()  # only closes the pipes and this test's own connections now
    with openturk_for(moto, db_url) as second:
        bodies = receive(moto, queue, lambda got: len(got) >= 2)
        # Retried rows go out as each one's backoff ends: order is not promised (nor is it by SQS).
        assert sorted(event_types(bodies)) == ["AssignmentAccepted", "HITCreated"]
        assert all(b["Events"][0]["HITId"] == hit_id for b in bodies)
        assert cli(second, "notifications", "list", "--pending")["messages"] == []


def test_two_deliverers_never_send_one_row_twice(db_url: str) -> None:
    """Claims are conditional updates: of two processes looking at once, one wins each row."""
    services = open_services(Settings().with_db(db_url))
    try:
        requester = services.accounts.create_requester("lab", balance_cents=0).requester.id
        with services.tx.write() as (conn, now):
            for n in range(30):
                events.enqueue(
                    conn,
                    now,
                    requester_id=requester,
                    event_type="Ping",
                    transport="Email",
                    destination=f"lab{n}@example.org",
                    body=json.dumps({"Events": [], "EventDocId": str(n)}),
                )
        config = DeliveryConfig(batch=7)
        one, two = Deliverer(services.db, config), Deliverer(services.db, config)
        total = 0
        while (sent := one.deliver_due() + two.deliver_due()) > 0:
            total += sent
        assert total == 30
        listed = NotificationService(services.tx).outbox(limit=100)
        assert all(m.delivered_at is not None and m.attempts == 1 for m in listed)
        # A lease that ran out (its holder died mid-delivery) is claimed again by someone else.
        with services.tx.write() as (conn, now):
            events.enqueue(
                conn,
                now,
                requester_id=requester,
                event_type="Ping",
                transport="Email",
                destination="late@example.org",
                body="{}",
            )
        dead = Deliverer(services.db, DeliveryConfig(lease_seconds=60))
        assert len(dead._claim()) == 1  # claimed, then the process "dies" without finishing
        assert two.deliver_due() == 0
        later = Deliverer(services.db, config, now=lambda: datetime.now(UTC) + timedelta(seconds=61))
        assert later.deliver_due() == 1
    finally:
        services.close()


def test_legacy_clients_set_notifications_and_send_test_events(moto: Moto, turk: RunningServer) -> None:
    """boto 2's set_sqs_notification (Version 2006-05-05), and a legacy SendTestEventNotification."""
    from tests.boto2_support import Boto2Connections, ExternalQuestion

    queue = moto.queue()
    who = turk.requester()
    connections = Boto2Connections(turk)
    try:
        conn = connections(who)
        [hit_type] = conn.register_hit_type("Label", "Label a picture", 0.1, 600, keywords="label")
        conn.set_sqs_notification(hit_type.HITTypeId, queue, event_types=["AssignmentSubmitted"])
        [hit] = conn.create_hit(
            hit_type=hit_type.HITTypeId, question=ExternalQuestion("https://tasks.example.org/x", 600)
        )
    finally:
        connections.close()
    submitted = accept_and_submit(turk, hit.HITId, new_worker(turk), label="cat")
    legacy(turk, who).ok(
        "SendTestEventNotification",
        {
            "Notification.1.Destination": queue,
            "Notification.1.Transport": "SQS",
            "Notification.1.Version": "2006-05-05",
            "Notification.1.EventType.1": "AssignmentSubmitted",
            "TestEventType": "Ping",
        },
    )
    bodies = receive(moto, queue, lambda got: {"AssignmentSubmitted", "Ping"} <= set(event_types(got)))
    seen = [(e["EventType"], e.get("AssignmentId")) for b in bodies for e in b["Events"]]
    assert ("AssignmentSubmitted", submitted) in seen
    assert {b["EventDocVersion"] for b in bodies} == {"2006-05-05"}
