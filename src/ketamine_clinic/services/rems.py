"""The SPRAVATO REMS as a workflow: the setting's certification, patient enrolment before
the first order, a prescriber on site and pulse oximetry for every nasal session, the lot
and expiry of each device, and the Patient Monitoring Form built from the session, due
within 7 days and tracked until it is marked submitted ([S35][S36][S37])."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, Role, can
from ketamine_clinic.services import audit, clinic
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import (
    EventType,
    InfusionSession,
    Patient,
    PumpEvent,
    RemsCertification,
    RemsDeviceLot,
    RemsEnrolment,
    RemsSessionRecord,
    SideEffect,
    User,
    VitalSign,
)

__all__ = [
    "MonitoringForm",
    "certification",
    "device_refusal",
    "do_certify_site",
    "do_enrol_patient",
    "do_mark_form_submitted",
    "do_record_on_site",
    "do_save_form_answers",
    "enrolment",
    "forms_due",
    "monitoring_form",
    "order_refusal",
    "record_device_lot",
    "session_record",
]


def _text(value: Any, field: str, low: int, high: int) -> str:
    text = str(value or "").strip()
    if not low <= len(text) <= high:
        raise InvalidInput(f"{field.replace('_', ' ')} must be {low} to {high} characters", field=field)
    return text


def _clinician(user: User, message: str) -> None:
    if not user.is_active or not (can(user.role, Action.RECORD_VITALS) or can(user.role, Action.SIGN_ORDER)):
        raise NotAllowed(message)


# ---- the setting and the patient [S35][S36] ----


def certification() -> RemsCertification | None:
    return RemsCertification.objects.order_by("-recorded_at", "-id").first()


def do_certify_site(
    *,
    certification_id: str,
    setting_name: str,
    authorized_representative: str,
    certified_on: date,
    at: datetime,
    acting_user: User | None,
) -> RemsCertification:
    """Record the healthcare setting's REMS certification (an outpatient setting must be
    certified before it treats [S35][S36]). Only the clinic administrator records it
    (``acting_user`` None: the installation's set-up)."""
    if acting_user is not None:
        require(acting_user, Action.MANAGE_SETTINGS, "Only the clinic administrator records the REMS certification.")
    if certified_on > timezone.localdate(at):
        raise InvalidInput("certified on must be today or earlier", field="certified_on")
    with transaction.atomic():
        row = RemsCertification.objects.create(
            certification_id=_text(certification_id, "certification_id", 3, 40),
            setting_name=_text(setting_name, "setting_name", 3, 120),
            authorized_representative=_text(authorized_representative, "authorized_representative", 3, 120),
            certified_on=certified_on,
            recorded_by=acting_user,
            recorded_at=at,
        )
        audit.record(
            EventType.REMS_SITE_CERTIFIED,
            actor=acting_user,
            subject=row,
            at=at,
            new={"certification_id": row.certification_id, "certified_on": certified_on.isoformat()},
        )
    return row


def enrolment(patient: Patient) -> RemsEnrolment | None:
    return RemsEnrolment.objects.filter(patient=patient).first()


def do_enrol_patient(
    patient: Patient, *, rems_patient_id: str, enrolled_on: date, at: datetime, acting_user: User
) -> RemsEnrolment:
    """Record the patient's REMS enrolment (date and id), required before the first
    esketamine order in an outpatient setting [S36][S37]."""
    require(acting_user, Action.EDIT_INTAKE, "Your role may not record a REMS enrolment.")
    if enrolled_on > timezone.localdate(at):
        raise InvalidInput("enrolled on must be today or earlier", field="enrolled_on")
    rems_id = _text(rems_patient_id, "rems_patient_id", 3, 40)
    with transaction.atomic():
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        if RemsEnrolment.objects.filter(patient=patient).exists():
            raise Conflict("This patient's REMS enrolment is already recorded.", field="rems_patient_id")
        row = RemsEnrolment.objects.create(
            patient=patient, rems_patient_id=rems_id, enrolled_on=enrolled_on, recorded_by=acting_user, recorded_at=at
        )
        audit.record(
            EventType.REMS_PATIENT_ENROLLED,
            actor=acting_user,
            patient=patient,
            subject=row,
            at=at,
            new={"rems_patient_id": rems_id, "enrolled_on": enrolled_on.isoformat()},
        )
    return row


def order_refusal(patient: Patient) -> str | None:
    """Why no esketamine order may be signed for ``patient``, or ``None``: the setting is
    not certified, or the patient is not enrolled in the REMS [S35][S36][S37]."""
    if certification() is None:
        return (
            "The clinic's SPRAVATO REMS certification is not recorded: the administrator records it under "
            "Admin > REMS before esketamine is ordered."
        )
    if enrolment(patient) is None:
        return "The patient is not enrolled in the SPRAVATO REMS: record the enrolment (date and id) first."
    return None


# ---- the session [S32][S35][S37] ----


def session_record(session: InfusionSession) -> RemsSessionRecord:
    row, _ = RemsSessionRecord.objects.get_or_create(session=session)
    return row


def do_record_on_site(
    session: InfusionSession,
    *,
    prescriber: User | None,
    pulse_oximetry: bool,
    lot_number: str = "",
    lot_expiry: date | None = None,
    at: datetime,
    acting_user: User,
) -> RemsSessionRecord:
    """Record for a nasal session the prescriber on site during administration and
    monitoring, that pulse oximetry is in use [S35][S32], and the lot (with its expiry) of
    the devices about to be given [S37]. Any part may be recorded again (a new lot)."""
    _clinician(acting_user, "Your role may not record the REMS session details.")
    if session.order.route != "nasal":
        raise Conflict("The REMS applies to esketamine nasal sessions only.", field="prescriber")
    if prescriber is not None and (prescriber.role != Role.PRESCRIBER or not prescriber.is_active):
        raise InvalidInput("prescriber on site must be an active prescriber", field="prescriber")
    lot = str(lot_number or "").strip()
    if lot and not 2 <= len(lot) <= 40:
        raise InvalidInput("lot number must be 2 to 40 characters", field="lot_number")
    if lot and lot_expiry is None:
        raise InvalidInput("lot expiry is required with a lot number", field="lot_expiry")
    if lot_expiry is not None and lot_expiry < timezone.localdate(at):
        raise InvalidInput(
            f"lot expiry {lot_expiry.isoformat()} is past: this lot must not be given", field="lot_expiry"
        )
    with transaction.atomic():
        row = session_record(session)
        row = RemsSessionRecord.objects.select_for_update().get(pk=row.pk)
        changed: dict[str, Any] = {}
        if prescriber is not None:
            row.prescriber_on_site = prescriber
            changed["prescriber_on_site"] = prescriber.display_name
        if pulse_oximetry:
            row.pulse_oximetry = True
            changed["pulse_oximetry"] = True
        if lot:
            row.lot_number, row.lot_expiry = lot, lot_expiry
            changed["lot"] = f"{lot} exp {lot_expiry}"
        if not changed:
            raise InvalidInput("choose the prescriber on site, tick pulse oximetry or enter a lot", field="prescriber")
        row.on_site_recorded_by, row.on_site_recorded_at = acting_user, at
        row.save()
        audit.record(
            EventType.REMS_SESSION_RECORDED, actor=acting_user, patient=session.patient, subject=row, at=at, new=changed
        )
    return row


def device_refusal(session: InfusionSession, *, at: datetime) -> str | None:
    """Why no esketamine device may be given now under the REMS, or ``None``: no
    prescriber on site recorded, pulse oximetry not in use [S35][S32], or no lot in date
    for the device [S37]."""
    row = RemsSessionRecord.objects.filter(session=session).first()
    if row is None or row.prescriber_on_site_id is None:
        return "REMS: record the prescriber on site for this session before a device is given."
    if not row.pulse_oximetry:
        return "REMS: confirm that pulse oximetry is in use before a device is given."
    if not row.lot_number or row.lot_expiry is None:
        return "REMS: enter the lot number and expiry of the devices before a device is given."
    if row.lot_expiry < timezone.localdate(at):
        return f"REMS: lot {row.lot_number} expired on {row.lot_expiry.isoformat()}; enter an in-date lot."
    return None


def record_device_lot(event: PumpEvent) -> RemsDeviceLot:
    """Copy the session's current lot onto the device just given, and start the monitoring
    form's clock: due ``rems_form_due_days`` (7) after the first device [S37]."""
    row = RemsSessionRecord.objects.select_for_update().get(session=event.session)
    if row.due_on is None:
        row.due_on = timezone.localdate(event.at) + timedelta(days=int(clinic.clinic_rules().rems_form_due_days))
        row.save(update_fields=["due_on"])
    if row.lot_expiry is None:
        raise Conflict("REMS: enter the lot number and expiry of the devices first.", field="kind")
    return RemsDeviceLot.objects.create(event=event, lot_number=row.lot_number, expiry=row.lot_expiry)


# ---- the Patient Monitoring Form [S37] ----


@dataclass
class MonitoringForm:
    """The Patient Monitoring Form's fields, built from the session [S37]."""

    session: InfusionSession
    record: RemsSessionRecord
    patient_name: str
    birth_date: date
    sex: str
    first_treatment: bool
    enrolment: RemsEnrolment | None
    certification: RemsCertification | None
    concomitant: list[str]
    treatment_date: date | None
    dose_mg: int
    lots: list[str]
    first_device_at: datetime | None
    duration_min: int | None
    bp_before: VitalSign | None
    bp_40: VitalSign | None
    bp_end: VitalSign | None
    vitals_ok_before: bool | None
    vitals_ok_end: bool | None
    sedation: bool | None
    dissociation: bool | None
    respiratory_depression: bool | None
    suggested: dict[str, bool] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def due_on(self) -> date | None:
        return self.record.due_on

    @property
    def submitted(self) -> bool:
        return self.record.submitted_at is not None

    @property
    def complete(self) -> bool:
        return not self.missing


def _bp(v: VitalSign | None) -> str:
    return f"{v.systolic_mmhg}/{v.diastolic_mmhg}" if v else ""


def monitoring_form(session: InfusionSession) -> MonitoringForm:
    """Build the monitoring form from the session: blood pressure before dosing, at about
    40 minutes after the first device (within ``rems_bp_40_min_window_min``) and before
    leaving [S30][S32][S37]; sedation, dissociation and respiratory depression suggested
    from the side effects, CADSS and SpO2/respiratory rate recorded [S30][S69][S46]."""
    from ketamine_clinic.services.sessions import current_entries
    from ketamine_clinic.storage.models import Assessment, Intake

    r = clinic.clinic_rules()
    record = session_record(session)
    patient = session.patient
    devices = [e for e in current_entries(PumpEvent, session) if e.kind == "device"]
    first = devices[0].at if devices else None
    vitals = current_entries(VitalSign, session)
    before = [v for v in vitals if first is None or v.at <= first]
    bp_before = before[-1] if before else None
    bp_40 = None
    if first is not None:
        window = timedelta(minutes=r.rems_bp_40_min_window_min)
        target = first + timedelta(minutes=40)
        near = [v for v in vitals if abs(v.at - target) <= window]
        bp_40 = min(near, key=lambda v: abs(v.at - target)) if near else None
    after = [v for v in vitals if first is not None and v.at > first]
    bp_end = after[-1] if after and (bp_40 is None or after[-1].pk != bp_40.pk) else None
    end = session.discharged_at or (bp_end.at if bp_end else None)
    duration = int((end - first).total_seconds() // 60) if first and end else None
    effects = {e.code for e in current_entries(SideEffect, session)}
    cadss = Assessment.objects.filter(session=session, instrument="cadss").order_by("-at").first()
    suggested = {
        "sedation": bool(effects & {"excessive_sedation", "drowsiness_dreamlike"}),
        "dissociation": "dissociation" in effects or bool(cadss and cadss.total > r.cadss_significant_above),
        "respiratory_depression": any(
            v.spo2_percent < r.spo2_pause_below_pct or (v.respiratory_rate or 99) < r.rr_low_pause for v in after
        ),
    }
    latest = Intake.objects.filter(patient=patient).order_by("-recorded_at", "-id").first()
    answers = latest.contraindications if latest else {}
    concomitant = [
        label
        for code, label in (
            ("maoi_or_psychostimulant", "MAOI or psychostimulant"),
            ("cns_depressant", "benzodiazepine, sedative hypnotic or opioid"),
        )
        if answers.get(code)
    ]
    first_treatment = (
        not PumpEvent.objects.filter(session__patient=patient, kind="device", at__lt=first or timezone.now())
        .exclude(session=session)
        .exists()
    )
    lots = sorted(
        {f"{d.lot_number} (exp {d.expiry:%Y-%m-%d})" for d in RemsDeviceLot.objects.filter(event__in=devices)}
    )

    def _ok(v: VitalSign | None) -> bool | None:
        return None if v is None else not v.alerts

    form = MonitoringForm(
        session=session,
        record=record,
        patient_name=f"{patient.given_name} {patient.family_name}",
        birth_date=patient.birth_date,
        sex=patient.sex,
        first_treatment=first_treatment,
        enrolment=enrolment(patient),
        certification=certification(),
        concomitant=concomitant,
        treatment_date=timezone.localdate(first) if first else None,
        dose_mg=int(session.order.dose_mg),
        lots=lots,
        first_device_at=first,
        duration_min=duration,
        bp_before=bp_before,
        bp_40=bp_40,
        bp_end=bp_end,
        vitals_ok_before=_ok(bp_before),
        vitals_ok_end=_ok(bp_end),
        sedation=record.sedation,
        dissociation=record.dissociation,
        respiratory_depression=record.respiratory_depression,
        suggested=suggested,
    )
    checks = [
        (form.enrolment is not None, "patient REMS enrolment"),
        (form.certification is not None, "the setting's REMS certification"),
        (first is not None, "a device given"),
        (bool(lots), "lot number"),
        (bp_before is not None, "blood pressure before dosing"),
        (bp_40 is not None, "blood pressure about 40 minutes after the dose"),
        (bp_end is not None, "blood pressure before leaving"),
        (session.discharged_at is not None, "discharge (end of monitoring)"),
        (record.sedation is not None, "sedation (yes or no)"),
        (record.dissociation is not None, "dissociation (yes or no)"),
        (record.respiratory_depression is not None, "respiratory depression (yes or no)"),
        (record.ready_to_leave_min is not None, "time the patient was ready to leave"),
        (record.answers_at is not None, "serious adverse events (or none)"),
    ]
    form.missing = [what for ok, what in checks if not ok]
    return form


def do_save_form_answers(
    session: InfusionSession,
    *,
    sedation: bool,
    dissociation: bool,
    respiratory_depression: bool,
    ready_to_leave_min: int,
    serious_adverse_events: str,
    at: datetime,
    acting_user: User,
) -> RemsSessionRecord:
    """The clinician's answers the session does not hold: sedation, dissociation and
    respiratory depression (yes/no), when the patient would have been ready to leave had
    there been no 2-hour minimum (minutes after the first device), and serious adverse
    events (or none) [S37]. Not after the form was marked submitted."""
    _clinician(acting_user, "Your role may not complete the REMS monitoring form.")
    if not isinstance(ready_to_leave_min, int) or not 0 <= ready_to_leave_min <= 600:
        raise InvalidInput(
            "ready to leave must be from 0 to 600 minutes after the first device", field="ready_to_leave_min"
        )
    events = str(serious_adverse_events or "").strip() or "none"
    if len(events) > 500:
        raise InvalidInput("serious adverse events must be at most 500 characters", field="serious_adverse_events")
    with transaction.atomic():
        row = RemsSessionRecord.objects.select_for_update().get(pk=session_record(session).pk)
        if row.submitted_at is not None:
            raise Conflict("The form was marked submitted; it can no longer be changed.", field="sedation")
        row.sedation, row.dissociation, row.respiratory_depression = sedation, dissociation, respiratory_depression
        row.ready_to_leave_min, row.serious_adverse_events = ready_to_leave_min, events
        row.answers_by, row.answers_at = acting_user, at
        row.save()
        audit.record(
            EventType.REMS_FORM_SAVED,
            actor=acting_user,
            patient=session.patient,
            subject=row,
            at=at,
            new={
                "sedation": sedation,
                "dissociation": dissociation,
                "respiratory_depression": respiratory_depression,
                "ready_to_leave_min": ready_to_leave_min,
                "serious_adverse_events": events,
            },
        )
    return row


def do_mark_form_submitted(
    session: InfusionSession, *, reference: str, at: datetime, acting_user: User
) -> RemsSessionRecord:
    """Mark the monitoring form submitted (online or by fax [S37]) with the confirmation
    reference; refused while a field is missing."""
    _clinician(acting_user, "Your role may not submit the REMS monitoring form.")
    form = monitoring_form(session)
    if form.missing:
        raise Conflict("The form is not complete: " + "; ".join(form.missing) + ".", field="reference")
    ref = _text(reference, "reference", 2, 60)
    with transaction.atomic():
        row = RemsSessionRecord.objects.select_for_update().get(pk=form.record.pk)
        if row.submitted_at is not None:
            raise Conflict("The form is already marked submitted.", field="reference")
        row.submitted_at, row.submitted_by, row.submission_reference = at, acting_user, ref
        row.save(update_fields=["submitted_at", "submitted_by", "submission_reference"])
        audit.record(
            EventType.REMS_FORM_SUBMITTED,
            actor=acting_user,
            patient=session.patient,
            subject=row,
            at=at,
            new={"reference": ref, "due_on": row.due_on.isoformat() if row.due_on else None},
        )
    return row


FORMS_DUE_KEY = "rems:forms_due"


@dataclass(frozen=True)
class FormsDue:
    due: list[RemsSessionRecord]
    overdue: list[RemsSessionRecord]

    @property
    def total(self) -> int:
        return len(self.due) + len(self.overdue)


def forms_due(today: date, patient_ids: Any = None) -> FormsDue:
    """Monitoring forms not yet submitted: overdue past their date, else due [S37]. They are
    due within days: the whole clinic's list (the Today board's) is reused by a server
    process for a few seconds (``clinic.recent``); a form saved through it is seen at once."""
    rows = RemsSessionRecord.objects.filter(due_on__isnull=False, submitted_at__isnull=True).select_related(
        "session__patient"
    )
    if patient_ids is not None:
        ordered = list(rows.filter(session__patient_id__in=patient_ids).order_by("due_on", "id"))
    else:
        ordered = list(clinic.recent(FORMS_DUE_KEY, lambda: list(rows.order_by("due_on", "id"))))
    return FormsDue(
        [r for r in ordered if r.due_on is not None and r.due_on >= today],
        [r for r in ordered if r.due_on is not None and r.due_on < today],
    )


clinic.forget_when_saved(FORMS_DUE_KEY, RemsSessionRecord)
