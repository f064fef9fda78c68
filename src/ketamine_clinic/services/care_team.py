"""The optional care-team restriction: when the clinic turns it on, prescribers, CRNAs and
RNs open only the charts of patients whose care team they are on. An administrator keeps
the teams (by MRN and user name: no chart needed). Each change is audited.

Errors: ``NotAllowed`` (not an administrator), ``InvalidInput`` (not a clinician).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, Role, can
from ketamine_clinic.services import audit, clinic
from ketamine_clinic.services.errors import InvalidInput, NotAllowed
from ketamine_clinic.storage.models import CareTeamMember, EventType, Patient, User

__all__ = [
    "CLINICAL_ROLES",
    "care_team_only",
    "do_add_care_team_member",
    "do_remove_care_team_member",
    "on_care_team",
]

CLINICAL_ROLES = frozenset({Role.PRESCRIBER, Role.CRNA, Role.RN})


def care_team_only() -> bool:
    return bool(clinic.settings_row().care_team_only)


def on_care_team(user: User, patient: Patient) -> bool:
    return CareTeamMember.objects.filter(patient=patient, user=user).exists()


def _require_admin(acting_user: User | None) -> None:
    if acting_user is not None and not can(acting_user.role, Action.MANAGE_USERS):
        raise NotAllowed("Only an administrator keeps care teams.")


def do_add_care_team_member(patient: Patient, user: User, *, acting_user: User | None) -> CareTeamMember:
    _require_admin(acting_user)
    if user.role not in CLINICAL_ROLES:
        raise InvalidInput("a care team is made of prescribers, CRNAs and RNs", field="username")
    with transaction.atomic():
        member, created = CareTeamMember.objects.get_or_create(
            patient=patient, user=user, defaults={"added_at": timezone.now()}
        )
        if created:
            audit.record(
                EventType.CARE_TEAM_CHANGED, actor=acting_user, patient=patient, subject=member, new={"added": user.pk}
            )
    return member


def do_remove_care_team_member(patient: Patient, user: User, *, acting_user: User | None) -> None:
    _require_admin(acting_user)
    with transaction.atomic():
        removed, _ = CareTeamMember.objects.filter(patient=patient, user=user).delete()
        if removed:
            audit.record(EventType.CARE_TEAM_CHANGED, actor=acting_user, patient=patient, new={"removed": user.pk})
