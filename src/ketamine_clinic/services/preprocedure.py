"""The pre-procedure record and on-screen consent.

``do_record_pre_procedure`` saves a new version (amending the last: nothing is overwritten);
``do_sign_consent`` stores the signed text, its version and its SHA-256 with the patient's
typed signature and the witnessing clinician. ``medication_classes(patient)`` is what the
eligibility screen and the chair read.

Errors: ``NotAllowed`` for a role outside the clinical team; ``InvalidInput`` naming the
field (an allergy without a reaction, an unknown diagnosis, ASA outside I-IV, a fasting
time in the future, a phone that is not one, a signature that is not the patient's name).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.domain.preprocedure import (
    ASA_CLASSES,
    CONSENT_DOCUMENTS,
    ICD10_DIAGNOSES,
    INTERACTION_CLASSES,
    PreProcedureError,
    check_asa,
    check_diagnoses,
    check_fasting,
    check_phone,
    classes_for_medication,
)
from ketamine_clinic.services import alerts, audit
from ketamine_clinic.services._common import lock_active_patient, require
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import ConsentSignature, EventType, Patient, PreProcedureRecord, User
from ketamine_clinic.storage.prepared import Prepared

__all__ = [
    "current_record",
    "do_record_pre_procedure",
    "do_sign_consent",
    "latest_consent",
    "medication_classes",
    "summary",
]


def current_record(patient: Patient) -> PreProcedureRecord | None:
    """The latest version of the patient's pre-procedure record, or ``None``."""
    return _CURRENT.first(patient_id=patient.pk)


_CURRENT = Prepared(
    PreProcedureRecord,
    lambda patient_id: PreProcedureRecord.objects.filter(patient_id=patient_id).order_by("-at", "-id")[:1],
    "patient_id",
)


def medication_classes(patient: Patient) -> dict[str, list[str]]:
    """The interaction classes of the patient's current medications, each with the
    medications in it ({"benzodiazepine": ["lorazepam 1 mg"]}); empty without a record
    [S37][S30]. The eligibility screen and the chair show these; they decide nothing here."""
    return _classes(current_record(patient))


