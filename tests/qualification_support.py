"""Qualification tests, answer keys and CLI shortcuts for the qualification tests."""

from __future__ import annotations

import json
from typing import Any

from tests.support import RunningServer, run_cli

FORM_NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"
KEY_NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/AnswerKey.xsd"


def _selection_question(identifier: str, text: str, choices: list[str]) -> str:
    selections = "".join(
        f"<Selection><SelectionIdentifier>{c}</SelectionIdentifier><Text>{c}</Text></Selection>"
        for c in choices
    )
    return (
        f"<Question><QuestionIdentifier>{identifier}</QuestionIdentifier><IsRequired>true</IsRequired>"
        f"<QuestionContent><Text>{text}</Text></QuestionContent><AnswerSpecification><SelectionAnswer>"
        f"<StyleSuggestion>radiobutton</StyleSuggestion><Selections>{selections}</Selections>"
        "</SelectionAnswer></AnswerSpecification></Question>"
    )


TEST = (
    f'<QuestionForm xmlns="{FORM_NS}">'
    + _selection_question("capital", "What is the capital of France?", ["paris", "lyon", "nice"])
    + _selection_question("sum", "2 + 2 = ?", ["3", "4", "5"])
    + "</QuestionForm>"
)
ANSWER_KEY = (
    f'<AnswerKey xmlns="{KEY_NS}">'
    "<Question><QuestionIdentifier>capital</QuestionIdentifier>"
    "<AnswerOption><SelectionIdentifier>paris</SelectionIdentifier><AnswerScore>1</AnswerScore></AnswerOption>"
    "</Question>"
    "<Question><QuestionIdentifier>sum</QuestionIdentifier>"
    "<AnswerOption><SelectionIdentifier>4</SelectionIdentifier><AnswerScore>1</AnswerScore></AnswerOption>"
    "</Question>"
    "<QualificationValueMapping><PercentageMapping><MaximumSummedScore>2</MaximumSummedScore>"
    "</PercentageMapping></QualificationValueMapping>"
    "</AnswerKey>"
)
RIGHT = ("--answer", "capital=paris", "--answer", "sum=4")
HALF_RIGHT = ("--answer", "capital=paris", "--answer", "sum=5")


def cli(server: RunningServer, *args: str) -> dict[str, Any]:
    result = run_cli(*args, "--json", "--db", server.db_url)
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def cli_error(server: RunningServer, *args: str) -> str:
    """The error message of a command that must fail."""
    result = run_cli(*args, "--json", "--db", server.db_url, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    message: str = json.loads(result.stdout)["error"]
    return message


def worker(server: RunningServer, name: str, *options: str) -> str:
    return str(cli(server, "worker", "create", name, *options)["worker_id"])
