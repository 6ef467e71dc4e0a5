"""JSON API operation handlers: each parses nothing itself (the model did), calls one service method
and returns a mapping the model serializes.  No business rule lives here."""

from __future__ import annotations

from collections.abc import Mapping

from openturk.protocol.handlers import (
    accounts,
    assignments,
    bonuses,
    file_uploads,
    hits,
    notifications,
    qualifications,
    review_policies,
)
from openturk.protocol.handlers.base import Call, Handler

HANDLERS: Mapping[str, Handler] = {
    **accounts.HANDLERS,
    **hits.HANDLERS,
    **assignments.HANDLERS,
    **bonuses.HANDLERS,
    **qualifications.HANDLERS,
    **notifications.HANDLERS,
    **review_policies.HANDLERS,
    **file_uploads.HANDLERS,
}

__all__ = ["HANDLERS", "Call", "Handler"]
