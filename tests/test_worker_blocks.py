"""Worker blocks and NotifyWorkers, end to end (real boto3, real server, workers through the CLI)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.hit_support import accept_and_submit, hit_args
from tests.qualification_support import cli, cli_error, worker
from tests.support import RunningServer


def test_a_blocked_worker_cannot_see_or_accept_that_requesters_hits(server: RunningServer) -> None:
    blocker = server.client(server.requester("blocker"))
    neighbour = server.client(server.requester("neighbour"))
    mine = blocker.create_hit(**hit_args(Title="Blocker's HIT"))["HIT"]["HITId"]
    theirs = neighbour.create_hit(**hit_args(Title="Neighbour's HIT"))["HIT"]["HITId"]
    w = worker(server, "blocked")

    blocker.create_worker_block(WorkerId=w, Reason="Answers at random")
    blocks = blocker.list_worker_blocks()["WorkerBlocks"]
    assert blocks == [{"WorkerId": w, "Reason": "Answers at random"}]
    assert neighbour.list_worker_blocks()["WorkerBlocks"] == []
    visible: set[str] = set()
    token = None
    while True:
        page = cli(server, "worker", "hits", w, "--max", "100", *(["--next-token", token] if token else []))
        if not page["hits"]:
            break
        visible |= {h["hit_id"] for h in page["hits"]}
        token = page["next_token"]
    assert theirs in visible
    assert mine not in visible
    assert "has blocked this worker" in cli_error(server, "worker", "accept", mine, "--worker", w)
    assert cli(server, "worker", "accept", theirs, "--worker", w)["hit_id"] == theirs

    blocker.create_worker_block(WorkerId=w, Reason="Second thoughts")
    assert blocker.list_worker_blocks()["WorkerBlocks"] == [{"WorkerId": w, "Reason": "Second thoughts"}]
    blocker.delete_worker_block(WorkerId=w, Reason="Forgiven")
    blocker.delete_worker_block(WorkerId=w)  # not blocked any more: still fine
    assert blocker.list_worker_blocks()["WorkerBlocks"] == []
    assert cli(server, "worker", "accept", mine, "--worker", w)["hit_id"] == mine
    with pytest.raises(ClientError) as excinfo:
        blocker.create_worker_block(WorkerId="ANOSUCHWORKER", Reason="x")
    assert "does not exist" in excinfo.value.response["Error"]["Message"]


def test_list_worker_blocks_pages(server: RunningServer) -> None:
    client = server.client(server.requester("many-blocks"))
    blocked = [worker(server, f"b{i}") for i in range(3)]
    for w in blocked:
        client.create_worker_block(WorkerId=w, Reason=f"reason {w}")
    first = client.list_worker_blocks(MaxResults=2)
    second = client.list_worker_blocks(MaxResults=2, NextToken=first["NextToken"])
    last = client.list_worker_blocks(MaxResults=2, NextToken=second["NextToken"])
    assert [b["WorkerId"] for b in first["WorkerBlocks"] + second["WorkerBlocks"]] == blocked
    assert last["WorkerBlocks"] == []
    assert "NextToken" not in last


def test_notify_workers_reaches_only_workers_who_worked_for_the_requester(server: RunningServer) -> None:
    client = server.client(server.requester("notifier"))
    hit = client.create_hit(**hit_args(MaxAssignments=3))["HIT"]["HITId"]
    approved, rejected, pending, stranger = (worker(server, n) for n in ("ok", "rej", "pend", "stranger"))
    for w, verdict in ((approved, "approve"), (rejected, "reject"), (pending, None)):
        assignment = accept_and_submit(server, hit, w, label="cat")
        if verdict == "approve":
            client.approve_assignment(AssignmentId=assignment)
        elif verdict == "reject":
            client.reject_assignment(AssignmentId=assignment, RequesterFeedback="wrong")

    result = client.notify_workers(
        Subject="More work",
        MessageText="New HITs tomorrow.",
        WorkerIds=[approved, rejected, pending, stranger, "ANOBODY1", approved],
    )
    failures = {f["WorkerId"]: f for f in result["NotifyWorkersFailureStatuses"]}
    assert set(failures) == {pending, stranger, "ANOBODY1"}
    assert all(f["NotifyWorkersFailureCode"] == "HardFailure" for f in failures.values())
    assert "not approved or rejected" in failures[pending]["NotifyWorkersFailureMessage"]
    assert "does not exist" in failures["ANOBODY1"]["NotifyWorkersFailureMessage"]
    for w in (approved, rejected):
        inbox = cli(server, "worker", "messages", w)["messages"]
        assert [(m["subject"], m["message"], m["requester_name"]) for m in inbox] == [
            ("More work", "New HITs tomorrow.", "notifier")
        ]
    assert cli(server, "worker", "messages", pending)["messages"] == []

    for kwargs, expected in (
        ({"Subject": "s" * 201, "MessageText": "m", "WorkerIds": [approved]}, "Subject"),
        ({"Subject": "s", "MessageText": "m" * 4097, "WorkerIds": [approved]}, "MessageText"),
        ({"Subject": "s", "MessageText": "m", "WorkerIds": [approved] * 101}, "between 1 and 100"),
    ):
        with pytest.raises(ClientError) as excinfo:
            client.notify_workers(**kwargs)
        assert expected in excinfo.value.response["Error"]["Message"]
    assert len(cli(server, "worker", "messages", approved)["messages"]) == 1


def test_a_granted_qualification_is_announced_to_the_worker_unless_send_notification_is_false(
    server: RunningServer,
) -> None:
    client = server.client(server.requester("granter"))
    name = "Careful labellers " + "x" * 230  # longer than a message subject may be
    qual = client.create_qualification_type(Name=name, Description="d", QualificationTypeStatus="Active")[
        "QualificationType"
    ]["QualificationTypeId"]
    told, quiet = worker(server, "told"), worker(server, "quiet")
    client.associate_qualification_with_worker(QualificationTypeId=qual, WorkerId=told, IntegerValue=80)
    client.associate_qualification_with_worker(
        QualificationTypeId=qual, WorkerId=quiet, IntegerValue=80, SendNotification=False
    )
    (message,) = cli(server, "worker", "messages", told)["messages"]
    assert message["requester_name"] == "granter"
    assert message["subject"] == f"Qualification granted: {name}"[:200]
    assert message["message"] == f'You have been granted the Qualification "{name}" with a score of 80.'
    assert cli(server, "worker", "messages", quiet)["messages"] == []
    assert (
        client.get_qualification_score(QualificationTypeId=qual, WorkerId=quiet)["Qualification"][
            "IntegerValue"
        ]
        == 80
    )
