"""The chair-side infusion session: checklist, pump events, vitals, side effects,
notes, amendments and discharge.

Recorded entries are never edited. ``do_amend_*`` writes a new entry whose ``amends``
points at the one it corrects; pages show the original struck through beside it.
An infusion cannot start before its order is verified by a second clinician.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.chairside import ALWAYS_ALERT, SIDE_EFFECTS
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.domain.prediction import segments_from_events
from ketamine_clinic.services import (
    alerts,
    audit,
    checklist,
    clinic,
    discharge,
    intake,
    ledger,
    protocols,
    rems,
    vitals,
)
from ketamine_clinic.services._common import lock_active_patient, move, require
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.services.vitals import check_vitals
from ketamine_clinic.storage.models import (
    EventType,
    InfusionSession,
    Order,
    PumpEvent,
    SessionNote,
    SideEffect,
    User,
    Visit,
    VitalSign,
)
from ketamine_clinic.storage.prepared import per_model

__all__ = [
    "SIDE_EFFECTS",
    "do_amend_vitals",
    "do_complete_checklist",
    "do_close_session",
    "do_discharge",
    "dose_timing_problem",
    "early_stop_problem",
    "do_give_nasal_device",
    "do_open_session",
    "do_record_pump_event",
    "do_record_side_effect",
    "do_record_vitals",
    "do_sign_note",
    "current_entries",
    "entries",
]

_SIDE_EFFECT_CODES = {code for code, _ in SIDE_EFFECTS}


def _lock(session: InfusionSession) -> None:
    """Lock the session row, then reload it: checks that follow see the committed state,
    and a racing second request waits here (lock, then check, then write)."""
    InfusionSession.objects.select_for_update().filter(pk=session.pk).first()
    session.refresh_from_db()


#: Each kind of session entry's read with who recorded it, in time order, its SQL built
#: once per process (``storage.prepared``).
_ENTRIES = per_model(
    lambda model, session_id: (
        model.objects.filter(session_id=session_id).select_related("recorded_by").order_by("at", "id")
    ),
    "session_id",
)


def entries(model: type, session: InfusionSession) -> list[Any]:
    """Every entry of kind ``model`` (vital signs, pump events, notes...) of ``session``,
    amended ones included, in time order, with who recorded each."""
    return _ENTRIES(model)(session_id=session.pk)


def current_entries(model: type, session: InfusionSession) -> list[Any]:
    """Entries of ``session`` that no later amendment replaces, in time order."""
    rows = entries(model, session)
    replaced = {r.amends_id for r in rows if r.amends_id}
    return [r for r in rows if r.pk not in replaced]


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%a %d %b %H:%M")


def last_reading_problem(session: InfusionSession) -> str | None:
    """Why the latest reading forbids a dose: it is still at a pause or stop level. After an
    alert is acknowledged a new reading below those levels is needed before dosing [S7][S30]."""
    readings = current_entries(VitalSign, session)
    if not readings:
        return None
    last = readings[-1]
    # the pre-dose deferral guide is the prescriber's decision (its own alert), not a level to re-measure
    levels = [
        a for a in (last.alerts or []) if a.get("severity") in {"pause", "stop"} and a.get("vital") != "predose_bp"
    ]
    if not levels:
        return None
    return (
        f"The last reading ({timezone.localtime(last.at):%H:%M}: {levels[0]['message']}) is still at a "
        f"{levels[0]['severity']} level: record a new reading before dosing."
    )


def dose_refusal(session: InfusionSession, *, at: datetime, first_dose: bool) -> str | None:
    """Why no dose may be started, resumed or given now, or ``None``: the one guard every
    dosing path asks (pump start and resume, each nasal device). Open alerts and today's
    suicide-risk disposition [S65][S30]; the last reading at a pause or stop level [S7];
    for the session's first dose its day, another open session and the minimum interval
    [S41]; the order against the latest weight and current limits [S11]."""
    from ketamine_clinic.services.orders import order_recheck_problem

    return (
        alerts.dose_block_reason(session.patient, at=at)
        or last_reading_problem(session)
        or (
            dose_timing_problem(session.patient_id, session.visit, at=at, exclude_session=session.pk)
            if first_dose
            else None
        )
        or order_recheck_problem(session.order)
    )


def dose_timing_problem(patient_id: int, visit: Visit, *, at: datetime, exclude_session: int | None) -> str | None:
    """Why no dose may be given for ``visit`` at ``at``, or ``None``: the visit is booked
    for another day (clinic time zone); another session of the patient is open; or the
    last dose was less than the clinic's minimum interval ago ([S41][S32])."""
    if timezone.localdate(visit.starts_at) != timezone.localdate(at):
        return (
            f"This visit is booked for {_local(visit.starts_at)}, not today. A prescriber must move it to "
            "today, with a reason, before it can be given."
        )
    others = InfusionSession.objects.filter(patient_id=patient_id).exclude(pk=exclude_session or 0)
    open_other = others.filter(status__in=InfusionSession.OPEN_STATUSES).select_related("visit").first()
    if open_other is not None:
        return (
            f"Another session of this patient is open (visit #{open_other.visit.number}, opened "
            f"{_local(open_other.opened_at)}): discharge or close it first."
        )
    last = others.filter(started_at__isnull=False).order_by("-started_at").first()
    gap = clinic.min_gap_between_doses()
    if last is not None and last.started_at is not None and at < last.started_at + gap:
        return (
            f"The last dose was given {_local(last.started_at)}; the next may start from "
            f"{_local(last.started_at + gap)} (at least {gap.total_seconds() / 3600:g} hours apart, a clinic setting)."
        )
    return None


