"""The only way to load patient-scoped rows. Every read of a chart is audited.

``access_patient_by_id`` raises the same ``NotFound`` for a patient who does not exist
and for one the actor may not see, so an id never reveals whether a patient exists.
"""

from __future__ import annotations

from django.db import transaction

from ketamine_clinic.domain.policy import Action, Role, can
from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import NotFound
from ketamine_clinic.storage.models import (
    Alert,
    Course,
    EventType,
    InfusionSession,
    Order,
    Patient,
    User,
    Visit,
)

__all__ = [
    "access_alert_by_id",
    "access_course_by_id",
    "access_order_by_id",
    "access_patient_by_id",
    "access_session_by_id",
    "access_visit_by_id",
    "patient_queryset_for",
]


def _may_see(actor: User, patient: Patient, action: Action) -> bool:
    if not actor.is_active:
        return False
    if actor.role == Role.PATIENT:
        return patient.user_id == actor.id
    return can(actor.role, action)


def access_patient_by_id(actor: User, patient_id: int, *, action: Action = Action.VIEW_CHART) -> Patient:
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


def _access_child(model, actor: User, row_id: int, action: Action):  # type: ignore[no-untyped-def]
    """Load a patient-scoped row of ``model``; same ``NotFound`` for missing and not yours."""
    row = model.objects.select_related("patient").filter(pk=row_id).first()
    if row is None:
        raise NotFound("Not found.")
    if not _may_see(actor, row.patient, action):
        raise NotFound("Not found.")
    with transaction.atomic():
        audit.record(
            EventType.CHART_VIEWED,
            actor=actor,
            patient=row.patient,
            subject=row,
            new={"action": str(action)},
        )
    return row


def access_course_by_id(actor: User, course_id: int, *, action: Action = Action.VIEW_CHART) -> Course:
    return _access_child(Course, actor, course_id, action)  # type: ignore[no-any-return]


def access_visit_by_id(actor: User, visit_id: int, *, action: Action = Action.VIEW_CHART) -> Visit:
    return _access_child(Visit, actor, visit_id, action)  # type: ignore[no-any-return]


def access_order_by_id(actor: User, order_id: int, *, action: Action = Action.VIEW_CHART) -> Order:
    return _access_child(Order, actor, order_id, action)  # type: ignore[no-any-return]


def access_session_by_id(actor: User, session_id: int, *, action: Action = Action.VIEW_CHART) -> InfusionSession:
    return _access_child(InfusionSession, actor, session_id, action)  # type: ignore[no-any-return]


def access_alert_by_id(actor: User, alert_id: int, *, action: Action = Action.VIEW_CHART) -> Alert:
    return _access_child(Alert, actor, alert_id, action)  # type: ignore[no-any-return]


def patient_queryset_for(actor: User, *, action: Action = Action.VIEW_DEMOGRAPHICS):  # type: ignore[no-untyped-def]
    """Patients ``actor`` may list (never audited per row: a list shows no chart)."""
    if actor.role == Role.PATIENT:
        return Patient.objects.filter(user_id=actor.id)
    if actor.is_active and can(actor.role, action):
        return Patient.objects.all()
    return Patient.objects.none()
