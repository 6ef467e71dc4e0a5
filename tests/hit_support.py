"""Question documents and CLI shortcuts for HIT tests."""

from __future__ import annotations

import json
from typing import Any

from tests.support import RunningServer, run_cli

EXTERNAL = (
    '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/'
    'ExternalQuestion.xsd"><ExternalURL>https://tasks.example.org/label</ExternalURL>'
    "<FrameHeight>600</FrameHeight></ExternalQuestion>"
)
HTML = (
    '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/'
    'HTMLQuestion.xsd"><HTMLContent><![CDATA[<!DOCTYPE html><html><body>'
    '<form name="mturk_form" method="post" action="https://www.mturk.com/mturk/externalSubmit">'
    '<input type="hidden" name="assignmentId" id="assignmentId" value="">'
    '<input name="label"><input type="submit"></form></body></html>]]></HTMLContent>'
    "<FrameHeight>450</FrameHeight></HTMLQuestion>"
)


def hit_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "Title": "Label a picture",
        "Description": "Say what you see",
        "Keywords": "image, label",
        "Reward": "0.5",
        "MaxAssignments": 3,
        "LifetimeInSeconds": 3600,
        "AssignmentDurationInSeconds": 600,
        "AutoApprovalDelayInSeconds": 3 * 86400,
        "Question": EXTERNAL,
    }
    args.update(overrides)
    return args


def cli(server: RunningServer, *args: str) -> dict[str, Any]:
    result = run_cli(*args, "--json", "--db", server.db_url)
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def new_worker(server: RunningServer, name: str = "w") -> str:
    return str(cli(server, "worker", "create", name, "--country", "US")["worker_id"])


def accept_and_submit(server: RunningServer, hit_id: str, worker: str, **answers: str) -> str:
    assignment = str(cli(server, "worker", "accept", hit_id, "--worker", worker)["assignment_id"])
    pairs = [x for k, v in answers.items() for x in ("--answer", f"{k}={v}")]
    cli(server, "worker", "submit", assignment, *pairs)
    return assignment


def balance(client: Any) -> str:
    return str(client.get_account_balance()["AvailableBalance"])
