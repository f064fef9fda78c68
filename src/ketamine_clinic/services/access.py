"""The only way to load patient-scoped rows. Every read of a chart is audited.

``access_patient_by_id`` raises the same ``NotFound`` for a patient who does not exist
and for one the actor may not see, so an id never reveals whether a patient exists.

Outside a page, each access writes its own ``CHART_VIEWED`` row. Inside ``page_view``
(the web layer opens one around every view), accesses and listed patients are collected
instead, and ``do_record_page_view`` writes one row for the whole page; a fragment or a
poll is not recorded at all (docs/decisions/0010-phi-reads.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from ketamine_clinic.domain.policy import Action, Role, can
from ketamine_clinic.services import audit, care_team
from ketamine_clinic.services.errors import NotFound, PatientMerged
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
from ketamine_clinic.storage.prepared import Prepared, per_model

__all__ = [
    "PageReads",
    "access_alert_by_id",
    "access_course_by_id",
    "access_order_by_id",
    "access_patient_by_id",
    "access_session_by_id",
    "access_visit_by_id",
    "do_record_page_view",
    "note_listed",
    "page_view",
    "patient_queryset_for",
]

MAX_LISTED_IDS = 200
_PATIENT = Prepared(Patient, lambda pk: Patient.objects.filter(pk=pk), "pk")


@dataclass
class PageReads:
    """What one page showed: the patients whose records it opened, and those it listed."""

    opened: dict[int, tuple[Patient, Any]] = field(default_factory=dict)
    listed: list[int] = field(default_factory=list)


_PAGE: ContextVar[PageReads | None] = ContextVar("kc_page_reads", default=None)


@contextmanager
def page_view() -> Iterator[PageReads]:
    """Collect this request's reads instead of writing one audit row per access."""
    reads = PageReads()
    token = _PAGE.set(reads)
    try:
        yield reads
    finally:
        _PAGE.reset(token)


def note_listed(patient_ids: Iterable[int | None]) -> None:
    """A list view names the patients it shows (no-op outside ``page_view``)."""
    reads = _PAGE.get()
    if reads is not None:
        reads.listed.extend(pk for pk in patient_ids if pk is not None)


def do_record_page_view(actor: User, reads: PageReads, *, page: str) -> None:
    """One audit row for one page: ``CHART_VIEWED`` when it showed one patient's record,
    else ``PAGE_VIEWED`` with the ids of the patients it listed (the first 200)."""
    listed = list(dict.fromkeys(reads.listed))
    with transaction.atomic():
        if len(reads.opened) == 1 and set(listed) <= set(reads.opened):
            patient, subject = next(iter(reads.opened.values()))
            audit.record(EventType.CHART_VIEWED, actor=actor, patient=patient, subject=subject, new={"page": page})
            return
        ids = list(dict.fromkeys([*reads.opened, *listed]))
        audit.record(
            EventType.PAGE_VIEWED,
            actor=actor,
            new={"page": page, "patient_count": len(ids), "patient_ids": ids[:MAX_LISTED_IDS]},
        )


def _audit_read(actor: User, patient: Patient, subject: Any, action: Action) -> None:
    reads = _PAGE.get()
    if reads is not None:
        reads.opened.setdefault(patient.pk, (patient, subject))
        return
    with transaction.atomic():
        audit.record(EventType.CHART_VIEWED, actor=actor, patient=patient, subject=subject, new={"action": str(action)})


def _may_see(actor: User, patient: Patient, action: Action) -> bool:
    if not actor.is_active:
        return False
    if actor.role == Role.PATIENT:
        return patient.user_id == actor.id
    if not can(actor.role, action):
        return False
    if actor.role in care_team.CLINICAL_ROLES and care_team.care_team_only():
        return care_team.on_care_team(actor, patient)
    return True


