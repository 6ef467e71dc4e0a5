"""What every handler receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openturk.service.services import Services


@dataclass(frozen=True, slots=True)
class Call:
    services: Services
    requester_id: str
    request_id: str


Handler = Callable[[Call, dict[str, Any]], Mapping[str, Any]]
