"""Qualification types, worker qualifications and requests, worker blocks and NotifyWorkers."""

from __future__ import annotations

from collections.abc import Mapping

from openturk.protocol.handlers.base import Handler

HANDLERS: Mapping[str, Handler] = {}
