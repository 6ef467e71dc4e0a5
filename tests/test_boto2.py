"""The legacy API driven by boto 2's MTurkConnection over real HTTP: HITs, assignments and money."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.boto2_support import (
    AnswerSpecification,
    Boto2Connections,
    ExternalQuestion,
    FreeTextAnswer,
    LocaleRequirement,
    MTurkRequestError,
    PercentAssignmentsApprovedRequirement,
    Price,
    Qualifications,
    Question,
    QuestionContent,
    QuestionForm,
    SelectionAnswer,
    error_code,
)
from tests.hit_support import accept_and_submit, new_worker
from tests.support import RunningServer


def available(conn: Any) -> str:
    [price] = conn.get_account_balance()
    return str(price.formatted_price)


def label_form() -> QuestionForm:
    content = QuestionContent()
    content.append_field("Title", "What is in the picture?")
    form = QuestionForm()
    form.append(Question("label", content, AnswerSpecification(FreeTextAnswer()), is_required=True))
    choices = SelectionAnswer(style="radiobutton", selections=[("A cat", "cat"), ("A dog", "dog")])
    form.append(Question("kind", content, AnswerSpecification(choices)))
    return form


def test_a_study_through_boto2(server: RunningServer, boto2: Boto2Connections) -> None:
    conn = boto2(server.requester(balance_cents=10_000))
    assert available(conn) == "$100.00"
    requirements = Qualifications(
        [
            PercentAssignmentsApprovedRequirement("GreaterThanOrEqualTo", 90),
            LocaleRequirement("EqualTo", "US"),
        ]
    )
    [hit_type] = conn.register_hit_type(
        "Label a picture",
        "Say what you see",
        Price(0.5),
        datetime.timedelta(minutes=10),
        keywords=["image", "label"],
        approval_delay=datetime.timedelta(days=1),
        qual_req=requirements,
    )
    [hit] = conn.create_hit(
        hit_type=hit_type.HITTypeId,
        question=label_form(),
        lifetime=datetime.timedelta(hours=1),
        max_assignments=2,
        annotation="batch 7",
    )
    assert available(conn) == "$98.80"  # two 0.50 rewards and their 0.10 fees reserved
    [fetched] = conn.get_hit(hit.HITId)
    assert (fetched.HITTypeId, fetched.Title, fetched.HITStatus) == (
        hit_type.HITTypeId,
        "Label a picture",
        "Assignable",
    )
    assert (fetched.Amount, fetched.FormattedPrice, fetched.RequesterAnnotation) == (
        "0.50",
        "$0.50",
        "batch 7",
    )
    assert fetched.Keywords == "image, label"
    # (get_all_hits itself divides with / and breaks on Python 3: boto 2's bug)
    assert [h.HITId for h in conn.search_hits(page_size=100)] == [hit.HITId]

    worker = new_worker(server, "ann")
    assignment = accept_and_submit(server, hit.HITId, worker, label="a cat", kind="cat")
    [done] = conn.get_assignments(hit.HITId)
    assert (done.AssignmentId, done.WorkerId, done.AssignmentStatus) == (assignment, worker, "Submitted")
    answers = {a.qid: a.fields for a in done.answers[0]}
    assert answers == {"label": ["a cat"], "kind": ["cat"]}

    conn.approve_assignment(assignment, "Thanks")
    conn.grant_bonus(worker, assignment, Price(1.25), "Careful work")
    assert available(conn) == "$97.30"  # 1.25 and its 0.25 fee
    with pytest.raises(MTurkRequestError) as refused:
        conn.grant_bonus(worker, assignment, Price(200), "More than the balance")
    assert error_code(refused.value) == "AWS.MechanicalTurk.InsufficientFunds"
    assert available(conn) == "$97.30"

    second = accept_and_submit(server, hit.HITId, new_worker(server, "bob"), label="?")
    conn.reject_assignment(second, "Not an answer")
    conn.approve_rejected_assignment(second, "On second thoughts")
    [status] = conn.get_assignments(hit.HITId, status="Approved", page_size=1, page_number=2)
    assert status.AssignmentId == second
    assert [h.HITId for h in conn.get_reviewable_hits(hit_type=hit_type.HITTypeId)] == [hit.HITId]
    conn.set_reviewing(hit.HITId)
    assert [h.HITId for h in conn.get_reviewable_hits(status="Reviewing")] == [hit.HITId]
    conn.set_reviewing(hit.HITId, revert=True)
    conn.dispose_hit(hit.HITId)
    assert list(conn.search_hits()) == []
    assert available(conn) == "$97.30"


def test_hit_life_through_boto2(server: RunningServer, boto2: Boto2Connections) -> None:
    conn = boto2(server.requester(balance_cents=1_000))
    [hit] = conn.create_hit(
        question=ExternalQuestion("https://tasks.example.org/label", 600),
        title="Tag",
        description="Tag a photo",
        keywords="photo",
        reward=0.25,
        max_assignments=1,
        lifetime=3600,
        duration=600,
    )
    conn.extend_hit(hit.HITId, assignments_increment=2)
    conn.extend_hit(hit.HITId, expiration_increment=3600)
    [extended] = conn.get_hit(hit.HITId, response_groups=["Minimal", "HITAssignmentSummary"])
    assert extended.NumberOfAssignmentsAvailable == "3"
    assert not hasattr(extended, "Title")  # not asked for
    [other_type] = conn.register_hit_type("Tag", "Tag it again", 0.25, 600, keywords="photo")
    conn.change_hit_type_of_hit(hit.HITId, other_type.HITTypeId)
    conn.expire_hit(hit.HITId)
    [expired] = conn.get_hit(hit.HITId)
    assert (expired.HITTypeId, expired.HITStatus) == (other_type.HITTypeId, "Reviewable")
    conn.disable_hit(hit.HITId)
    assert available(conn) == "$10.00"
    [disposed] = conn.get_hit(hit.HITId)
    assert disposed.HITStatus == "Disposed"
    with pytest.raises(MTurkRequestError) as gone:
        conn.extend_hit(hit.HITId, assignments_increment=1)
    assert error_code(gone.value) == "AWS.MechanicalTurk.InvalidHITState"


def test_boto2_errors_are_legacy_errors(server: RunningServer, boto2: Boto2Connections) -> None:
    who = server.requester(balance_cents=100)
    conn = boto2(who)
    with pytest.raises(MTurkRequestError) as missing:
        conn.get_assignment("3NOSUCHASSIGNMENT0000000000000")
    assert error_code(missing.value) == "AWS.MechanicalTurk.AssignmentDoesNotExist"
    with pytest.raises(MTurkRequestError) as forged:
        boto2(who, secret="not the secret").get_account_balance()
    assert error_code(forged.value) == "AWS.NotAuthorized"


def test_boto2_sorts_hits_as_it_asks(server: RunningServer, boto2: Boto2Connections) -> None:
    conn = boto2(server.requester(balance_cents=10_000))
    made = {}
    for title, reward in (("Banana", 0.3), ("Apple", 0.1), ("Cherry", 0.2)):
        [hit] = conn.create_hit(
            question=ExternalQuestion("https://tasks.example.org/fruit", 600),
            title=title,
            description="Name the fruit",
            keywords="fruit",
            reward=reward,
        )
        made[title] = hit.HITId
    titles = [h.Title for h in conn.search_hits(sort_by="Title", sort_direction="Descending")]
    assert titles == ["Cherry", "Banana", "Apple"]
    assert [h.Title for h in conn.search_hits()] == ["Banana", "Apple", "Cherry"]  # CreationTime
    assert [h.Amount for h in conn.search_hits(sort_by="Reward")] == ["0.10", "0.20", "0.30"]
    for hit_id in made.values():
        conn.expire_hit(hit_id)
    reviewable = conn.get_reviewable_hits(sort_by="Reward", sort_direction="Descending")
    assert [h.HITId for h in reviewable] == [made["Banana"], made["Cherry"], made["Apple"]]
    with pytest.raises(MTurkRequestError) as refused:
        conn.search_hits(sort_by="Colour")
    assert error_code(refused.value) == "AWS.MechanicalTurk.InvalidParameterValue"


def test_boto2_sorts_assignments_as_it_asks(server: RunningServer, boto2: Boto2Connections) -> None:
    conn = boto2(server.requester(balance_cents=10_000))
    [hit] = conn.create_hit(
        question=ExternalQuestion("https://tasks.example.org/fruit", 600),
        title="Fruit",
        description="Name the fruit",
        keywords="fruit",
        reward=0.1,
        max_assignments=3,
    )
    done = [accept_and_submit(server, hit.HITId, new_worker(server, n), fruit=n) for n in ("a", "b", "c")]
    conn.approve_assignment(done[1])
    assert [a.AssignmentId for a in conn.get_assignments(hit.HITId)] == done  # SubmitTime, Ascending
    newest_first = conn.get_assignments(hit.HITId, sort_by="AcceptTime", sort_direction="Descending")
    assert [a.AssignmentId for a in newest_first] == done[::-1]
    by_status = conn.get_assignments(hit.HITId, sort_by="AssignmentStatus")
    assert [a.AssignmentStatus for a in by_status] == ["Approved", "Submitted", "Submitted"]
