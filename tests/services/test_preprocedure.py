"""The pre-procedure record: allergies stated, medications with interaction classes,
ASA and airway, fasting, escort, ICD-10-CM diagnoses, versions that never overwrite; and
consent signed on screen with its text version and hash."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.domain.preprocedure import CONSENT_DOCUMENTS, classes_for_medication, consent_for_route
from ketamine_clinic.services import intake, preprocedure
from ketamine_clinic.services.errors import InvalidInput, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, ConsentSignature, EventType, PreProcedureRecord
from tests.conftest import MONDAY


def _record(patient, user, **changes):  # type: ignore[no-untyped-def]
    values = {
        "allergies": [{"substance": "Penicillin", "reaction": "Hives"}],
        "no_known_allergies": False,
        "medications": [
            {"name": "Lorazepam", "dose": "1 mg at night"},
            {"name": "Sertraline", "dose": "100 mg"},
            {"name": "Adderall", "dose": "10 mg", "class": "psychostimulant"},
        ],
        "asa_class": "2",
        "airway_note": "Mallampati II; no dentures",
        "npo_solids_since": MONDAY - timedelta(hours=6),
        "npo_clear_since": MONDAY - timedelta(hours=1),
        "escort_name": "Jordan Example",
        "escort_phone": "+1 (555) 010-2030",
        "diagnoses": ["F33.2", "F43.10"],
        "at": MONDAY,
        "acting_user": user,
    }
    values.update(changes)
    return preprocedure.do_record_pre_procedure(patient, **values)


def test_medication_classes_come_from_the_name_or_the_clinicians_choice() -> None:
    assert classes_for_medication("Lorazepam 1 mg") == ("benzodiazepine",)
    assert classes_for_medication("phenelzine") == ("maoi",)
    assert classes_for_medication("sertraline") == ()
    assert classes_for_medication("Brand X", "opioid") == ("opioid",)


def test_the_record_keeps_every_part_and_the_classes_reach_the_eligibility_screen(patient, nurse) -> None:
    row = _record(patient, nurse)
    assert row.asa_class == 2 and row.diagnoses == ["F33.2", "F43.10"] and row.escort_phone == "+1 (555) 010-2030"
    classes = intake.medication_classes(patient)
    assert classes == {"benzodiazepine": ["Lorazepam 1 mg at night"], "psychostimulant": ["Adderall 10 mg"]}
    summary = preprocedure.summary(patient)
    assert ("F33.2", "Major depressive disorder, recurrent severe without psychotic features") in summary["diagnoses"]
    assert AuditEvent.objects.filter(event_type=EventType.PRE_PROCEDURE_RECORDED).count() == 1


def test_a_change_is_a_new_version_and_the_old_one_stays(patient, nurse, crna) -> None:
    first = _record(patient, nurse)
    later = MONDAY + timedelta(days=2)
    second = _record(
        patient, crna, asa_class="3", at=later, npo_solids_since=later - timedelta(hours=3), npo_clear_since=None
    )
    assert second.amends_id == first.pk and preprocedure.current_record(patient) == second
    first.refresh_from_db()
    assert first.asa_class == 2 and PreProcedureRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"allergies": [], "no_known_allergies": False}, "no_known_allergies"),
        ({"no_known_allergies": True}, "no_known_allergies"),
        ({"allergies": [{"substance": "Latex", "reaction": ""}]}, "allergy_0"),
        ({"medications": [{"name": "", "dose": "5 mg"}]}, "medication_0"),
        ({"medications": [{"name": "X", "class": "vitamin"}]}, "medication_0"),
        ({"asa_class": "5"}, "asa_class"),
        ({"asa_class": ""}, "asa_class"),
        ({"diagnoses": []}, "diagnoses"),
        ({"diagnoses": ["F99.9"]}, "diagnoses"),
        ({"npo_solids_since": MONDAY + timedelta(hours=2)}, "npo_solids_since"),
        ({"escort_phone": "call me"}, "escort_phone"),
        ({"escort_name": " "}, "escort_name"),
        ({"airway_note": "x" * 301}, "airway_note"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(patient, nurse, changes, field) -> None:
    with pytest.raises(InvalidInput) as error:
        _record(patient, nurse, **changes)
    assert error.value.field == field
    assert not PreProcedureRecord.objects.exists()


def test_none_known_is_stated_not_assumed(patient, nurse) -> None:
    row = _record(patient, nurse, allergies=[], no_known_allergies=True)
    assert row.no_known_allergies and row.allergies == []


def test_roles_outside_the_team_may_not_keep_the_record(patient, front_desk) -> None:
    with pytest.raises(NotAllowed):
        _record(patient, front_desk)


def test_consent_stores_the_version_and_the_text_signed(patient, nurse) -> None:
    document = consent_for_route("iv")
    row = preprocedure.do_sign_consent(
        patient,
        document.code,
        version=document.version,
        signed_name="  pat   example ",
        read_and_understood=True,
        at=MONDAY,
        acting_user=nurse,
    )
    assert (row.version, row.text, row.text_sha256) == (document.version, document.text, document.sha256)
    assert row.signed_name == "pat example" and row.witnessed_by == nurse
    assert preprocedure.latest_consent(patient, document.code) == row
    assert consent_for_route("nasal") is CONSENT_DOCUMENTS["esketamine_nasal"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"version": "2020-01-v0"}, "version"),
        ({"read_and_understood": False}, "read_and_understood"),
        ({"signed_name": "Someone Else"}, "signed_name"),
    ],
)
def test_a_consent_is_refused_for_an_old_version_no_confirmation_or_another_name(
    patient, nurse, changes, field
) -> None:
    document = consent_for_route("iv")
    values = {"version": document.version, "signed_name": "Pat Example", "read_and_understood": True}
    values.update(changes)
    with pytest.raises(InvalidInput) as error:
        preprocedure.do_sign_consent(patient, document.code, at=MONDAY, acting_user=nurse, **values)
    assert error.value.field == field
    assert not ConsentSignature.objects.exists()


@pytest.mark.parametrize("asa", ["²", "٣", "5", "0", "x", ""])
def test_an_asa_class_outside_1_to_4_is_refused_naming_the_field(patient, nurse, asa) -> None:
    with pytest.raises(InvalidInput) as error:
        _record(patient, nurse, asa_class=asa)
    assert error.value.field == "asa_class"
    assert not PreProcedureRecord.objects.filter(patient=patient).exists()


def test_a_pre_procedure_record_edited_behind_the_application_is_reported(patient, nurse) -> None:
    from ketamine_clinic.services import audit

    row = _record(patient, nurse)
    assert audit.verify_chain().ok
    PreProcedureRecord.objects.filter(pk=row.pk).update(allergies=[])
    report = audit.verify_chain()
    assert not report.ok and any(f"PreProcedureRecord #{row.pk} differs" in p for p in report.problems)


def test_asa_class_iv_is_flagged_for_the_prescriber_once(patient, nurse) -> None:
    from ketamine_clinic.services import alerts

    _record(patient, nurse, asa_class="3")
    assert not alerts.open_alerts(patient).filter(kind="asa_class").exists()
    _record(patient, nurse, asa_class="4")
    _record(patient, nurse, asa_class="4")  # a later version at IV: no second flag
    flags = list(alerts.open_alerts(patient).filter(kind="asa_class"))
    assert len(flags) == 1 and flags[0].severity == "notify" and "ASA class IV" in flags[0].message
