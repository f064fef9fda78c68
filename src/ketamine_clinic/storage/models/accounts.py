from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from ketamine_clinic.domain.policy import Role


class User(AbstractUser):
    """A person who logs in. ``role`` decides what they may do (``domain.policy``)."""

    role = models.CharField(max_length=20, choices=[(r.value, r.value) for r in Role])
    credentials = models.CharField(max_length=40, blank=True, help_text="e.g. MD, PMHNP-BC, CRNA, RN")
    is_medical_director = models.BooleanField(
        default=False,
        help_text="A prescriber who receives escalated suicide-risk alerts and approves clinical settings.",
    )

    class Meta:
        db_table = "kc_user"

    def __str__(self) -> str:
        """The full name and credentials (every select of people shows this, not the user name)."""
        return self.display_name

    @property
    def display_name(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name
