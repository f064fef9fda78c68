"""Alerts that a clinician must act on, and the suicide-risk pathway.

Nothing clears an alert silently. The ways out of "open":

* ``do_acknowledge_alert``: a clinician's note (vital-sign alerts and notify-level
  suicide-risk alerts);
* ``do_close_suicide_alert``: an urgent suicide-risk alert is closed only by a
  prescriber's structured assessment (C-SSRS that day, risk level, safety plan,
  disposition) [S65].

A patient has at most one open suicide-risk alert (a partial unique constraint); new
answers join it as findings and may raise its severity. Raising an urgent one enqueues
the on-call notification and the deadline check in the same transaction
(``services.notifications``). ``dose_block_reason`` is the one guard every dosing path
asks before a dose is started, resumed or given.

Errors: ``NotAllowed`` (role), ``InvalidInput`` (a field and its allowed values),
``Conflict`` (state: already closed, wrong kind).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ketamine_clinic.domain.escalation import DISPOSITIONS, RISK_LEVELS, SEVERITY_RANK, Escalation, worst_severity
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit
from ketamine_clinic.services._common import lock_active_patient, require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import (
    Alert,
    Assessment,
    EventType,
    Patient,
    SuicideRiskAssessment,
    User,
    VitalSign,
)

__all__ = [
    "NOTE_LENGTH",
    "do_acknowledge_alert",
    "do_claim_alert",
    "do_close_suicide_alert",
    "dose_block_reason",
    "most_serious_first",
    "open_alerts",
    "raise_alert",
    "raise_suicide_risk",
    "raise_vital_alert",
]

SUICIDE_RISK = "suicide_risk"

#: Alert kinds whose acknowledgement is a prescriber's recorded decision, with why.
PRESCRIBER_DECIDES: dict[str, str] = {
    "predose_bp": "A pre-dose blood pressure above the guide needs the prescriber's decision to proceed [S30].",
    "psychotomimetic": "Psychotic symptoms or marked dissociation need a prescriber's review before leaving.",
    "side_effect": "A severe side effect is reviewed by a prescriber.",
}
NOTE_LENGTH = (10, 2000)
#: Severities whose alert also reaches the on-call prescriber away from the chair.
CHAIRSIDE_NOTIFY = ("pause", "stop")


def raise_alert(
    patient: Patient,
    *,
    kind: str,
    severity: str,
    message: str,
    source: str,
    at: datetime,
    actor: User | None,
    assessment: Assessment | None = None,
    vital: VitalSign | None = None,
) -> Alert:
    """Create an alert inside the caller's transaction (with its audit row)."""
    alert = Alert.objects.create(
        patient=patient,
        kind=kind,
        severity=severity,
        message=message[:300],
        source=source[:40],
        assessment=assessment,
        vital=vital,
        raised_at=at,
        findings=[{"at": at.isoformat(), "severity": severity, "message": message, "source": source}],
    )
    if severity in CHAIRSIDE_NOTIFY and kind != SUICIDE_RISK:
        from ketamine_clinic.services import notifications

        notifications.schedule_for_chairside_alert(alert)
    audit.record(
        EventType.ALERT_RAISED,
        actor=actor,
        patient=patient,
        subject=alert,
        new={"kind": kind, "severity": severity, "message": message},
        at=at,
    )
    return alert


def raise_vital_alert(
    patient: Patient,
    *,
    kind: str,
    vital_name: str,
    severity: str,
    message: str,
    source: str,
    at: datetime,
    actor: User | None,
    vital: VitalSign,
) -> Alert:
    """A vital-sign alert (every severity: notify ones do not block dosing but are shown and
    acknowledged). A repeat of an open alert for the same sign and severity joins it as a
    finding instead of opening another, so one high reading after another is one alert."""
    finding = {"at": at.isoformat(), "severity": severity, "message": message, "source": source, "vital": vital_name}
    for alert in open_alerts(patient).filter(kind=kind, severity=severity).select_for_update():
        if alert.findings and alert.findings[0].get("vital") == vital_name:
            alert.findings = [*alert.findings, finding]
            alert.message = message[:300]
            alert.save(update_fields=["findings", "message"])
            audit.record(EventType.ALERT_FINDING_ADDED, actor=actor, patient=patient, subject=alert, new=finding, at=at)
            return alert
    alert = raise_alert(
        patient, kind=kind, severity=severity, message=message, source=source, at=at, actor=actor, vital=vital
    )
    alert.findings = [finding]
    alert.save(update_fields=["findings"])
    return alert


