"""Alerts that a clinician must acknowledge. Nothing clears an alert silently: the only
way out of "open" is ``do_acknowledge_alert`` with the clinician's note, audited."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import audit
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.storage.models import Alert, Assessment, EventType, Patient, User, VitalSign

__all__ = ["do_acknowledge_alert", "open_alerts", "raise_alert"]


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
    )
    audit.record(
        EventType.ALERT_RAISED,
        actor=actor,
        patient=patient,
        subject=alert,
        new={"kind": kind, "severity": severity, "message": message},
        at=at,
    )
    return alert


def open_alerts(patient: Patient | None = None):  # type: ignore[no-untyped-def]
    alerts = Alert.objects.filter(acknowledged_at__isnull=True)
    return alerts.filter(patient=patient) if patient is not None else alerts


def do_acknowledge_alert(alert: Alert, *, note: str, at: datetime, acting_user: User) -> Alert:
    """A clinician acknowledges ``alert`` with a note of what was done."""
    require(acting_user, Action.ACKNOWLEDGE_ALERT, "Only a clinician may acknowledge an alert.")
    note = note.strip()
    if not 3 <= len(note) <= 2000:
        raise InvalidInput("note must be 3 to 2000 characters: say what was done", field="note")
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            raise Conflict("This alert was already acknowledged.", field="alert")
        locked.acknowledged_by, locked.acknowledged_at, locked.acknowledgement = (
            acting_user,
            at,
            note,
        )
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