def _classes(record: PreProcedureRecord | None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for med in record.medications if record else []:
        label = f"{med['name']} {med.get('dose', '')}".strip()
        for cls in med.get("classes", []):
            found.setdefault(cls, []).append(label)
    return found


def _text(value: Any, field: str, *, low: int, high: int) -> str:
    text = str(value or "").strip()
    if not low <= len(text) <= high:
        raise InvalidInput(f"{field.replace('_', ' ')} must be {low} to {high} characters", field=field)
    return text


def _allergies(rows: list[dict[str, str]], none_known: bool) -> list[dict[str, str]]:
    clean = []
    for index, row in enumerate(rows):
        substance, reaction = (row.get("substance") or "").strip(), (row.get("reaction") or "").strip()
        if not substance and not reaction:
            continue
        if not substance or not reaction or len(substance) > 80 or len(reaction) > 120:
            raise InvalidInput(
                f"allergy {index + 1}: give the substance (up to 80 characters) and the reaction (up to 120)",
                field=f"allergy_{index}",
            )
        clean.append({"substance": substance, "reaction": reaction})
    if clean and none_known:
        raise InvalidInput("allergies are listed: untick 'No known drug allergies'", field="no_known_allergies")
    if not clean and not none_known:
        raise InvalidInput("list each allergy, or tick 'No known drug allergies'", field="no_known_allergies")
    return clean


def _medications(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    clean = []
    for index, row in enumerate(rows):
        name, dose = (row.get("name") or "").strip(), (row.get("dose") or "").strip()
        chosen = (row.get("class") or "").strip()
        if not name:
            if dose or chosen:
                raise InvalidInput(f"medication {index + 1}: give its name", field=f"medication_{index}")
            continue
        if len(name) > 80 or len(dose) > 60:
            raise InvalidInput(
                f"medication {index + 1}: name up to 80 characters, dose up to 60", field=f"medication_{index}"
            )
        try:
            classes = classes_for_medication(name, chosen)
        except PreProcedureError as exc:
            raise InvalidInput(str(exc), field=f"medication_{index}") from None
        clean.append({"name": name, "dose": dose, "classes": list(classes)})
    return clean


def do_record_pre_procedure(
    patient: Patient,
    *,
    allergies: list[dict[str, str]],
    no_known_allergies: bool,
    medications: list[dict[str, str]],
    asa_class: Any,
    airway_note: str,
    npo_solids_since: datetime | None,
    npo_clear_since: datetime | None,
    escort_name: str,
    escort_phone: str,
    diagnoses: list[str],
    at: datetime,
    acting_user: User,
) -> PreProcedureRecord:
    """Save a new version of the pre-procedure record: allergies stated (or "none known"),
    medications with their interaction classes [S37][S30], ASA class I-IV and an airway note,
    last food and clear liquid [S33][S50], the escort's name and phone [S50], ICD-10-CM
    diagnoses [S73]. Nothing is saved unless every field is valid."""
    require(acting_user, Action.RECORD_PRE_PROCEDURE, "Your role may not keep the pre-procedure record.")
    clean_allergies = _allergies(allergies, no_known_allergies)
    clean_meds = _medications(medications)
    try:
        asa = check_asa(int(asa_class) if re.fullmatch(r"[0-9]{1,2}", str(asa_class).strip()) else None)
        codes = check_diagnoses(list(diagnoses))
        check_fasting(npo_solids_since, npo_clear_since, at=at)
        phone = check_phone(escort_phone)
    except PreProcedureError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    name = _text(escort_name, "escort_name", low=2, high=120)
    airway = str(airway_note or "").strip()
    if len(airway) > 300:
        raise InvalidInput("airway note must be at most 300 characters", field="airway_note")
    with transaction.atomic():
        lock_active_patient(patient.pk)
        previous = current_record(patient)
        row = PreProcedureRecord.objects.create(
            patient=patient,
            at=at,
            recorded_at=timezone.now(),
            recorded_by=acting_user,
            amends=previous,
            no_known_allergies=no_known_allergies,
            allergies=clean_allergies,
            medications=clean_meds,
            asa_class=asa,
            airway_note=airway,
            npo_solids_since=npo_solids_since,
            npo_clear_since=npo_clear_since,
            escort_name=name,
            escort_phone=phone,
            diagnoses=codes,
        )
        audit.record(
            EventType.PRE_PROCEDURE_RECORDED,
            actor=acting_user,
            patient=patient,
            subject=row,
            new={
                "allergies": clean_allergies,
                "no_known_allergies": no_known_allergies,
                "medications": clean_meds,
                "asa_class": asa,
                "diagnoses": codes,
                "amends": previous.pk if previous else None,
            },
            at=at,
        )
        if asa == 4 and (previous is None or previous.asa_class != 4):
            # ASA IV is recorded, and flagged for the prescriber before any sedation [S44][S49]
            alerts.raise_alert(
                patient,
                kind="asa_class",
                severity="notify",
                message="ASA class IV recorded: the prescriber reviews fitness for sedation before dosing",
                source="[S44][S49]",
                at=at,
                actor=acting_user,
            )
    return row


def latest_consent(patient: Patient, document_code: str) -> ConsentSignature | None:
    """The patient's latest signature of ``document_code`` (any version), or ``None``."""
    return (
        ConsentSignature.objects.filter(patient=patient, document_code=document_code)
        .order_by("-signed_at", "-id")
        .first()
    )


def do_sign_consent(
    patient: Patient,
    document_code: str,
    *,
    version: str,
    signed_name: str,
    read_and_understood: bool,
    at: datetime,
    acting_user: User,
) -> ConsentSignature:
    """The patient signs the consent document on screen by typing their full name; the
    clinician present witnesses. The version shown must be the current one (a page left open
    across a new wording is refused), and the name typed must be the patient's [S2]."""
    require(acting_user, Action.RECORD_PRE_PROCEDURE, "Your role may not witness a consent.")
    document = CONSENT_DOCUMENTS.get(document_code)
    if document is None:
        raise InvalidInput(f"document must be one of: {', '.join(CONSENT_DOCUMENTS)}", field="document")
    if version != document.version:
        raise InvalidInput(
            f"this consent was updated to version {document.version}: read the new text and sign again",
            field="version",
        )
    if not read_and_understood:
        raise InvalidInput("the patient confirms having read and understood the text", field="read_and_understood")
    typed = " ".join(signed_name.split())
    if typed.casefold() != " ".join(patient.full_name.split()).casefold():
        raise InvalidInput(f"signature: type the patient's full name ({patient.full_name})", field="signed_name")
    with transaction.atomic():
        row = ConsentSignature.objects.create(
            patient=patient,
            document_code=document.code,
            version=document.version,
            text=document.text,
            text_sha256=document.sha256,
            signed_name=typed,
            signed_at=at,
            recorded_at=timezone.now(),
            witnessed_by=acting_user,
        )
        audit.record(
            EventType.CONSENT_SIGNED,
            actor=acting_user,
            patient=patient,
            subject=row,
            new={"document": document.code, "version": document.version, "sha256": document.sha256},
            at=at,
        )
    return row


def summary(patient: Patient) -> dict[str, Any]:
    """What the chair and the chart show of the record: allergies, medication classes, ASA,
    airway, fasting, escort, diagnoses with their ICD-10-CM names."""
    record = current_record(patient)
    if record is None:
        return {"record": None}
    return {
        "record": record,
        "allergies": record.allergies,
        "no_known_allergies": record.no_known_allergies,
        "classes": [(INTERACTION_CLASSES[c], meds) for c, meds in _classes(record).items()],
        "asa": ASA_CLASSES.get(record.asa_class, ""),
        "diagnoses": [(c, ICD10_DIAGNOSES.get(c, "")) for c in record.diagnoses],
    }
