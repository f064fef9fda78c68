"""Importing patients and prior scores (CSV and FHIR Bundle): a dry run lists every problem
row and writes nothing; a real import with any bad row writes nothing; a good one writes
everything, audited; the FHIR $everything -> import round trip keeps every score."""

from __future__ import annotations

import copy
from datetime import date

from ketamine_clinic.services import measures
from ketamine_clinic.storage.models import Assessment, AuditEvent, EventType, Patient
from tests.api.conftest import ApiClient, token_for

HEADER = "mrn,given_name,family_name,birth_date,sex,instrument,total,at\n"
GOOD = HEADER + (
    "OLD-1,Ann,Lee,1970-01-01,female,phq9,18,2025-01-05\n"
    "OLD-1,Ann,Lee,1970-01-01,female,gad7,12,2025-01-05T10:00:00Z\n"
    "OLD-2,Bob,Ray,1950-07-08,male,,,\n"
)


def _post(api: ApiClient, csv_text: str, *, dry_run: bool):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/imports/csv", {"csv": csv_text, "dry_run": dry_run})


def test_a_dry_run_lists_every_problem_row_and_writes_nothing(nurse) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(token_for(nurse))
    bad = GOOD + "OLD-3,Cy,Day,2090-01-01,female,phq9,40,2025-01-01\nOLD-4,Di,,1960-01-01,x,zzz,1,2025-01-01\n"
    before = (Patient.objects.count(), Assessment.objects.count())
    response = _post(api, bad, dry_run=True)
    assert response.status_code == 200
    report = response.json()
    assert report["imported"] is False and report["dry_run"] is True
    found = {(p["where"], p["field"]) for p in report["problems"]}
    assert found == {
        ("row 5", "birth_date"),
        ("row 5", "total"),
        ("row 6", "family_name"),
        ("row 6", "sex"),
        ("row 6", "instrument"),
    }
    assert (Patient.objects.count(), Assessment.objects.count()) == before


def test_a_real_import_with_one_bad_row_imports_nothing(nurse) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(token_for(nurse))
    response = _post(api, GOOD + "OLD-3,Cy,Day,1980-01-01,female,phq9,99,2025-01-01\n", dry_run=False)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input" and body["errors"] == [
        {"field": "row 5: total", "message": "PHQ-9 total must be a whole number from 0 to 27"}
    ]
    assert not Patient.objects.filter(mrn__startswith="OLD-").exists()
    assert not Assessment.objects.exists()


def test_a_good_csv_imports_patients_and_scores_audited(nurse) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(token_for(nurse))
    dry = _post(api, GOOD, dry_run=True).json()
    assert (dry["patients_created"], dry["scores"], dry["problems"]) == (2, 2, [])
    report = _post(api, GOOD, dry_run=False).json()
    assert report["imported"] is True and report["patients_created"] == 2
    ann = Patient.objects.get(mrn="OLD-1")
    assert ann.birth_date == date(1970, 1, 1)
    scores = {(a.instrument, a.total, a.band, a.at.date()) for a in Assessment.objects.filter(patient=ann)}
    assert scores == {("phq9", 18, "moderately severe", date(2025, 1, 5)), ("gad7", 12, "moderate", date(2025, 1, 5))}
    assert Patient.objects.filter(mrn="OLD-2", given_name="Bob").exists()
    event = AuditEvent.objects.get(event_type=EventType.PATIENTS_IMPORTED)
    assert event.new_values["scores"] == 2 and event.actor == nurse
    again = _post(api, HEADER + "OLD-1,Ann,Lee,1970-01-01,female,phq9,9,2025-02-01\n", dry_run=False).json()
    assert (again["patients_created"], again["patients_matched"], again["scores"]) == (0, 1, 1)


def test_an_mrn_of_another_person_is_a_problem(nurse, patient) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(token_for(nurse))
    report = _post(api, HEADER + f"{patient.mrn},Someone,Else,1990-01-01,male,,,\n", dry_run=True).json()
    assert [(p["where"], p["field"]) for p in report["problems"]] == [("row 2", "mrn")]


def test_roles_that_may_not_register_and_score_cannot_import(front_desk, crna, patient_user) -> None:  # type: ignore[no-untyped-def]
    for user in (front_desk, crna, patient_user):
        assert _post(ApiClient(token_for(user)), GOOD, dry_run=True).status_code == 403
    assert not Patient.objects.filter(mrn__startswith="OLD-").exists()


def test_fhir_everything_round_trips_through_import(nurse, prescriber, patient) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    measures.do_record_assessment(patient, "phq9", [2] * 9, at=datetime(2026, 3, 1, 9, tzinfo=UTC), acting_user=nurse)
    measures.do_record_assessment(patient, "gad7", [1] * 7, at=datetime(2026, 3, 8, 9, tzinfo=UTC), acting_user=nurse)
    api = ApiClient(token_for(prescriber))
    bundle = api.get(f"/fhir/r4/Patient/{patient.pk}/$everything").json()
    moved = copy.deepcopy(bundle)
    person = next(e["resource"] for e in moved["entry"] if e["resource"]["resourceType"] == "Patient")
    person["identifier"][0]["value"] = "PREV-77"  # the same person as the other system knows them
    person["name"][0]["family"] = "Moved"
    dry = api.post("/api/v1/imports/fhir", {"bundle": moved, "dry_run": True}).json()
    assert (dry["patients_created"], dry["scores"], dry["problems"]) == (1, 2, [])
    report = api.post("/api/v1/imports/fhir", {"bundle": moved, "dry_run": False}).json()
    assert report["imported"] is True
    imported = Patient.objects.get(mrn="PREV-77")
    assert (imported.given_name, imported.birth_date, imported.sex) == (
        patient.given_name,
        patient.birth_date,
        "female",
    )
    original = {(a.instrument, a.total, a.at) for a in Assessment.objects.filter(patient=patient)}
    copied = {(a.instrument, a.total, a.at) for a in Assessment.objects.filter(patient=imported)}
    assert copied == original and len(copied) == 2


def test_a_bundle_with_a_dangling_subject_or_no_bundle_is_a_problem(nurse) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(token_for(nurse))
    not_bundle = api.post("/api/v1/imports/fhir", {"bundle": {"resourceType": "Patient"}, "dry_run": True}).json()
    assert [p["field"] for p in not_bundle["problems"]] == ["resourceType"]
    dangling = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "44261-6"}]},
                    "subject": {"reference": "Patient/elsewhere"},
                    "valueInteger": 5,
                    "effectiveDateTime": "2025-01-01",
                }
            }
        ],
    }
    report = api.post("/api/v1/imports/fhir", {"bundle": dangling, "dry_run": True}).json()
    assert [(p["where"], p["field"]) for p in report["problems"]] == [("entry 1", "subject")]