def _finding(e: Escalation, assessment: Assessment | None, at: datetime, instrument: str = "") -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "assessment_id": assessment.pk if assessment else None,
        "instrument": assessment.instrument if assessment else instrument,
        "severity": e.severity,
        "code": e.code,
        "message": e.message,
        "source": e.source,
    }


def _summary(findings: list[dict[str, Any]]) -> tuple[str, str, str]:
    """Severity, message and sources of an alert from all its findings, worst first."""
    ranked = sorted(findings, key=lambda f: -SEVERITY_RANK.get(f["severity"], 0))
    messages = list(dict.fromkeys(f["message"] for f in ranked))
    sources = "".join(dict.fromkeys(f["source"] for f in ranked))
    severity = worst_severity([f["severity"] for f in findings])
    return severity, "; ".join(messages)[:300], sources[:40]


def raise_suicide_risk(
    patient: Patient,
    escalations: list[Escalation],
    *,
    assessment: Assessment | None,
    at: datetime,
    actor: User | None,
    instrument: str = "",
) -> Alert | None:
    """Open the patient's suicide-risk alert, or add these findings to the open one.

    Runs inside the caller's transaction. The patient row is locked first, so two
    submissions at once attach to one alert (the partial unique constraint makes it
    true). An alert that becomes urgent gets its deadline and its notification jobs.
    """
    if not escalations:
        return None
    lock_active_patient(patient.pk)
    new = [_finding(e, assessment, at, instrument) for e in escalations]
    alert = Alert.objects.select_for_update().filter(patient=patient, kind=SUICIDE_RISK, acknowledged_at=None).first()
    if alert is None:
        severity, message, source = _summary(new)
        alert = raise_alert(
            patient,
            kind=SUICIDE_RISK,
            severity=severity,
            message=message,
            source=source,
            at=at,
            actor=actor,
            assessment=assessment,
        )
        alert.findings = new
        alert.save(update_fields=["findings"])
        was_urgent = False
    else:
        was_urgent = alert.severity == "urgent"
        alert.findings = [*alert.findings, *new]
        alert.severity, alert.message, alert.source = _summary(alert.findings)
        alert.save(update_fields=["findings", "severity", "message", "source"])
        audit.record(
            EventType.ALERT_FINDING_ADDED,
            actor=actor,
            patient=patient,
            subject=alert,
            new={"findings": new, "severity": alert.severity},
            at=at,
        )
    if alert.severity == "urgent" and not was_urgent:
        _start_clock(alert, at)
    return alert


def _start_clock(alert: Alert, at: datetime) -> None:
    from ketamine_clinic.services import clinic, notifications

    alert.ack_deadline_at = at + timedelta(minutes=clinic.clinic_rules().suicide_ack_deadline_min)
    alert.save(update_fields=["ack_deadline_at"])
    notifications.schedule_for_urgent_alert(alert)


def most_serious_first(rows: Iterable[Alert]) -> list[Alert]:
    """``rows`` urgent first, then stop, pause, notify; the given order kept within each."""
    return sorted(rows, key=lambda a: -SEVERITY_RANK.get(a.severity, 0))


def open_alerts(patient: Patient | None = None) -> QuerySet[Alert]:
    alerts = Alert.objects.filter(acknowledged_at__isnull=True)
    return alerts.filter(patient=patient) if patient is not None else alerts


