"""The patient portal's own writes and read models: requests to cancel or move a visit
(the front desk acts on them), and the patient's progress put in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, Role
from ketamine_clinic.services import audit, clinic, measures
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import EventType, User, Visit, VisitRequest

__all__ = [
    "PlainProgress",
    "do_handle_visit_request",
    "do_request_visit_change",
    "open_visit_requests",
    "plain_progress",
]


def do_request_visit_change(visit: Visit, *, kind: str, note: str, at: datetime, acting_user: User) -> VisitRequest:
    """A patient asks the front desk to cancel or move one of their own upcoming visits;
    one open request per visit. Nothing about the visit changes until the desk acts."""
    if acting_user.role != Role.PATIENT or visit.patient.user_id != acting_user.pk:
        raise NotAllowed("Only the patient may ask to change their own visit.")
    if kind not in ("cancel", "reschedule"):
        raise InvalidInput("request must be cancel or reschedule", field="kind")
    note = note.strip()
    if len(note) > 300:
        raise InvalidInput("note: at most 300 characters", field="note")
    if visit.status != "scheduled" or visit.starts_at <= at:
        raise Conflict("Only an upcoming visit can be changed.", field="visit")
    try:
        with transaction.atomic():
            row = VisitRequest.objects.create(patient=visit.patient, visit=visit, kind=kind, note=note, at=at)
            audit.record(
                EventType.VISIT_CHANGE_REQUESTED,
                actor=acting_user,
                patient=visit.patient,
                subject=visit,
                new={"kind": kind, "note": note},
                at=at,
            )
    except IntegrityError:
        raise Conflict("You already asked about this visit; the front desk will contact you.", field="visit") from None
    return row


def open_visit_requests() -> list[VisitRequest]:
    return list(
        VisitRequest.objects.filter(handled_at=None).select_related("patient", "visit", "visit__chair").order_by("at")
    )


def do_handle_visit_request(request_row: VisitRequest, *, at: datetime, acting_user: User) -> VisitRequest:
    """The front desk marks a request done (after moving or cancelling the visit on the
    calendar, which audits its own change)."""
    require(acting_user, Action.MANAGE_SCHEDULE, "Only the front desk handles visit requests.")
    with transaction.atomic():
        row = VisitRequest.objects.select_for_update().get(pk=request_row.pk)
        if row.handled_at is not None:
            raise Conflict("This request was already handled.", field="request")
        row.handled_at, row.handled_by = at, acting_user
        row.save(update_fields=["handled_at", "handled_by"])
        audit.record(
            EventType.VISIT_CHANGE_REQUESTED,
            actor=acting_user,
            patient=row.patient,
            subject=row.visit,
            new={"handled": row.kind},
            at=at,
        )
    return row


@dataclass(frozen=True)
class PlainProgress:
    sentences: list[str]
    rows: list[dict[str, Any]]


def plain_progress(overview: Any) -> PlainProgress:
    """The patient's PHQ-9 scores in words: where they started, where they are, and what
    the numbers mean, with the clinic's response and remission settings [S11][S55]."""
    scores = [s for s in overview.scores if s.instrument == "phq9"]
    rows = [{"at": s.at, "name": measures.instrument_name(s.instrument), "total": s.total, "band": s.band}
            for s in overview.scores if s.instrument in measures.PATIENT_INSTRUMENTS]  # fmt: skip
    r = clinic.clinic_rules()
    meaning = (
        "The PHQ-9 asks about the last two weeks and runs from 0 to 27; lower means fewer symptoms. "
        f"A fall of {r.response_drop_pct:g} % or more from where you started is called a response, "
        f"and a score below {r.remission_phq9_below:g} is called remission."
    )
    if not scores:
        return PlainProgress(["You have no PHQ-9 answers yet. " + meaning], rows)
    course = overview.course
    first = next((s for s in scores if course and s.at >= course.planned_at), scores[0])
    start = course.baseline_score if course and course.baseline_score is not None else first.total
    last = scores[-1]
    sentences = [f"When your course started your score was {start}."]
    change = round(100 * (start - last.total) / start) if start else 0
    if last is not first or course:
        trend = (
            f"{change} % lower than" if change > 0 else (f"{-change} % higher than" if change < 0 else "the same as")
        )
        sentences.append(
            f"Your latest, on {timezone.localtime(last.at):%d %B}, is {last.total} ({last.band}): {trend} at the start."
        )
    sentences.append(meaning)
    return PlainProgress(sentences, rows)
