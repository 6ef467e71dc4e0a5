"""GetFileUploadURL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openturk.protocol.handlers.base import Call, Handler
from openturk.web.file_downloads import base_url


def get_file_upload_url(call: Call, params: dict[str, Any]) -> Mapping[str, Any]:
    url = call.services.files.upload_url(
        call.requester_id, params["AssignmentId"], params["QuestionIdentifier"], base_url()
    )
    return {"FileUploadURL": url}


HANDLERS: Mapping[str, Handler] = {"GetFileUploadURL": get_file_upload_url}