def _check_note(note: str) -> str:
    note = note.strip()
    low, high = NOTE_LENGTH
    if not low <= len(note) <= high:
        raise InvalidInput(f"note must be {low} to {high} characters: say what was done", field="note")
    return note


def do_acknowledge_alert(alert: Alert, *, note: str, at: datetime, acting_user: User) -> Alert:
    """A clinician acknowledges ``alert`` with a note of what was done.

    An urgent suicide-risk alert cannot be acknowledged: a prescriber's assessment closes
    it (``do_close_suicide_alert``) [S65].
    """
    require(acting_user, Action.ACKNOWLEDGE_ALERT, "Only a clinician may acknowledge an alert.")
    note = _check_note(note)
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            raise Conflict("This alert was already acknowledged.", field="alert")
        if locked.kind == SUICIDE_RISK and locked.severity == "urgent":
            raise NotAllowed("An urgent suicide-risk alert is closed only by a prescriber's suicide-risk assessment.")
        if locked.kind in PRESCRIBER_DECIDES and not can(acting_user.role, Action.SIGN_ORDER):
            raise NotAllowed(PRESCRIBER_DECIDES[locked.kind])
        locked.acknowledged_by, locked.acknowledged_at, locked.acknowledgement = acting_user, at, note
        locked.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement"])
        audit.record(
            EventType.ALERT_ACKNOWLEDGED,
            actor=acting_user,
            patient=locked.patient,
            subject=locked,
            new={"note": note},
            at=at,
        )
    return locked


def do_claim_alert(alert: Alert, *, at: datetime, acting_user: User) -> Alert:
    """A prescriber takes an urgent suicide-risk alert ("I am on it"): this meets the
    acknowledgement deadline and stops the escalation; closing still needs the assessment."""
    require(acting_user, Action.CLOSE_SUICIDE_ALERT, "Only a prescriber may take a suicide-risk alert.")
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.kind != SUICIDE_RISK or locked.acknowledged_at is not None:
            raise Conflict("Only an open suicide-risk alert can be taken.", field="alert")
        if locked.claimed_at is not None:
            who = locked.claimed_by.display_name if locked.claimed_by else "A prescriber"
            raise Conflict(f"{who} has already taken this alert.", field="alert")
        locked.claimed_by, locked.claimed_at = acting_user, at
        locked.save(update_fields=["claimed_by", "claimed_at"])
        audit.record(EventType.ALERT_CLAIMED, actor=acting_user, patient=locked.patient, subject=locked, at=at)
    return locked


def _clinic_day(value: datetime) -> Any:
    return timezone.localdate(value)


