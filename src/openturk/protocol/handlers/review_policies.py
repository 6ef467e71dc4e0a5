"""ListReviewPolicyResultsForHIT."""

from __future__ import annotations

from collections.abc import Mapping

from openturk.protocol.handlers.base import Handler

HANDLERS: Mapping[str, Handler] = {}