def do_open_session(visit: Visit, *, at: datetime, acting_user: User) -> InfusionSession:
    """Open the chair-side record for ``visit``: its latest order must be verified, the visit
    must be booked for today, and no other session of the patient may be open
    (``dose_timing_problem``). The patient row is locked, so two tabs or two clinicians
    at once open one session (a partial unique constraint makes it true)."""
    require(acting_user, Action.RECORD_VITALS, "Only the infusion team opens a session.")
    order = Order.objects.filter(visit=visit, cancelled_reason="").order_by("-signed_at").first()
    if order is None:
        raise Conflict("There is no signed order for this visit.", field="order")
    if order.verified_at is None:
        raise Conflict("The order must be verified by a second clinician first.", field="order")
    with transaction.atomic():
        lock_active_patient(visit.patient_id)
        existing = InfusionSession.objects.filter(visit=visit).first()
        if existing is not None:
            return existing
        visit.refresh_from_db()
        if visit.status != "scheduled":
            raise Conflict(f"This visit is {visit.status}.", field="visit")
        problem = dose_timing_problem(visit.patient_id, visit, at=at, exclude_session=None)
        if problem:
            raise Conflict(problem, field="visit")
        session, created = InfusionSession.objects.get_or_create(
            visit=visit, defaults={"order": order, "patient": visit.patient, "opened_at": at}
        )
        if created:
            from ketamine_clinic.services import session_jobs

            session_jobs.schedule_end_of_day_check(session)
            audit.record(
                EventType.SESSION_OPENED,
                actor=acting_user,
                patient=visit.patient,
                subject=session,
                at=at,
            )
    return session


