"""One exception tree for everything a client can be told.

Each class knows how it looks on both wires: the JSON API's ``__type`` (and HTTP status) plus
``TurkErrorCode``, and the legacy XML API's ``Error/Code``.  The service raises these; the protocol
edges map them to responses in exactly one place each (``protocol.json_api`` and ``protocol.legacy``).
"""

from __future__ import annotations

from collections.abc import Mapping


class OpenTurkError(Exception):
    """Base of every error that is meant to reach a client."""

    http_status: int = 400
    wire_type: str = "RequestError"
    turk_code: str = "AWS.MechanicalTurk.InvalidParameterValue"
    legacy_code: str = "AWS.MechanicalTurk.InvalidParameterValue"
    # RequestError/ServiceFault messages carry MTurk's "(epoch-ms)" stamp; AWS-level ones do not.
    stamped: bool = True

    def __init__(self, message: str, *, data: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data: dict[str, str] = dict(data or {})


# --- AWS protocol level (JSON API): bodies are {"__type": ..., "message": ...} ----------------


class ProtocolError(OpenTurkError):
    """Raised before any service is called: the request itself is malformed or unauthenticated."""

    stamped = False


class ValidationError(ProtocolError):
    wire_type = "ValidationException"
    legacy_code = "AWS.MechanicalTurk.InvalidParameterValue"


class SerializationError(ProtocolError):
    wire_type = "SerializationException"
    legacy_code = "AWS.MechanicalTurk.InvalidParameterValue"


class RequestTooLargeError(ProtocolError):
    """A request body larger than any operation needs, refused before it is read whole."""

    http_status = 413
    wire_type = "RequestEntityTooLargeException"
    legacy_code = "AWS.MechanicalTurk.InvalidParameterValue"


class UnknownOperationError(ProtocolError):
    wire_type = "UnknownOperationException"
    legacy_code = "AWS.InvalidOperation"


class AuthError(ProtocolError):
    legacy_code = "AWS.NotAuthorized"


class UnrecognizedClientError(AuthError):
    wire_type = "UnrecognizedClientException"

    def __init__(self, message: str = "The security token included in the request is invalid.") -> None:
        super().__init__(message)


class InvalidSignatureError(AuthError):
    # AWS's JSON services answer 400 (403 is the S3 and query-API convention).
    wire_type = "InvalidSignatureException"


class SignatureExpiredError(InvalidSignatureError):
    legacy_code = "AWS.BadClaimsSupplied"


class IncompleteSignatureError(AuthError):
    wire_type = "IncompleteSignatureException"


class BadTimestampError(IncompleteSignatureError):
    """A legacy request whose Timestamp is missing or not an ISO 8601 time."""

    legacy_code = "AWS.BadClaimsSupplied"


class MissingAuthenticationTokenError(AuthError):
    wire_type = "MissingAuthenticationTokenException"

    def __init__(self, message: str = "Request is missing Authentication Token") -> None:
        super().__init__(message)


# --- MTurk service level: RequestError (400) and ServiceFault (500) ----------------------------


class RequestError(OpenTurkError):
    """The request is well formed but the marketplace refuses it."""


class ParameterError(RequestError):
    turk_code = "ParameterValidationError"
    legacy_code = "AWS.MechanicalTurk.InvalidParameterValue"


class MissingParameterError(ParameterError):
    """A required legacy parameter is absent (the JSON API reports that as a ValidationException)."""

    legacy_code = "AWS.MissingParameters"


class ParameterOutOfRangeError(RequestError):
    turk_code = "AWS.ParameterOutOfRange"
    legacy_code = "AWS.ParameterOutOfRange"


class NotImplementedYetError(RequestError):
    turk_code = "AWS.MechanicalTurk.NotImplemented"
    legacy_code = "AWS.InvalidOperation"

    def __init__(self, operation: str) -> None:
        super().__init__(
            f"The operation {operation} is not implemented yet by OpenTurk.",
            data={"Operation": operation},
        )


class InsufficientFundsError(RequestError):
    turk_code = "AWS.MechanicalTurk.InsufficientFunds"
    legacy_code = "AWS.MechanicalTurk.InsufficientFunds"

    def __init__(self) -> None:
        super().__init__(
            "This Requester has insufficient funds in their account to complete this transaction. "
            "Please visit https://requester.mturk.com/prepayments/new to purchase Prepaid HITs."
        )


class DoesNotExistError(RequestError):
    """Base for "<Thing> <id> does not exist." (clients match on the words "does not exist")."""

    thing = "Entity"
    key = "Id"

    def __init__(self, entity_id: str) -> None:
        super().__init__(f"{self.thing} {entity_id} does not exist.", data={self.key: entity_id})


class HITDoesNotExistError(DoesNotExistError):
    thing, key = "Hit", "HITId"
    turk_code = legacy_code = "AWS.MechanicalTurk.HITDoesNotExist"


class HITTypeDoesNotExistError(DoesNotExistError):
    thing, key = "HIT type", "HITTypeId"
    turk_code = legacy_code = "AWS.MechanicalTurk.HITTypeDoesNotExist"


class AssignmentDoesNotExistError(DoesNotExistError):
    thing, key = "Assignment", "AssignmentId"
    turk_code = legacy_code = "AWS.MechanicalTurk.AssignmentDoesNotExist"


class WorkerDoesNotExistError(DoesNotExistError):
    thing, key = "Worker", "WorkerId"
    turk_code = legacy_code = "AWS.MechanicalTurk.WorkerDoesNotExist"


class RequesterDoesNotExistError(DoesNotExistError):
    thing, key = "Requester", "AccessKeyId"
    turk_code = legacy_code = "AWS.MechanicalTurk.RequesterDoesNotExist"


class InvalidStateError(RequestError):
    turk_code = legacy_code = "AWS.MechanicalTurk.InvalidAssignmentState"


class InvalidHITStateError(RequestError):
    turk_code = legacy_code = "AWS.MechanicalTurk.InvalidHITState"


class InvalidMaximumAssignmentsIncreaseError(InvalidHITStateError):
    """More assignments than a HIT may grow to (across the higher commission's threshold)."""

    turk_code = legacy_code = "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease"


class QuestionXMLError(RequestError):
    """A Question document that is not well-formed or not a valid MTurk question schema."""

    turk_code = legacy_code = "AWS.MechanicalTurk.XMLParseError"


class DuplicateRequestError(RequestError):
    """A UniqueRequestToken seen within its lifetime: nothing is done twice."""

    turk_code = legacy_code = "AWS.MechanicalTurk.DuplicateRequest"

    def __init__(self, token: str, first_request_id: str) -> None:
        super().__init__(
            f'The idempotency token "{token}" has already been processed by request {first_request_id}.',
            data={"UniqueRequestToken": token, "RequestId": first_request_id},
        )
        self.first_request_id = first_request_id


class ServiceFault(OpenTurkError):  # noqa: N818 - named after the wire error it is
    """Our fault, not the caller's: retried by clients, never caused by bad input."""

    http_status = 500
    wire_type = "ServiceFault"
    turk_code = legacy_code = "AWS.ServiceUnavailable"


# --- Qualifications, worker blocks and messages (issue 7) ---------------------------------------


class QualificationTypeDoesNotExistError(DoesNotExistError):
    thing, key = "QualificationType", "QualificationTypeId"
    turk_code = legacy_code = "AWS.MechanicalTurk.QualificationTypeDoesNotExist"


class QualificationDoesNotExistError(RequestError):
    """A worker holds no Qualification of the type (GetQualificationScore, revoking)."""

    turk_code = legacy_code = "AWS.MechanicalTurk.QualificationDoesNotExist"

    def __init__(self, type_id: str, worker_id: str) -> None:
        super().__init__(
            f"You requested a Qualification that does not exist: worker {worker_id} has no "
            f"Qualification of QualificationType {type_id}.",
            data={"QualificationTypeId": type_id, "WorkerId": worker_id},
        )


class QualificationRequestDoesNotExistError(DoesNotExistError):
    thing, key = "QualificationRequest", "QualificationRequestId"
    turk_code = legacy_code = "AWS.MechanicalTurk.QualificationRequestDoesNotExist"


class QualificationTypeAlreadyExistsError(RequestError):
    turk_code = legacy_code = "AWS.MechanicalTurk.QualificationTypeAlreadyExists"


class PermissionDeniedError(RequestError):
    """The caller may see the thing but not change it (another requester's qualification type)."""

    turk_code = legacy_code = "AWS.MechanicalTurk.PermissionDenied"


class DoesNotMeetRequirementsError(RequestError):
    """A worker's Qualifications do not meet a HIT's QualificationRequirements, or the worker is blocked."""

    turk_code = legacy_code = "AWS.MechanicalTurk.DoesNotMeetRequirements"