def access_patient_by_id(actor: User, patient_id: int, *, action: Action = Action.VIEW_CHART) -> Patient:
    """The patient ``patient_id`` if ``actor`` may perform ``action`` on them; audited.

    Patients see only their own record; staff need ``action`` in their role.
    Raises ``NotFound`` otherwise, identical to a missing patient; ``PatientMerged`` (a
    ``NotFound``) naming the kept record when the patient was a merged duplicate.
    """
    patient = _PATIENT.first(pk=_row_id(patient_id))
    if patient is None:
        raise NotFound("No such patient.")
    if not _may_see(actor, patient, action):
        raise NotFound("No such patient.")
    if patient.merged_into_id is not None:
        raise PatientMerged(patient.merged_into_id)
    _audit_read(actor, patient, patient, action)
    return patient


#: Rows read with the patient-scoped row because every page of it shows them (one query).
_RELATED: dict[type, tuple[str, ...]] = {}


#: The read of each patient-scoped row with its related rows, its SQL built once per process
#: (``storage.prepared``).
_READS = per_model(
    lambda model, pk: model.objects.select_related("patient", *_RELATED.get(model, ())).filter(pk=pk), "pk"
)


def _row_id(value: Any) -> int:
    """An id from a URL or a form as an int; anything else is a row that does not exist."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("Not found.") from None


def _access_child(model, actor: User, row_id: int, action: Action):  # type: ignore[no-untyped-def]
    """Load a patient-scoped row of ``model``; same ``NotFound`` for missing and not yours."""
    row = _READS(model).first(pk=_row_id(row_id))
    if row is None:
        raise NotFound("Not found.")
    if not _may_see(actor, row.patient, action):
        raise NotFound("Not found.")
    _audit_read(actor, row.patient, row, action)
    return row


def access_course_by_id(actor: User, course_id: int, *, action: Action = Action.VIEW_CHART) -> Course:
    return _access_child(Course, actor, course_id, action)  # type: ignore[no-any-return]


def access_visit_by_id(actor: User, visit_id: int, *, action: Action = Action.VIEW_CHART) -> Visit:
    return _access_child(Visit, actor, visit_id, action)  # type: ignore[no-any-return]


def access_order_by_id(actor: User, order_id: int, *, action: Action = Action.VIEW_CHART) -> Order:
    return _access_child(Order, actor, order_id, action)  # type: ignore[no-any-return]


_RELATED[InfusionSession] = ("order", "order__verified_by", "visit", "visit__chair", "visit__course")


def access_session_by_id(actor: User, session_id: int, *, action: Action = Action.VIEW_CHART) -> InfusionSession:
    return _access_child(InfusionSession, actor, session_id, action)  # type: ignore[no-any-return]


def access_alert_by_id(actor: User, alert_id: int, *, action: Action = Action.VIEW_CHART) -> Alert:
    return _access_child(Alert, actor, alert_id, action)  # type: ignore[no-any-return]


def care_team_filter(actor: User) -> set[int] | None:
    """The ids of the patients ``actor`` may see when the clinic limits clinicians to their
    care teams (``care_team_only``), else ``None`` (no limit): for lists that gather patients
    from several tables (the Today board, the alerts list)."""
    if actor.role in care_team.CLINICAL_ROLES and care_team.care_team_only():
        return set(patient_queryset_for(actor, action=Action.VIEW_CHART).values_list("pk", flat=True))
    return None


def patient_queryset_for(actor: User, *, action: Action = Action.VIEW_DEMOGRAPHICS):  # type: ignore[no-untyped-def]
    """Patients ``actor`` may list (never audited per row: a list shows no chart). A
    duplicate merged into another record is never listed."""
    active = Patient.objects.filter(status="active")
    if actor.role == Role.PATIENT:
        return active.filter(user_id=actor.id)
    if not (actor.is_active and can(actor.role, action)):
        return Patient.objects.none()
    if actor.role in care_team.CLINICAL_ROLES and care_team.care_team_only():
        return active.filter(care_team__user=actor)
    return active