def do_complete_checklist(
    session: InfusionSession,
    *,
    items: dict[str, bool],
    vitals: dict[str, Any],
    at: datetime,
    acting_user: User,
) -> InfusionSession:
    """Record the pre-infusion checklist and pre-dose vitals.

    Every item of the route's list must be confirmed (``checklist.check_items``: the
    questionnaire item needs today's PHQ-9, and a C-SSRS when its item 9 is positive
    [S70]); pre-dose vitals above the deferral guide raise an alert the prescriber must
    acknowledge before the infusion may start ([S30]).
    """
    require(acting_user, Action.RECORD_VITALS, "Only the infusion team completes the checklist.")
    if session.status != "checklist":
        raise Conflict("The checklist is already complete (another tab or clinician).", field="checklist")
    confirmed = checklist.check_items(session, items, at=at)
    clean = check_vitals(vitals)
    with transaction.atomic():
        _lock(session)
        if session.status != "checklist":
            raise Conflict("The checklist is already complete (another tab or clinician).", field="checklist")
        vital = _save_vitals(session, clean, at=at, acting_user=acting_user, pre_dose=True)
        session.checklist = {**confirmed, "pre_dose_vital_id": vital.pk}
        session.checklist_by = acting_user
        session.status = move("session", session.status, "ready")
        session.save(update_fields=["checklist", "checklist_by", "status"])
        audit.record(
            EventType.CHECKLIST_COMPLETED,
            actor=acting_user,
            patient=session.patient,
            subject=session,
            new=session.checklist,
            at=at,
        )
    return session


def _save_vitals(
    session: InfusionSession,
    clean: dict[str, int | None],
    *,
    at: datetime,
    acting_user: User,
    pre_dose: bool = False,
    amends: VitalSign | None = None,
    reason: str = "",
) -> VitalSign:
    baseline = intake.baseline_vitals(session.patient)
    found = vitals.vital_alerts(baseline, clean, pre_dose=pre_dose, esketamine=protocols.is_esketamine(session))
    vital = VitalSign.objects.create(
        session=session,
        at=at,
        recorded_by=acting_user,
        recorded_at=timezone.now(),
        amends=amends,
        amend_reason=reason,
        alerts=[a.as_dict() for a in found],
        **clean,
    )
    audit.record(
        EventType.ENTRY_AMENDED if amends else EventType.VITALS_RECORDED,
        actor=acting_user,
        patient=session.patient,
        subject=vital,
        new={**clean, "amends": amends.pk if amends else None},
        at=at,
    )
    for found_alert in found:
        alerts.raise_vital_alert(
            session.patient,
            kind="predose_bp" if found_alert.vital == "predose_bp" else "vital_sign",
            vital_name=found_alert.vital,
            severity=found_alert.severity,
            message=found_alert.message,
            source=found_alert.source,
            at=at,
            actor=acting_user,
            vital=vital,
        )
    return vital


def do_record_vitals(session: InfusionSession, values: dict[str, Any], *, at: datetime, acting_user: User) -> VitalSign:
    require(acting_user, Action.RECORD_VITALS, "Your role may not record vital signs.")
    if session.status == "discharged":
        raise Conflict("The patient has been discharged; amend an entry instead.", field="vitals")
    clean = check_vitals(values)
    with transaction.atomic():
        return _save_vitals(session, clean, at=at, acting_user=acting_user)


def do_amend_vitals(
    original: VitalSign, values: dict[str, Any], *, reason: str, at: datetime, acting_user: User
) -> VitalSign:
    """Correct a recorded reading: a new linked entry; the original stays visible."""
    require(acting_user, Action.RECORD_VITALS, "Your role may not amend vital signs.")
    reason = reason.strip()
    if not 3 <= len(reason) <= 200:
        raise InvalidInput("reason must be 3 to 200 characters", field="amend_reason")
    if VitalSign.objects.filter(amends=original).exists():
        raise Conflict("This entry was already amended; amend the newer entry.", field="amends")
    clean = check_vitals(values)
    with transaction.atomic():
        return _save_vitals(
            original.session,
            clean,
            at=original.at,
            acting_user=acting_user,
            amends=original,
            reason=reason,
        )


