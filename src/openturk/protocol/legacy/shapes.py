"""The legacy WSDL's HIT, Assignment, QualificationRequirement, BonusPayment, QualificationType,
Qualification, QualificationRequest and WorkerBlock elements, in its order.

HIT: HITId, HITTypeId (Minimal); HITGroupId, CreationTime, Title, Description (HITDetail); Question
(HITQuestion); Keywords, HITStatus, MaxAssignments, Reward, AutoApprovalDelayInSeconds, Expiration,
AssignmentDurationInSeconds, NumberOfSimilarHITs, RequesterAnnotation, QualificationRequirement*,
HITReviewStatus (HITDetail); NumberOfAssignmentsPending/Available/Completed (HITAssignmentSummary).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.protocol.legacy import xml
from openturk.protocol.legacy.xml import Xml, el, text
from openturk.service.bonuses import Bonus
from openturk.service.paging import NumberedPage
from openturk.service.qualification_records import Qualification, QualificationRequest, QualificationType
from openturk.service.records import Assignment, Hit
from openturk.service.worker_relations import WorkerBlock

MINIMAL, DETAIL, QUESTION, SUMMARY = "Minimal", "HITDetail", "HITQuestion", "HITAssignmentSummary"
HIT_GROUPS = frozenset({MINIMAL, DETAIL, QUESTION, SUMMARY})


def hit_groups(asked: frozenset[str], default: frozenset[str]) -> frozenset[str]:
    """The HIT response groups to write: those asked for (plus Minimal), else the operation's default."""
    chosen = asked & HIT_GROUPS
    return (chosen | {MINIMAL}) if chosen else default


def hit_element(hit: Hit, groups: frozenset[str], similar: Mapping[str, int]) -> Xml:
    return el("HIT", hit_fields(hit, groups, similar))


def hit_fields(hit: Hit, groups: frozenset[str], similar: Mapping[str, int]) -> Xml:
    """The HIT's children (CreateHIT and GetHIT answer with them inside their ``HIT`` result element)."""
    detail, question, summary = DETAIL in groups, QUESTION in groups, SUMMARY in groups
    parts: list[Xml | None] = [text("HITId", hit.id), text("HITTypeId", hit.hit_type_id)]
    if detail:
        parts += [
            text("HITGroupId", hit.hit_group_id),
            xml.date("CreationTime", hit.created_at),
            text("Title", hit.title),
            text("Description", hit.description),
        ]
    if question:
        parts.append(text("Question", hit.question))
    if detail:
        parts += [
            text("Keywords", hit.keywords),
            text("HITStatus", hit.status),
            text("MaxAssignments", hit.max_assignments),
            xml.price("Reward", hit.reward_cents),
            text("AutoApprovalDelayInSeconds", hit.auto_approval_delay_s),
            xml.date("Expiration", hit.expires_at),
            text("AssignmentDurationInSeconds", hit.assignment_duration_s),
            text("NumberOfSimilarHITs", similar.get(hit.hit_group_id)),
            text("RequesterAnnotation", hit.requester_annotation),
            *(requirement_element(r) for r in hit.qualification_requirements),
            text("HITReviewStatus", hit.review_status),
        ]
    if summary:
        parts += [
            text("NumberOfAssignmentsPending", hit.num_pending),
            text("NumberOfAssignmentsAvailable", hit.num_available),
            text("NumberOfAssignmentsCompleted", hit.num_completed),
        ]
    return xml.concat(parts)


def requirement_element(requirement: Mapping[str, Any]) -> Xml:
    locales = [
        el("LocaleValue", text("Country", loc.get("Country")), text("Subdivision", loc.get("Subdivision")))
        for loc in requirement.get("LocaleValues") or ()
    ]
    return el(
        "QualificationRequirement",
        text("QualificationTypeId", requirement.get("QualificationTypeId")),
        text("Comparator", requirement.get("Comparator")),
        *(text("IntegerValue", v) for v in requirement.get("IntegerValues") or ()),
        *locales,
        xml.boolean("RequiredToPreview", requirement.get("RequiredToPreview")),
    )


