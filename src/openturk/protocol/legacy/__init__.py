"""The legacy query/XML API (2012-03-25, 2014-08-15): a second front door onto the same services."""

from __future__ import annotations

from openturk.protocol.legacy.endpoint import OPERATIONS, LegacyApi

__all__ = ["OPERATIONS", "LegacyApi"]