def do_give_nasal_device(session: InfusionSession, *, at: datetime, acting_user: User) -> PumpEvent:
    """Record one 28 mg esketamine device taken under supervision, at least 5 minutes after
    the previous one ([S32]); after the last device the 2-hour observation starts ([S30]).
    The REMS applies: a prescriber on site, pulse oximetry and an in-date lot, copied onto
    the device ([S35][S37], ``services.rems``)."""
    require(acting_user, Action.START_STOP_INFUSION, "Your role may not record a dose.")
    order = session.order
    if order.route != "nasal":
        raise Conflict("This session is an IV infusion.", field="kind")
    if session.status not in {"ready", "running"}:
        raise Conflict(f"Cannot give a device while the session is {session.get_status_display()}.", field="kind")
    with transaction.atomic():
        _lock(session)
        if session.status not in {"ready", "running"}:
            raise Conflict(f"Cannot give a device while the session is {session.get_status_display()}.", field="kind")
        given = list(PumpEvent.objects.filter(session=session, kind="device", amends__isnull=True).order_by("at"))
        if given and at < given[-1].at + timedelta(minutes=5):
            raise Conflict("Devices must be at least 5 minutes apart.", field="kind")
        blocked = dose_refusal(session, at=at, first_dose=not given) or rems.device_refusal(session, at=at)
        if blocked:
            raise Conflict(blocked, field="kind")
        event = PumpEvent.objects.create(
            session=session,
            at=at,
            recorded_by=acting_user,
            recorded_at=timezone.now(),
            kind="device",
            rate_ml_per_h=Decimal("0"),
        )
        rems.record_device_lot(event)
        count = len(given) + 1
        if count == 1:
            session.started_at = at
        session.status = move("session", session.status, "observing" if count >= (order.devices or 0) else "running")
        if session.status == "observing":
            session.stopped_at = at
        session.administered_mg = Decimal(28 * count)
        session.save()
        audit.record(
            EventType.PUMP_EVENT,
            actor=acting_user,
            patient=session.patient,
            subject=event,
            at=at,
            new={"kind": "device", "number": count, "of": order.devices},
        )
    return event


_PUMP_NEXT: dict[str, set[str]] = {
    "ready": {"start"},
    "running": {"rate", "pause", "stop"},
    "paused": {"resume", "stop"},
}


def do_record_pump_event(
    session: InfusionSession,
    kind: str,
    *,
    rate_ml_per_h: Decimal | float | None,
    at: datetime,
    acting_user: User,
    reason: str = "",
) -> PumpEvent:
    """Record a pump event; a start needs a verified order and a completed checklist.

    The rate may never exceed the order's rate by more than the clinic's titration
    allowance, and unacknowledged "stop" alerts block a start or resume. A stop before
    the ordered dose has run in needs a reason (``early_stop_problem``) [S11].
    """
    require(acting_user, Action.START_STOP_INFUSION, "Your role may not run the pump.")
    if session.order.route == "nasal":
        raise Conflict("This is a nasal-spray session: record each device given.", field="kind")
    order = session.order
    rate = Decimal(str(rate_ml_per_h)) if rate_ml_per_h not in (None, "") else order.rate_ml_per_h
    if kind in {"pause", "stop"}:
        rate = Decimal("0")
    limit, why = max_rate_ml_per_h(order)
    if rate < 0 or rate > limit:
        raise InvalidInput(f"rate must be from 0 to {limit:.1f} mL/h ({why})", field="rate_ml_per_h")
    with transaction.atomic():
        _lock(session)
        if kind not in _PUMP_NEXT.get(session.status, set()):
            raise Conflict(f"Cannot {kind} the pump while the session is {session.get_status_display()}.", field="kind")
        if kind in {"start", "resume"}:
            blocked = dose_refusal(session, at=at, first_dose=kind == "start")
            if blocked:
                raise Conflict(blocked, field="kind")
        reason = reason.strip()
        if kind == "stop":
            early = early_stop_problem(session, at=at)
            if early and not 5 <= len(reason) <= 300:
                raise InvalidInput(early, field="stop_reason")
        event = PumpEvent.objects.create(
            session=session,
            at=at,
            recorded_by=acting_user,
            recorded_at=timezone.now(),
            kind=kind,
            rate_ml_per_h=rate,
            note=reason[:300] if kind == "stop" else "",
        )
        new_status = {
            "start": "running",
            "resume": "running",
            "rate": "running",
            "pause": "paused",
            "stop": "observing",
        }[kind]
        session.status = move("session", session.status, new_status)
        if kind == "start":
            session.started_at = at
        if kind == "stop":
            session.stopped_at = at
            session.administered_mg = Decimal(str(_administered_mg(session, at)))
        session.save()
        if kind in {"start", "resume", "rate"}:
            from ketamine_clinic.services import session_jobs

            session_jobs.schedule_dose_reached_check(session, event.pk, at=at, rate_ml_per_h=float(rate))
        if kind == "stop" and session.administered_mg is not None:
            _flag_overdose(session, at=at, acting_user=acting_user)
        audit.record(
            EventType.PUMP_EVENT,
            actor=acting_user,
            patient=session.patient,
            subject=event,
            new={"kind": kind, "rate_ml_per_h": str(rate), **({"reason": reason} if kind == "stop" and reason else {})},
            at=at,
        )
    return event