def assignment_element(a: Assignment) -> Xml:
    return el(
        "Assignment",
        text("AssignmentId", a.id),
        text("WorkerId", a.worker_id),
        text("HITId", a.hit_id),
        text("AssignmentStatus", a.status),
        xml.date("AutoApprovalTime", a.auto_approval_at),
        xml.date("AcceptTime", a.accepted_at),
        xml.date("SubmitTime", a.submitted_at),
        xml.date("ApprovalTime", a.approved_at),
        xml.date("RejectionTime", a.rejected_at),
        xml.date("Deadline", a.deadline_at),
        text("Answer", a.answer),
        text("RequesterFeedback", a.requester_feedback),
    )


def bonus_element(bonus: Bonus) -> Xml:
    return el(
        "BonusPayment",
        text("WorkerId", bonus.worker_id),
        xml.price("BonusAmount", bonus.amount_cents),
        text("AssignmentId", bonus.assignment_id),
        text("Reason", bonus.reason),
        xml.date("GrantTime", bonus.granted_at),
    )


def qualification_type_element(qt: QualificationType) -> Xml:
    return el("QualificationType", qualification_type_fields(qt))


def qualification_type_fields(qt: QualificationType) -> Xml:
    """A QualificationType's children (CreateQualificationType, GetQualificationType and
    UpdateQualificationType answer with them inside their ``QualificationType`` result element), in the
    order of the legacy documentation's table and example (RetryDelayInSeconds after the status,
    IsRequestable last), which is not the 2017 API's."""
    return xml.concat(
        [
            text("QualificationTypeId", qt.id),
            xml.date("CreationTime", qt.created_at),
            text("Name", qt.name),
            text("Description", qt.description),
            text("Keywords", qt.keywords),
            text("QualificationTypeStatus", qt.status),
            text("RetryDelayInSeconds", qt.retry_delay_s),
            text("Test", qt.test),
            text("TestDurationInSeconds", qt.test_duration_s),
            text("AnswerKey", qt.answer_key),
            xml.boolean("AutoGranted", qt.auto_granted),
            text("AutoGrantedValue", qt.auto_granted_value),
            xml.boolean("IsRequestable", qt.is_requestable),
        ]
    )


def qualification_fields(q: Qualification) -> Xml:
    """A Qualification's children; the legacy API names the worker ``SubjectId``."""
    locale = None
    if q.country is not None:
        locale = el("LocaleValue", text("Country", q.country), text("Subdivision", q.subdivision))
    return xml.concat(
        [
            text("QualificationTypeId", q.type_id),
            text("SubjectId", q.worker_id),
            xml.date("GrantTime", q.granted_at),
            text("IntegerValue", q.integer_value),
            locale,
            text("Status", q.status),
        ]
    )


def qualification_request_element(r: QualificationRequest) -> Xml:
    return el(
        "QualificationRequest",
        text("QualificationRequestId", r.id),
        text("QualificationTypeId", r.type_id),
        text("SubjectId", r.worker_id),
        text("Test", r.test),
        text("Answer", r.answer),
        xml.date("SubmitTime", r.submitted_at),
    )


def worker_block_element(b: WorkerBlock) -> Xml:
    return el("WorkerBlock", text("WorkerId", b.worker_id), text("Reason", b.reason))


def page_header(page: NumberedPage[Any], *, number_first: bool = False) -> Xml:
    """NumResults, TotalNumResults, PageNumber of a numbered page (PageNumber first where an operation
    documented it so: GetBlockedWorkers)."""
    number = text("PageNumber", page.page_number)
    counts = [text("NumResults", len(page.items)), text("TotalNumResults", page.total)]
    return xml.concat([number, *counts] if number_first else [*counts, number])
