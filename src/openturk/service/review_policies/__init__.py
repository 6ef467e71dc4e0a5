"""Review policies: ScoreMyKnownAnswers/2011-09-01 (assignment level) and SimplePlurality/2011-09-01
(HIT level), as AWS's "Assignment Review Policies" and "HIT Review Policies" pages describe them.

* ``parameters``: parsing and validating the ReviewPolicy structures CreateHIT receives.
* ``known_answers``: ScoreMyKnownAnswers, run when an assignment is submitted.
* ``plurality``: SimplePlurality, run when the HIT becomes Reviewable.
* ``actions``: extending the HIT and approving or rejecting assignments, through ``transitions`` and
  ``slots``; ``answers``: how both policies compare answers.
* ``records``: the stored policies and every result and action, in the order it happened;
  ``listing``: ListReviewPolicyResultsForHIT over them.

This package re-exports what the rest of the service calls: ``hits`` (``validate``, ``store``),
``transitions.submit`` (``assignment_submitted``), ``events`` (``hit_became_reviewable``) and the
protocol handler (``ReviewPolicyService``).
"""

from openturk.service.review_policies.known_answers import assignment_submitted
from openturk.service.review_policies.listing import ReviewPolicyService, ReviewReport
from openturk.service.review_policies.parameters import (
    KNOWN_ANSWERS,
    PLURALITY,
    Policy,
    parse_policy,
    validate,
)
from openturk.service.review_policies.plurality import hit_became_reviewable
from openturk.service.review_policies.records import store

__all__ = [
    "KNOWN_ANSWERS",
    "PLURALITY",
    "Policy",
    "ReviewPolicyService",
    "ReviewReport",
    "assignment_submitted",
    "hit_became_reviewable",
    "parse_policy",
    "store",
    "validate",
]
