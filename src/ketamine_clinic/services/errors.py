"""Errors raised by services. Shells map them to pages and API responses.

Hierarchy::

    ServiceError
      NotFound            the row does not exist, or the actor may not see it (same error)
        PatientMerged     the patient record was a duplicate merged into ``kept_id`` (raised
                          only to an actor who may see it; anywhere else it is a NotFound)
      NotAllowed          the actor's role may not perform the action
      InvalidInput        a field is out of range; ``field`` names it, nothing was saved
      Conflict            the request clashes with the record's state (e.g. already signed)
"""

from __future__ import annotations

__all__ = ["Conflict", "InvalidInput", "NotAllowed", "NotFound", "PatientMerged", "ServiceError"]


class ServiceError(Exception):
    code = "service_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    code = "not_found"


class PatientMerged(NotFound):
    code = "not_found"

    def __init__(self, kept_id: int) -> None:
        super().__init__("This record was a duplicate, merged into another patient's record.")
        self.kept_id = kept_id


class NotAllowed(ServiceError):
    code = "not_allowed"


class InvalidInput(ServiceError):
    code = "invalid_input"


class Conflict(ServiceError):
    code = "conflict"
