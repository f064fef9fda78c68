"""The only way to load patient-scoped rows. Every read of a chart is audited.

``access_patient_by_id`` raises the same ``NotFound`` for a patient who does not exist
and for one the actor may not see, so an id never reveals whether a patient exists.
"""

from __future__ import annotations

from django.db import transaction

from ketamine_clinic.domain.policy import Action, Role, can
from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import NotFound
from ketamine_clinic.storage.models import EventType, Patient, User

__all__ = ["access_patient_by_id", "patient_queryset_for"]


def _may_see(actor: User, patient: Patient, action: Action) -> bool:
    if not actor.is_active:
        return False
    if actor.role == Role.PATIENT:
        return patient.user_id == actor.id
    return can(actor.role, action)


def access_patient_by_id(
    actor: User, patient_id: int, *, action: Action = Action.VIEW_CHART
) -> Patient:
    """The patient ``patient_id`` if ``actor`` may perform ``action`` on them; audited.

    Patients see only their own record; staff need ``action`` in their role.
    Raises ``NotFound`` otherwise, identical to a missing patient.
    """
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise NotFound("No such patient.")
    if not _may_see(actor, patient, action):
        raise NotFound("No such patient.")
    with transaction.atomic():
        audit.record(
            EventType.CHART_VIEWED,
            actor=actor,
            patient=patient,
            subject=patient,
            new={"action": str(action)},
        )
    return patient


def patient_queryset_for(actor: User, *, action: Action = Action.VIEW_DEMOGRAPHICS):  # type: ignore[no-untyped-def]
    """Patients ``actor`` may list (never audited per row: a list shows no chart)."""
    if actor.role == Role.PATIENT:
        return Patient.objects.filter(user_id=actor.id)
    if actor.is_active and can(actor.role, action):
        return Patient.objects.all()
    return Patient.objects.none()
