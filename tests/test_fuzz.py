"""Bad input from a signed-in requester, through real HTTP: every operation of the JSON API and of the
legacy query API, fed mangled parameters (wrong types, missing or unknown members, odd text, real ids
where ids go), answers in the service's own error format and never with a 5xx; a refused call moves no
money; and whatever the calls that did succeed did, the books still balance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openturk.protocol.legacy import OPERATIONS as LEGACY_OPERATIONS
from openturk.service.accounts import Balance, NewRequester
from openturk.service.audit import run_audit
from tests.hit_support import accept_and_submit, hit_args, new_worker
from tests.legacy_client import LegacyClient
from tests.shapes import minimal_input
from tests.support import (
    HTTP,
    TARGET,
    RunningServer,
    fresh_db_url,
    on_postgres,
    pg_databases,
    signed_post,
    start_server,
)

MODEL = botocore.session.get_session().get_service_model("mturk")
FUZZ = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

STRINGS = st.text(max_size=40) | st.sampled_from(
    ["", " ", "0", "-1", "1e400", "0.001", "NaN", "null", "\x00", "A" * 300, "é€😀", "<x>&amp;"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | STRINGS
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A marketplace of its own: what the fuzzing creates (HITs, Qualification types) is nobody else's
    business, and the books are audited after it."""
    db_url = fresh_db_url(tmp_path_factory.mktemp("fuzz"))
    running = start_server(db_url)
    yield running
    report = run_audit(running.services.db)
    running.stop()
    if on_postgres():
        pg_databases().drop(db_url)
    assert report.ok, report.problems


@dataclass(frozen=True)
class Scene:
    """A requester with money and something of each kind to point at: ids that exist."""

    server: RunningServer
    lab: NewRequester
    ids: tuple[str, ...]

    def available(self) -> Balance:
        return self.server.services.accounts.balance(self.lab.requester.id)


_SCENES: dict[str, Scene] = {}


def scene(server: RunningServer) -> Scene:
    if server.url not in _SCENES:
        lab = server.requester("fuzzed lab", balance_cents=100_000)
        client = server.client(lab)
        hit = client.create_hit(**hit_args(MaxAssignments=3))["HIT"]
        worker = new_worker(server)
        assignment = accept_and_submit(server, hit["HITId"], worker, a="1")
        qual = client.create_qualification_type(
            Name="fuzzed", Description="d", QualificationTypeStatus="Active"
        )["QualificationType"]["QualificationTypeId"]
        ids = (hit["HITId"], hit["HITTypeId"], worker, assignment, qual)
        _SCENES[server.url] = Scene(server, lab, ids)
    return _SCENES[server.url]


_TYPED: dict[tuple[str, int, tuple[str, ...]], st.SearchStrategy[Any]] = {}


