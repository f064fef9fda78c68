"""Small helpers shared by the services."""

from __future__ import annotations

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services.errors import NotAllowed
from ketamine_clinic.storage.models import User

__all__ = ["require"]


def require(user: User, action: Action, message: str) -> None:
    """Raise ``NotAllowed(message)`` unless ``user`` is active and may ``action``."""
    if not user.is_active or not can(user.role, action):
        raise NotAllowed(message)
