"""Domain values to the 2017 API's HIT and Assignment structures (the model serializes them further)."""

from __future__ import annotations

from typing import Any

from openturk.money import format_amount
from openturk.service.paging import Page
from openturk.service.records import Assignment, Hit


def hit_structure(hit: Hit) -> dict[str, Any]:
    return {
        "HITId": hit.id,
        "HITTypeId": hit.hit_type_id,
        "HITGroupId": hit.hit_group_id,
        "CreationTime": hit.created_at,
        "Title": hit.title,
        "Description": hit.description,
        "Question": hit.question,
        "Keywords": hit.keywords,
        "HITStatus": hit.status,
        "MaxAssignments": hit.max_assignments,
        "Reward": format_amount(hit.reward_cents),
        "AutoApprovalDelayInSeconds": hit.auto_approval_delay_s,
        "Expiration": hit.expires_at,
        "AssignmentDurationInSeconds": hit.assignment_duration_s,
        "RequesterAnnotation": hit.requester_annotation,
        "QualificationRequirements": list(hit.qualification_requirements),
        "HITReviewStatus": hit.review_status,
        "NumberOfAssignmentsPending": hit.num_pending,
        "NumberOfAssignmentsAvailable": hit.num_available,
        "NumberOfAssignmentsCompleted": hit.num_completed,
    }


def assignment_structure(a: Assignment) -> dict[str, Any]:
    return {
        "AssignmentId": a.id,
        "WorkerId": a.worker_id,
        "HITId": a.hit_id,
        "AssignmentStatus": a.status,
        "AutoApprovalTime": a.auto_approval_at,
        "AcceptTime": a.accepted_at,
        "SubmitTime": a.submitted_at,
        "ApprovalTime": a.approved_at,
        "RejectionTime": a.rejected_at,
        "Deadline": a.deadline_at,
        "Answer": a.answer,
        "RequesterFeedback": a.requester_feedback,
    }


def paged(page: Page[Any], key: str, structure: Any) -> dict[str, Any]:
    return {
        "NextToken": page.next_token,
        "NumResults": len(page),
        key: [structure(item) for item in page],
    }
