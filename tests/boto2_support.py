"""boto 2's ``MTurkConnection``, the legacy client most old scripts were written with, pointed at a server.

boto 2.49 still installs and imports on Python 3.11 (not on 3.12: it needs the ``imp`` module), so the
legacy API is driven here by the real client: its own parameter flattening, SignatureVersion 1 signing,
POSTed form bodies and its SAX parsing of our XML.  The warnings it raises on import are silenced in
pyproject.toml by their exact text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from openturk.service.accounts import NewRequester
from tests.support import RunningServer

connection = pytest.importorskip("boto.mturk.connection", reason="boto 2 needs Python < 3.12")

# Imported after the check above, so a Python without boto 2 skips instead of failing to collect.
from boto.mturk.price import Price  # noqa: E402
from boto.mturk.qualification import (  # noqa: E402
    LocaleRequirement,
    PercentAssignmentsApprovedRequirement,
    Qualifications,
    Requirement,
)
from boto.mturk.question import (  # noqa: E402
    AnswerSpecification,
    ExternalQuestion,
    FreeTextAnswer,
    Question,
    QuestionContent,
    QuestionForm,
    SelectionAnswer,
)

MTurkRequestError = connection.MTurkRequestError
__all__ = [
    "AnswerSpecification",
    "Boto2Connections",
    "ExternalQuestion",
    "FreeTextAnswer",
    "LocaleRequirement",
    "MTurkRequestError",
    "PercentAssignmentsApprovedRequirement",
    "Price",
    "Qualifications",
    "Question",
    "QuestionContent",
    "QuestionForm",
    "Requirement",
    "SelectionAnswer",
    "error_code",
]


class Boto2Connections:
    """Makes boto 2 connections and closes every HTTP connection they opened afterwards.  boto 2 drops
    a connection the server has closed (uvicorn ends idle keep-alive connections after 5 s) without
    closing it, and never closes its pool: keeping a reference to each lets no socket reach the garbage
    collector open (a ResourceWarning, which the suite treats as an error)."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.opened: list[Any] = []

    def __call__(self, who: NewRequester, *, secret: str | None = None) -> Any:
        """A connection for ``who``, signing with ``secret`` instead of theirs if given."""
        address = urlsplit(self.server.url)
        made = connection.MTurkConnection(
            aws_access_key_id=who.access_key_id,
            aws_secret_access_key=secret or who.secret_access_key,
            host=address.hostname,
            port=address.port,
            is_secure=False,
            proxy=None,
        )
        new_http_connection = made.new_http_connection

        def tracked(*args: Any, **kwargs: Any) -> Any:
            opened = new_http_connection(*args, **kwargs)
            self.opened.append(opened)
            return opened

        made.new_http_connection = tracked
        return made

    def close(self) -> None:
        for opened in self.opened:
            opened.close()


def error_code(error: Any) -> str:
    """The first legacy error code in a ``MTurkRequestError``'s body."""
    body = error.body.decode() if isinstance(error.body, bytes) else str(error.body)
    start = body.index("<Code>") + len("<Code>")
    return body[start : body.index("</Code>", start)]
