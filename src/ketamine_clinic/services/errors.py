"""Errors raised by services. Shells map them to pages and API responses.

Hierarchy::

    ServiceError
      NotFound            the row does not exist, or the actor may not see it (same error)
      NotAllowed          the actor's role may not perform the action
      InvalidInput        a field is out of range; ``field`` names it, nothing was saved
      Conflict            the request clashes with the record's state (e.g. already signed)
"""

from __future__ import annotations

__all__ = ["Conflict", "InvalidInput", "NotAllowed", "NotFound", "ServiceError"]


class ServiceError(Exception):
    code = "service_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    code = "not_found"


class NotAllowed(ServiceError):
    code = "not_allowed"


class InvalidInput(ServiceError):
    code = "invalid_input"


class Conflict(ServiceError):
    code = "conflict"
