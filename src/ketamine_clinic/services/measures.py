"""Questionnaires and ratings: scored by ``domain.instruments``, stored with their flags,
and suicide-risk answers raise an alert a clinician must acknowledge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from ketamine_clinic.domain import instruments
from ketamine_clinic.domain.escalation import Escalation, evaluate_escalation
from ketamine_clinic.domain.policy import Action, Role, can
from ketamine_clinic.services import alerts, audit
from ketamine_clinic.services._common import lock_active_patient
from ketamine_clinic.services.clinic import clinic_rules
from ketamine_clinic.services.errors import InvalidInput, NotAllowed
from ketamine_clinic.storage.models import (
    Assessment,
    EventType,
    InfusionSession,
    Patient,
    User,
    Visit,
)

__all__ = [
    "CLINICIAN_RATINGS",
    "PATIENT_INSTRUMENTS",
    "ScoreView",
    "do_flag_incomplete_phq9",
    "do_record_assessment",
    "error_field",
    "escalations",
    "instrument_form",
    "instrument_max",
    "instrument_name",
    "latest_score",
    "patient_questionnaires",
    "score",
    "suicide_risk_findings",
]

#: Self-report instruments a patient may complete on their own.
PATIENT_INSTRUMENTS = ("phq9", "gad7", "pcl5", "qids_sr16", "cssrs_screen", "pain_nrs")


def _check_role(acting_user: User, patient: Patient, instrument: str) -> None:
    if acting_user.role == Role.PATIENT:
        if patient.user_id != acting_user.pk or instrument not in PATIENT_INSTRUMENTS:
            raise NotAllowed("Patients complete their own self-report questionnaires only.")
        return
    if not acting_user.is_active or not can(acting_user.role, Action.RECORD_ASSESSMENT):
        raise NotAllowed("Your role may not record assessments.")


def do_record_assessment(
    patient: Patient,
    instrument: str,
    answers: Sequence[int | None],
    *,
    at: datetime,
    acting_user: User,
    visit: Visit | None = None,
    session: InfusionSession | None = None,
) -> Assessment:
    """Score and store; raise the alerts the escalation rules call for, in one transaction."""
    _check_role(acting_user, patient, instrument)
    try:
        result = score(instrument, answers)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=error_field(exc)) from None
    with transaction.atomic():
        lock_active_patient(patient.pk)  # not onto a record merged meanwhile
        row = Assessment.objects.create(
            patient=patient,
            visit=visit,
            session=session,
            instrument=instrument,
            answers=list(answers),
            total=result.total,
            band=result.band,
            flags=result.flags,
            at=at,
            recorded_by=acting_user,
        )
        audit.record(
            EventType.ASSESSMENT_RECORDED,
            actor=acting_user,
            patient=patient,
            subject=row,
            at=at,
            new={"instrument": instrument, "total": result.total, "flags": result.flags},
        )
        alerts.raise_suicide_risk(
            patient, escalations(instrument, answers, result), assessment=row, at=at, actor=acting_user
        )
        _psychotomimetic_review(patient, instrument, result, row=row, at=at, acting_user=acting_user)
    return row


def suicide_risk_findings(row: Assessment) -> list[Escalation]:
    """The suicide-risk findings that ``row``'s answers raised (``domain.escalation``)."""
    result = score(row.instrument, row.answers)
    return escalations(row.instrument, row.answers, result)


def _psychotomimetic_review(
    patient: Patient, instrument: str, result: ScoreView, *, row: Assessment, at: datetime, acting_user: User
) -> None:
    """A BPRS positive item at the review level, or CADSS above the clinic's threshold, raises
    an alert a prescriber must review before the patient leaves [S69]."""
    reasons = {
        "bprs_positive_symptoms": f"BPRS positive item at or above the review level (total {result.total})",
        "cadss_significant": f"CADSS {result.total}, above the clinic's threshold for marked dissociation",
    }
    found = [reasons[f] for f in result.flags if f in reasons]
    if found:
        alerts.raise_alert(
            patient,
            kind="psychotomimetic",
            severity="notify",
            message="; ".join(found) + ": a prescriber reviews before the patient leaves.",
            source="[S69]",
            at=at,
            actor=acting_user,
            assessment=row,
        )


def do_flag_incomplete_phq9(
    patient: Patient, answers: Sequence[int | None], *, at: datetime, acting_user: User
) -> list[Escalation]:
    """A PHQ-9 sent with items missing is not saved, but a positive item 9 is never dropped:
    it raises the urgent alert (and its notification) on its own [S70]."""
    from ketamine_clinic.domain.escalation import escalate_phq9_item9

    _check_role(acting_user, patient, "phq9")
    raw = answers[8] if len(answers) >= 9 else None
    found = escalate_phq9_item9(raw if raw in (1, 2, 3) else None)
    if found:
        with transaction.atomic():
            alerts.raise_suicide_risk(patient, found, assessment=None, at=at, actor=acting_user, instrument="phq9")
    return found


def latest_score(patient: Patient, code: str) -> int | None:
    row = Assessment.objects.filter(patient=patient, instrument=code).order_by("-at", "-id").first()
    return row.total if row else None


def score(code: str, answers: Any) -> Any:
    result = instruments.score(code, answers, clinic_rules())
    return ScoreView(result.total, result.band, list(result.flags), result)


@dataclass(frozen=True)
class ScoreView:
    total: int
    band: str
    flags: list[str]
    result: Any


def error_field(exc: Exception) -> str:
    return str(getattr(exc, "field", "answers"))


def escalations(code: str, answers: Any, result: Any) -> list[Escalation]:
    """The suicide-risk escalations a scored questionnaire calls for (``domain.escalation``)."""
    return evaluate_escalation(result.result)


def instrument_name(code: str) -> str:
    return instruments.INSTRUMENTS[code].name if code in instruments.INSTRUMENTS else code


def instrument_max(code: str) -> int:
    return instruments.INSTRUMENTS[code].max_total


def instrument_form(code: str) -> dict[str, Any]:
    inst = instruments.get(code)
    items = []
    for item in inst.items:
        values = range(item.low, item.high + 1)
        labels = item.anchors if len(item.anchors) == len(values) else tuple(str(v) for v in values)
        items.append(
            {
                "name": f"item_{item.number}",
                "field": f"item_{item.number}",
                "text": item.text,
                "options": list(zip(values, labels, strict=True)),
            }
        )
    return {"code": code, "name": inst.name, "instructions": inst.instructions, "items": items}


#: Clinician-rated scales offered at the chair and in the chart: dissociation, psychotic
#: symptoms and depression ratings [S69][S67][S63].
CLINICIAN_RATINGS = ("cadss", "bprs_positive", "madrs", "hamd17")


def patient_questionnaires() -> list[tuple[str, str]]:
    return [(c, instruments.INSTRUMENTS[c].name) for c in ("phq9", "gad7", "pcl5", "cssrs_screen", "pain_nrs")]