def early_stop_problem(session: InfusionSession, *, at: datetime, given_mg: float | None = None) -> str | None:
    """Why a stop at ``at`` is early, or ``None``: less than the ordered dose has run in
    (beyond 0.5 mg of rounding), so the record must say why the infusion ends short of
    the order [S11]. Nasal sessions have no pump to stop. ``given_mg`` is the dose given
    by ``at`` when the caller has already computed it from the same events."""
    order = session.order
    if order.route == "nasal" or session.status not in {"running", "paused"}:
        return None
    given = Decimal(str(_administered_mg(session, at) if given_mg is None else given_mg))
    if given >= order.dose_mg - Decimal("0.5"):
        return None
    minutes = int((at - session.started_at).total_seconds() // 60) if session.started_at else 0
    return (
        f"Stopping early: {given} mg of the ordered {order.dose_mg} mg given in {minutes} of "
        f"{order.duration_min} min. Give a reason for stopping (5 to 300 characters)."
    )


def _flag_overdose(session: InfusionSession, *, at: datetime, acting_user: User) -> None:
    """More given than ordered (beyond 0.5 mg of rounding) is a stop-level alert the team
    must acknowledge before the patient leaves: it is never silent [S11]."""
    ordered = session.order.dose_mg
    given = session.administered_mg or Decimal("0")
    if given > ordered + Decimal("0.5"):
        alerts.raise_alert(
            session.patient,
            kind="dose_exceeded",
            severity="stop",
            message=f"Administered {given} mg exceeds the ordered {ordered} mg.",
            source="[S11]",
            at=at,
            actor=acting_user,
        )


def max_rate_ml_per_h(order: Order) -> tuple[Decimal, str]:
    """The fastest the pump may run for ``order``: the order's rate times the clinic's
    titration allowance [S12], never above the hourly hard limit in mg/kg/h at the order's
    weight [S44] (its dosing weight, and the protocol's own limit for chronic pain),
    whatever the allowance. Returns the limit and what sets it."""
    from ketamine_clinic.domain.dosing import DoseLimits

    r = clinic.clinic_rules()
    limit = DoseLimits.from_rules(r, order.visit.course.protocol).max_rate_mg_per_kg_per_h
    allowance = order.rate_ml_per_h * Decimal(str(r.rate_allowance_factor))
    conc = order.concentration_mg_per_ml or Decimal("1")
    hourly = Decimal(str(limit)) * (order.dosing_weight_kg or order.weight_kg) / conc
    if hourly < allowance:
        return hourly.quantize(Decimal("0.1")), f"the hard limit of {limit:g} mg/kg/h"
    return allowance.quantize(Decimal("0.1")), "the order's rate and its allowance"


def administered_mg_at(session: InfusionSession, now: datetime) -> float:
    """The dose given by the recorded pump events up to ``now`` (mg)."""
    return _administered_mg(session, now)


def _administered_mg(session: InfusionSession, now: datetime) -> float:
    return administered_from(session, current_entries(PumpEvent, session), now)


def administered_from(session: InfusionSession, events: list[PumpEvent], now: datetime) -> float:
    """The dose given by ``events`` (the session's current pump events) up to ``now`` (mg)."""
    rows = [(e.at, e.kind, float(e.rate_ml_per_h)) for e in events]
    _, segments = segments_from_events(rows, float(session.order.concentration_mg_per_ml), now=now)
    return round(sum(s.dose_mg for s in segments), 1)


def do_record_side_effect(
    session: InfusionSession,
    code: str,
    severity: str,
    *,
    note: str = "",
    at: datetime,
    acting_user: User,
) -> SideEffect:
    require(acting_user, Action.RECORD_SIDE_EFFECTS, "Your role may not record side effects.")
    if code not in _SIDE_EFFECT_CODES:
        raise InvalidInput("side effect must be one of the listed effects", field="code")
    if severity not in {"mild", "moderate", "severe"}:
        raise InvalidInput("severity must be mild, moderate or severe", field="severity")
    if code == "other" and len(note.strip()) < 3:
        raise InvalidInput("describe the side effect (3 to 300 characters)", field="note")
    if len(note.strip()) > 300:
        raise InvalidInput("details must be at most 300 characters", field="note")
    with transaction.atomic():
        effect = SideEffect.objects.create(
            session=session,
            at=at,
            recorded_by=acting_user,
            recorded_at=timezone.now(),
            code=code,
            severity=severity,
            note=note.strip(),
        )
        audit.record(
            EventType.SIDE_EFFECT_RECORDED,
            actor=acting_user,
            patient=session.patient,
            subject=effect,
            new={"code": code, "severity": severity, "note": note},
            at=at,
        )
        if severity == "severe" or code in ALWAYS_ALERT:
            label = dict(SIDE_EFFECTS)[code]
            alerts.raise_alert(
                session.patient,
                kind="side_effect",
                severity="notify",
                message=f"{severity.capitalize()} side effect: {label}{': ' + note.strip() if note.strip() else ''}",
                source="[S30]",
                at=at,
                actor=acting_user,
            )
    return effect


def do_sign_note(
    session: InfusionSession,
    text: str,
    *,
    at: datetime,
    acting_user: User,
    amends: SessionNote | None = None,
    reason: str = "",
) -> SessionNote:
    """Sign a session note; a correction is a new signed note that amends the old one."""
    require(acting_user, Action.SIGN_NOTE, "Your role may not sign notes.")
    text = text.strip()
    if not 3 <= len(text) <= 5000:
        raise InvalidInput("note must be 3 to 5000 characters", field="text")
    if amends is not None and len(reason.strip()) < 3:
        raise InvalidInput("say why the note is amended (3 to 200 characters)", field="amend_reason")
    with transaction.atomic():
        note = SessionNote.objects.create(
            session=session,
            at=at,
            recorded_by=acting_user,
            recorded_at=timezone.now(),
            text=text,
            amends=amends,
            amend_reason=reason.strip()[:200],
        )
        audit.record(
            EventType.ENTRY_AMENDED if amends else EventType.NOTE_SIGNED,
            actor=acting_user,
            patient=session.patient,
            subject=note,
            new={"text": text, "amends": amends.pk if amends else None},
            at=at,
        )
    return note


def do_discharge(
    session: InfusionSession,
    *,
    aldrete: list[int | None],
    padss: list[int | None],
    escort_present: bool,
    dissociation_resolved: bool,
    aftercare_given: bool,
    at: datetime,
    acting_user: User,
) -> InfusionSession:
    """Discharge home when every rule says ready (``discharge.discharge_verdict``): Aldrete and
    PADSS with every item scored, a full set of vital signs after dosing near baseline,
    SpO2 on room air, for esketamine the 40-minute BP, dissociation resolved, an escort,
    after-care instructions given, the observation time, no open alert, and the
    controlled-substance record tied ([S46][S84][S49][S30][S50])."""
    require(acting_user, Action.DISCHARGE, "Your role may not discharge patients.")
    if session.status != "observing":
        raise Conflict("Stop the infusion before discharge.", field="status")
    verdict = discharge.discharge_verdict(
        session,
        aldrete=aldrete,
        padss=padss,
        escort_present=escort_present,
        dissociation_resolved=dissociation_resolved,
        aftercare_given=aftercare_given,
        at=at,
    )
    if not verdict.ready:
        raise Conflict("Not ready for discharge: " + "; ".join(verdict.reasons), field="discharge")
    if alerts.open_alerts(session.patient).exists():
        raise Conflict(
            "Every alert must be acknowledged by a clinician before the patient leaves.",
            field="alerts",
        )
    ledger.check_session_tied(session)
    with transaction.atomic():
        session.status = move("session", session.status, "discharged")
        session.discharged_at, session.discharged_by = at, acting_user
        session.discharge = {
            "aldrete": aldrete,
            "padss": padss,
            "escort_present": escort_present,
            "dissociation_resolved": dissociation_resolved,
            "aftercare_given": aftercare_given,
            "reasons": verdict.reasons,
        }
        session.save(update_fields=["status", "discharged_at", "discharged_by", "discharge"])
        visit = session.visit
        visit.status = move("visit", visit.status, "done")
        visit.save(update_fields=["status"])
        audit.record(
            EventType.DISCHARGED,
            actor=acting_user,
            patient=session.patient,
            subject=session,
            new=session.discharge,
            at=at,
        )
    return session


def do_close_session(session: InfusionSession, *, reason: str, at: datetime, acting_user: User) -> InfusionSession:
    """Close a session without discharge (the patient left, the infusion was abandoned),
    with a reason. A running pump must be stopped first; what was given stays recorded.
    The visit is done when a dose was given, otherwise cancelled with the reason."""
    require(acting_user, Action.DISCHARGE, "Your role may not close a session.")
    reason = reason.strip()
    if not 10 <= len(reason) <= 300:
        raise InvalidInput("reason must be 10 to 300 characters: say why the session ends here", field="reason")
    with transaction.atomic():
        _lock(session)
        if session.status not in InfusionSession.OPEN_STATUSES:
            raise Conflict(f"This session is already {session.get_status_display()}.", field="status")
        if alerts.open_alerts(session.patient).filter(kind="suicide_risk", severity="urgent").exists():
            raise Conflict(
                "An urgent suicide-risk alert is open: the patient may not leave until a prescriber's "
                "assessment closes it (an emergency disposition included).",
                field="alerts",
            )
        if session.status == "running":
            raise Conflict("Stop the pump before closing the session.", field="status")
        if session.status == "paused":
            session.administered_mg = Decimal(str(_administered_mg(session, at)))
        if session.started_at is not None:
            ledger.check_session_tied(session)
        old_status = session.status
        session.status = move("session", session.status, "closed")
        session.close_reason, session.closed_at = reason, at
        session.save(update_fields=["status", "close_reason", "closed_at", "administered_mg"])
        visit = session.visit
        if session.started_at is not None:
            visit.status = move("visit", visit.status, "done")
            visit.save(update_fields=["status"])
        else:
            visit.status, visit.cancel_reason = move("visit", visit.status, "cancelled"), reason[:200]
            visit.save(update_fields=["status", "cancel_reason"])
        audit.record(
            EventType.SESSION_CLOSED,
            actor=acting_user,
            patient=session.patient,
            subject=session,
            old={"status": old_status},
            new={"reason": reason, "administered_mg": session.administered_mg},
            at=at,
        )
    return session