def do_close_suicide_alert(
    alert: Alert,
    *,
    cssrs_assessment_id: int | None,
    risk_level: str,
    safety_plan_reviewed: bool,
    disposition: str,
    note: str,
    assessed_at: datetime,
    at: datetime,
    acting_user: User,
) -> SuicideRiskAssessment:
    """Close a suicide-risk alert with a prescriber's structured assessment [S65]:
    a C-SSRS recorded for this patient on the day of the assessment, the risk level, the
    safety plan reviewed (required unless the disposition is emergency evaluation), the
    disposition and its time. Only "treat_today" lets today's dose go ahead.
    """
    require(acting_user, Action.CLOSE_SUICIDE_ALERT, "Only a prescriber may close a suicide-risk alert.")
    if risk_level not in RISK_LEVELS:
        raise InvalidInput(f"risk level must be one of: {', '.join(RISK_LEVELS)}", field="risk_level")
    if disposition not in DISPOSITIONS:
        raise InvalidInput(f"disposition must be one of: {', '.join(DISPOSITIONS)}", field="disposition")
    if not safety_plan_reviewed and disposition != "emergency":
        raise InvalidInput("review the safety plan with the patient before closing", field="safety_plan_reviewed")
    note = _check_note(note)
    if assessed_at > at + timedelta(minutes=5):
        raise InvalidInput("the assessment time cannot be in the future", field="assessed_at")
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.kind != SUICIDE_RISK:
            raise Conflict("Only a suicide-risk alert is closed with an assessment.", field="alert")
        if locked.acknowledged_at is not None:
            raise Conflict("This alert is already closed.", field="alert")
        if assessed_at < locked.raised_at - timedelta(hours=24):
            raise InvalidInput("the assessment must be made after the alert was raised", field="assessed_at")
        cssrs = Assessment.objects.filter(
            pk=cssrs_assessment_id or 0, patient=locked.patient, instrument="cssrs_screen"
        ).first()
        if cssrs is None or _clinic_day(cssrs.at) != _clinic_day(assessed_at):
            raise InvalidInput("choose a C-SSRS recorded for this patient on the day of the assessment", field="cssrs")
        if cssrs.total == 3 and risk_level == "low":
            raise InvalidInput(
                "the chosen C-SSRS shows high risk (intent, plan or recent behaviour): record the risk level "
                "you judge as moderate or high, or record a new C-SSRS",
                field="risk_level",
            )
        record = SuicideRiskAssessment.objects.create(
            alert=locked,
            patient=locked.patient,
            cssrs=cssrs,
            risk_level=risk_level,
            safety_plan_reviewed=safety_plan_reviewed,
            disposition=disposition,
            note=note,
            assessed_at=assessed_at,
            assessed_by=acting_user,
            recorded_at=at,
        )
        locked.acknowledged_by, locked.acknowledged_at = acting_user, at
        locked.acknowledgement = f"{DISPOSITIONS[disposition]} (risk {RISK_LEVELS[risk_level].lower()}): {note}"
        if locked.claimed_at is None:
            locked.claimed_by, locked.claimed_at = acting_user, at
        locked.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledgement", "claimed_by", "claimed_at"])
        audit.record(
            EventType.SUICIDE_RISK_ASSESSED,
            actor=acting_user,
            patient=locked.patient,
            subject=record,
            new={
                "alert": locked.pk,
                "cssrs": cssrs.pk,
                "risk_level": risk_level,
                "safety_plan_reviewed": safety_plan_reviewed,
                "disposition": disposition,
                "assessed_at": assessed_at.isoformat(),
            },
            at=at,
        )
    return record


def dose_block_reason(patient: Patient, *, at: datetime, open_now: Iterable[Alert] | None = None) -> str | None:
    """Why no dose may be started, resumed or given now, or ``None``.

    An open urgent suicide-risk alert [S65][S70]; an open pause or stop vital-sign alert
    [S30]; a suicide-risk assessment today whose disposition was not "treat today" [S65].
    ``open_now``: the patient's open alerts when the caller has just read them (a page).
    """
    if open_now is None:
        open_now = open_alerts(patient).filter(severity__in=["urgent", "stop", "pause"])
    open_now = sorted(
        (a for a in open_now if a.severity in {"urgent", "stop", "pause"}), key=lambda a: (a.raised_at, a.pk)
    )
    urgent = [a for a in open_now if a.kind == SUICIDE_RISK and a.severity == "urgent"]
    if urgent:
        return (
            f"An urgent suicide-risk alert is open ({urgent[0].message}). No dose may be given until a "
            "prescriber's suicide-risk assessment closes it."
        )
    vital = [a for a in open_now if a.severity in {"stop", "pause"}]
    if vital:
        return f"An unacknowledged {vital[0].severity} alert ({vital[0].message}) must be acknowledged before dosing."
    today = _clinic_day(at)
    deferred = (
        SuicideRiskAssessment.objects.filter(patient=patient, assessed_at__lte=at).order_by("-assessed_at").first()
    )
    if deferred is not None and deferred.disposition != "treat_today" and _clinic_day(deferred.assessed_at) == today:
        return f"Today's suicide-risk assessment decided: {DISPOSITIONS[deferred.disposition].lower()}. No dose today."
    return None
