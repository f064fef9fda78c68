"""Printed records: the practice's identifiers, and the audit row every generated document
leaves (who, when, which record, and the SHA-256 of the bytes handed out).

A document is rendered by the web layer from the same read models as its page; this
module only records that it left the screen (docs/decisions/0020-pdf-documents.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import audit
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import ClinicSettings, EventType, Patient, PracticeSettings, User

__all__ = [
    "clinic_name",
    "do_record_document",
    "do_update_practice_settings",
    "practice_settings",
    "prescriber_npi",
    "sender_name",
]


def clinic_name() -> str:
    row = ClinicSettings.objects.filter(singleton=1).first()
    return row.clinic_name if row else "Ketamine Clinic"


def practice_settings() -> PracticeSettings:
    """The practice's row, or its defaults when nobody has saved one yet."""
    return PracticeSettings.objects.filter(singleton=1).first() or PracticeSettings()


def sender_name() -> str:
    """The name messages to patients are signed with (the clinic's name unless set)."""
    return practice_settings().sender_name or clinic_name()


def prescriber_npi(user: User | None) -> str:
    if user is None:
        return ""
    return str(practice_settings().prescriber_npis.get(str(user.pk), ""))


def do_record_document(kind: str, content: bytes, *, patient: Patient | None, subject: Any, acting_user: User) -> str:
    """One ``DOCUMENT_GENERATED`` row for a document handed to ``acting_user``; returns the
    SHA-256 of ``content`` so a printed copy can be matched to its audit row."""
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        audit.record(
            EventType.DOCUMENT_GENERATED,
            actor=acting_user,
            patient=patient,
            subject=subject,
            new={"kind": kind, "sha256": digest, "bytes": len(content)},
        )
    return digest


_DIGITS = {"npi": 10, "tax_id": 9}


def _check_number(name: str, value: str) -> str:
    value = value.strip().replace("-", "")
    if value and (not value.isdigit() or len(value) != _DIGITS[name]):
        raise InvalidInput(f"{name.replace('_', ' ')} must be {_DIGITS[name]} digits (or blank)", field=name)
    return value


def do_update_practice_settings(values: dict[str, Any], *, acting_user: User) -> PracticeSettings:
    """Save the practice's identifiers and reminder times; every value is checked first and
    a bad one names its field and range, nothing saved."""
    require(acting_user, Action.MANAGE_SETTINGS, "Only an administrator may change practice settings.")
    clean = dict(values)
    clean["npi"] = _check_number("npi", str(values.get("npi", "")))
    clean["tax_id"] = _check_number("tax_id", str(values.get("tax_id", "")))
    npis = {str(k): _check_number("npi", str(v)) for k, v in dict(values.get("prescriber_npis", {})).items()}
    clean["prescriber_npis"] = {k: v for k, v in npis.items() if v}
    hours = sorted({int(h) for h in values.get("reminder_hours_before", [])}, reverse=True)
    if not 1 <= len(hours) <= 3 or not all(1 <= h <= 168 for h in hours):
        raise InvalidInput("reminder hours: one to three values from 1 to 168", field="reminder_hours_before")
    clean["reminder_hours_before"] = hours
    for name, low, high in (
        ("previsit_hours_before", 2, 168),
        ("checkin_hour_next_day", 7, 20),
        ("checkin_valid_hours", 4, 96),
    ):
        if not low <= int(values.get(name, -1)) <= high:
            raise InvalidInput(f"{name.replace('_', ' ')} must be from {low} to {high}", field=name)
    with transaction.atomic():
        row = PracticeSettings.objects.select_for_update().filter(singleton=1).first() or PracticeSettings()
        old = {f: getattr(row, f) for f in clean}
        for name, value in clean.items():
            setattr(row, name, value)
        row.updated_at = timezone.now()
        row.save()
        audit.record(EventType.PRACTICE_SETTINGS_CHANGED, actor=acting_user, old=old, new=clean)
    return row
