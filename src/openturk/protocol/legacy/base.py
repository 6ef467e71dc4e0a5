"""What a legacy operation is: a parser of its parameters that returns a runner of one service call.

Parsing and running are apart so ``Validate=True`` can check a request without acting on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openturk.protocol.legacy.params import Params
from openturk.protocol.legacy.xml import Xml
from openturk.service.services import Services


@dataclass(frozen=True, slots=True)
class Context:
    services: Services
    requester_id: str
    request_id: str
    response_groups: frozenset[str]


# The result element's children after <Request>.
Runner = Callable[[Context], Xml]


@dataclass(frozen=True, slots=True)
class Operation:
    result_element: str
    parse: Callable[[Params], Runner]