def typed(shape: Any, ids: tuple[str, ...], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the member's own JSON type but any content: they get past type checks to the rules."""
    key = (shape.name, depth, ids)
    if key not in _TYPED:
        _TYPED[key] = _typed(shape, ids, depth)
    return _TYPED[key]


def _typed(shape: Any, ids: tuple[str, ...], depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "string":
        return st.sampled_from(shape.enum or ids) | STRINGS
    if kind in ("integer", "long"):
        return st.integers(min_value=-5, max_value=2**40) | st.sampled_from([0, 1, 10, 2**31 - 1])
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.integers(min_value=-(2**33), max_value=2**35) | st.floats(-1e10, 1e11)
    if depth > 2:
        return st.none()
    if kind == "list":
        return st.lists(typed(shape.member, ids, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(st.text(max_size=8), typed(shape.value, ids, depth + 1), max_size=2)
    members = {name: typed(member, ids, depth + 1) for name, member in shape.members.items()}
    return st.fixed_dictionaries({}, optional=members)


@st.composite
def json_bodies(draw: st.DrawFn, operation: str, ids: tuple[str, ...]) -> Any:
    body: Any = minimal_input(operation)
    shape = MODEL.operation_model(operation).input_shape
    members = sorted(shape.members)
    for name in draw(st.lists(st.sampled_from(members), max_size=3, unique=True)) if members else []:
        kind = draw(st.sampled_from(["drop", "junk", "typed", "typed", "real id"]))
        if kind == "drop":
            body.pop(name, None)
        elif kind == "junk":
            body[name] = draw(JSON_VALUES)
        elif kind == "typed":
            body[name] = draw(typed(shape.members[name], ids))
        else:
            body[name] = draw(st.sampled_from(ids))
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.text(min_size=1, max_size=12))] = draw(JSON_VALUES)
    if draw(st.integers(0, 19)) == 0:
        body = draw(JSON_VALUES)  # not even an object
    return body


@pytest.mark.parametrize("operation", sorted(MODEL.operation_names))
@FUZZ
@given(data=st.data())
def test_the_json_api_refuses_bad_input_cleanly(
    server: RunningServer, operation: str, data: st.DataObject
) -> None:
    at = scene(server)
    lab = at.lab
    body = data.draw(json_bodies(operation, at.ids))
    before = at.available()
    encoded = json.dumps(body, default=lambda moment: moment.timestamp()).encode()  # timestamps as epoch
    response = signed_post(server, lab, TARGET + operation, encoded)
    assert response.status_code < 500, (operation, body, response.text)
    assert response.headers["x-amzn-RequestId"]
    answer = response.json()
    event(f"{response.status_code} {answer.get('__type', '') if isinstance(answer, dict) else ''}")
    if response.status_code != 200:
        assert isinstance(answer.get("__type"), str), (operation, body, answer)
        assert answer["__type"], (operation, body, answer)
        assert isinstance(answer.get("message") or answer.get("Message"), str), (operation, body, answer)
        assert at.available() == before, (operation, body, answer)


def legacy_params(ids: tuple[str, ...]) -> st.SearchStrategy[dict[str, str]]:
    """Each parameter a legacy client might send, present or not, with a plausible or a junk value."""
    text = STRINGS  # NUL included: %00 travels in a form field or a query string like any byte
    some_id = st.sampled_from(ids) | text
    amount = st.sampled_from(["0.01", "1", "5.00", "0", "-1", "0.001", "1e3", "abc", "1000000"]) | text
    number = st.integers(min_value=-5, max_value=10**9).map(str) | text
    per_name = {
        **dict.fromkeys(
            [
                "HITId",
                "HITTypeId",
                "AssignmentId",
                "WorkerId",
                "WorkerId.1",
                "SubjectId",
                "QualificationTypeId",
                "QualificationRequestId",
            ],
            some_id,
        ),
        **dict.fromkeys(["Reward.1.Amount", "BonusAmount.1.Amount"], amount),
        **dict.fromkeys(["Reward.1.CurrencyCode", "BonusAmount.1.CurrencyCode"], st.just("USD") | text),
        **dict.fromkeys(
            [
                "LifetimeInSeconds",
                "AssignmentDurationInSeconds",
                "MaxAssignments",
                "NumberOfAssignmentsToAdd",
                "ExpirationIncrementInSeconds",
                "PageSize",
                "PageNumber",
                "QualificationRequirement.1.IntegerValue",
                "IntegerValue",
                "AutoGrantedValue",
                "RetryDelayInSeconds",
                "TestDurationInSeconds",
            ],
            number,
        ),
        **dict.fromkeys(
            [
                "MustBeRequestable",
                "MustBeOwnedByCaller",
                "SendNotification",
                "AutoGranted",
                "Active",
                "RetrieveActions",
                "RetrieveResults",
            ],
            st.sampled_from(["true", "false", "True"]) | text,
        ),
        "QualificationTypeStatus": st.sampled_from(["Active", "Inactive"]) | text,
        "PolicyLevel.1": st.sampled_from(["Assignment", "HIT"]) | text,
        "Statistic": st.sampled_from(
            ["TotalRewardPayout", "NumberHITsAssignable", "NumberKnownAnswersCorrect"]
        )
        | text,
        "TimePeriod": st.sampled_from(["OneDay", "SevenDays", "LifeToDate"]) | text,
        "Count": number,
        "AssignmentReviewPolicy.1.PolicyName": st.just("ScoreMyKnownAnswers/2011-09-01") | text,
        "HITReviewPolicy.1.PolicyName": st.just("SimplePlurality/2011-09-01") | text,
        **dict.fromkeys(
            ["AssignmentReviewPolicy.1.Parameter.1.Key", "HITReviewPolicy.1.Parameter.1.Key"],
            st.sampled_from(["AnswerKey", "QuestionIds", "ExtendMaximumAssignments"]) | text,
        ),
        **dict.fromkeys(
            [
                "AssignmentReviewPolicy.1.Parameter.1.Value.1",
                "HITReviewPolicy.1.Parameter.1.Value.1",
                "AssignmentReviewPolicy.1.Parameter.1.MapEntry.1.Key",
                "AssignmentReviewPolicy.1.Parameter.1.MapEntry.1.Value.1",
            ],
            number | text,
        ),
        "Notification.1.Transport": st.sampled_from(["Email", "SQS", "SNS", "REST"]) | text,
        "Notification.1.Destination": st.just("lab@example.org") | text,
        "Notification.1.Version": st.just("2006-05-05") | text,
        "Notification.1.EventType.1": st.sampled_from(["AssignmentSubmitted", "Ping"]) | text,
        "QualificationRequirement.1.QualificationTypeId": some_id,
        "QualificationRequirement.1.Comparator": st.sampled_from(["Exists", "GreaterThan", "In"]) | text,
        "Question": st.just(hit_args()["Question"]) | text,
        **dict.fromkeys(
            [
                "Reason",
                "Title",
                "Description",
                "SortProperty",
                "SortDirection",
                "Status",
                "UniqueRequestToken",
                "ResponseGroup.1",
                "Revert",
                "RequesterFeedback",
                "Name",
                "Keywords",
                "Query",
                "Test",
                "AnswerKey",
                "Subject",
                "MessageText",
                "TestEventType",
                "QuestionIdentifier",
            ],
            text,
        ),
    }
    return st.fixed_dictionaries({}, optional=per_name)


@pytest.mark.parametrize("operation", sorted(LEGACY_OPERATIONS))
@FUZZ
@given(data=st.data(), version=st.sampled_from(["2012-03-25", "2014-08-15"]))
def test_the_legacy_api_refuses_bad_input_cleanly(
    server: RunningServer, operation: str, data: st.DataObject, version: str
) -> None:
    at = scene(server)
    client = LegacyClient(server.url, at.lab.access_key_id, at.lab.secret_access_key, version=version)
    params = data.draw(legacy_params(at.ids))
    before = at.available()
    response = client.call(operation, params)
    assert response.status < 500, (operation, response.text)
    event(f"{response.status} {response.error_code if not response.valid else 'ok'}")
    if not response.valid:
        assert response.error_code, (operation, response.text)
        assert response.error_message, (operation, response.text)
        assert at.available() == before, (operation, response.text)


WORKER_PAGES = [
    ("GET", "/mturk/hits"),
    ("GET", "/mturk/preview"),
    ("GET", "/mturk/preview/content"),
    ("POST", "/mturk/accept"),
    ("GET", "/mturk/task"),
    ("GET", "/mturk/task/content"),
    ("POST", "/mturk/externalSubmit"),
    ("POST", "/mturk/return"),
    ("GET", "/mturk/files/F0000000000000000000"),
    ("GET", "/mturk/signin"),
    ("POST", "/mturk/signin"),
    ("POST", "/mturk/signout"),
]


@pytest.mark.parametrize(("method", "path"), WORKER_PAGES)
@FUZZ
@given(data=st.data())
def test_the_worker_pages_refuse_bad_input_cleanly(
    server: RunningServer, method: str, path: str, data: st.DataObject
) -> None:
    at = scene(server)
    names = st.sampled_from(
        ["hitId", "workerId", "assignmentId", "nextToken", "previewTicket", "key", "a", "q1"]
    )
    fields = data.draw(st.lists(st.tuples(names, st.sampled_from(at.ids) | STRINGS), max_size=6))
    if method == "GET":
        response = HTTP.get(server.url + path, params=tuple(fields))
    else:
        response = HTTP.post(server.url + path, data=dict(fields))
    assert response.status_code < 500, (method, path, fields, response.text)
