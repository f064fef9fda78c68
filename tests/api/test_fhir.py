"""FHIR R4 over HTTP: every resource type the server emits validates with fhir.resources,
standard codes where the issue names them, read/search/$everything, who sees what, audit
of reads, and the bulk $export round trip."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fhir.resources.R4B import get_fhir_model_class

from ketamine_clinic.api.fhir.mapping import RESOURCE_TYPES
from ketamine_clinic.services import measures, sessions
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.storage.models import AuditEvent, EventType
from tests.api.conftest import ApiClient, token_for
from tests.conftest import MONDAY

STAFF = {"prescriber", "crna", "rn"}


def _valid(resource: dict) -> None:  # type: ignore[type-arg]
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.fixture
def full_record(running_session, nurse, prescriber, patient):  # type: ignore[no-untyped-def]
    """A record with every kind of row the server maps: vitals with a respiratory rate, a
    side effect, a GAD-7, a PHQ-9 whose item 9 opens the suicide-risk alert (a Flag)."""
    at = running_session.started_at + timedelta(minutes=10)
    sessions.do_record_vitals(
        running_session,
        {"systolic_mmhg": 132, "diastolic_mmhg": 84, "heart_rate_bpm": 80, "spo2_percent": 97, "respiratory_rate": 15},
        at=at,
        acting_user=nurse,
    )
    sessions.do_record_side_effect(running_session, "nausea_vomiting", "mild", note="", at=at, acting_user=nurse)
    measures.do_record_assessment(patient, "gad7", [1, 1, 1, 1, 0, 0, 0], at=at, acting_user=nurse)
    measures.do_record_assessment(patient, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1], at=at, acting_user=nurse)
    return running_session


def _everything(api: ApiClient, patient_id: int) -> list[dict]:  # type: ignore[type-arg]
    response = api.get(f"/fhir/r4/Patient/{patient_id}/$everything")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    _valid(bundle)
    return [e["resource"] for e in bundle["entry"]]


def test_everything_holds_every_type_and_every_resource_validates(as_user, prescriber, full_record) -> None:  # type: ignore[no-untyped-def]
    resources = _everything(as_user(prescriber), full_record.patient_id)
    assert {r["resourceType"] for r in resources} == set(RESOURCE_TYPES)
    for resource in resources:
        _valid(resource)
    assert len({(r["resourceType"], r["id"]) for r in resources}) == len(resources)


def _codes(resources, kind="Observation"):  # type: ignore[no-untyped-def]
    out = set()
    for r in resources:
        if r["resourceType"] != kind:
            continue
        for key in ("code", "medicationCodeableConcept"):
            out |= {(c["system"], c["code"]) for c in r.get(key, {}).get("coding", [])}
        for comp in r.get("component", []):
            out |= {(c["system"], c["code"]) for c in comp["code"]["coding"]}
    return out


def test_vital_signs_and_scores_carry_the_loinc_codes(as_user, prescriber, full_record) -> None:  # type: ignore[no-untyped-def]
    resources = _everything(as_user(prescriber), full_record.patient_id)
    loinc = {code for system, code in _codes(resources) if system == "http://loinc.org"}
    assert {"85354-9", "8480-6", "8462-4", "8867-4", "59408-5", "9279-1", "29463-7", "8302-2"} <= loinc
    assert {"44261-6", "70274-6"} <= loinc
    bp = next(r for r in resources if r["id"].startswith("bp-") and r["component"][0]["valueQuantity"]["value"] == 132)
    assert bp["component"][0]["valueQuantity"] == {
        "value": 132,
        "unit": "mm[Hg]",
        "system": "http://unitsofmeasure.org",
        "code": "mm[Hg]",
    }
    assert bp["category"][0]["coding"][0]["code"] == "vital-signs"


def test_conditions_are_icd10cm_and_orders_name_the_drug(as_user, prescriber, full_record) -> None:  # type: ignore[no-untyped-def]
    resources = _everything(as_user(prescriber), full_record.patient_id)
    conditions = _codes(resources, "Condition")
    assert ("http://hl7.org/fhir/sid/icd-10-cm", "F33.2") in conditions
    request = next(r for r in resources if r["resourceType"] == "MedicationRequest")
    assert request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "mg/kg"
    assert request["medicationCodeableConcept"]["coding"][0]["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
    given = [r for r in resources if r["resourceType"] == "MedicationAdministration"]
    assert given and given[0]["dosage"]["rateQuantity"]["code"] == "mL/h"
    assert given[0]["context"]["reference"] == f"Encounter/{full_record.pk}"
    flags = [r for r in resources if r["resourceType"] == "Flag"]
    assert len(flags) == 1 and flags[0]["status"] == "active"


def test_every_resource_reads_back_by_id(as_user, prescriber, full_record) -> None:  # type: ignore[no-untyped-def]
    api = as_user(prescriber)
    for resource in _everything(api, full_record.patient_id):
        read = api.get(f"/fhir/r4/{resource['resourceType']}/{resource['id']}")
        assert read.status_code == 200
        assert read.json() == resource


def test_search_by_patient_code_and_date(as_user, prescriber, full_record, stranger) -> None:  # type: ignore[no-untyped-def]
    api = as_user(prescriber)
    pid = full_record.patient_id
    heart = api.get(f"/fhir/r4/Observation?patient=Patient/{pid}&code=http://loinc.org|8867-4").json()
    assert heart["total"] == 2 and {e["resource"]["valueQuantity"]["value"] for e in heart["entry"]} == {72, 80}
    phq = api.get(f"/fhir/r4/Observation?patient={pid}&code=44261-6").json()
    # baseline, the PHQ-9 of the infusion day (the checklist needs it), the follow-up
    assert [e["resource"]["valueInteger"] for e in phq["entry"]] == [16, 8, 9]
    day = full_record.started_at.date().isoformat()
    on_day = api.get(f"/fhir/r4/Observation?patient={pid}&date={day}").json()
    before = api.get(f"/fhir/r4/Observation?patient={pid}&date=lt{day}").json()
    everything_obs = api.get(f"/fhir/r4/Observation?patient={pid}").json()
    assert on_day["total"] + before["total"] == everything_obs["total"]
    assert on_day["total"] >= 8 and before["total"] >= 3
    bad = api.get(f"/fhir/r4/Observation?patient={pid}&date=yesterday")
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"] == ["date"]


def test_a_patients_token_reads_only_their_own_record(patient_user, full_record, stranger) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(token_for(patient_user))
    own = _everything(api, full_record.patient_id)
    assert {r["subject"]["reference"] for r in own if "subject" in r} == {f"Patient/{full_record.patient_id}"}
    assert api.get(f"/fhir/r4/Patient/{stranger.pk}/$everything").status_code == 404
    assert api.get(f"/fhir/r4/Patient/{stranger.pk}").status_code == 404
    listed = api.get("/fhir/r4/Patient").json()
    assert [e["resource"]["id"] for e in listed["entry"]] == [str(full_record.patient_id)]
    assert api.get(f"/fhir/r4/Observation?patient={stranger.pk}").status_code == 404


@pytest.mark.parametrize(
    "template,allowed",
    [
        ("/fhir/r4/Patient/{pid}", STAFF | {"front_desk", "patient"}),
        ("/fhir/r4/Patient?_id={pid}", STAFF | {"front_desk", "patient"}),
        ("/fhir/r4/Encounter/{sid}", STAFF | {"patient"}),
        ("/fhir/r4/Observation?patient={pid}", STAFF | {"patient"}),
        ("/fhir/r4/Patient/{pid}/$everything", STAFF | {"patient"}),
        ("/fhir/r4/$export", STAFF | {"patient"}),
        ("/fhir/r4/Patient/$export", STAFF | {"patient"}),
        ("/fhir/r4/metadata", STAFF | {"front_desk", "patient", "admin", "auditor"}),
    ],
)
def test_fhir_role_matrix(template, allowed, personas, full_record) -> None:  # type: ignore[no-untyped-def]
    url = template.format(pid=full_record.patient_id, sid=full_record.pk)
    for role, user in personas.items():
        response = ApiClient(token_for(user)).get(url)
        ok = response.status_code in (200, 202)
        assert ok == (role in allowed), f"{role} {url}: {response.status_code}"
        if not ok:
            assert response.status_code in (403, 404)
            assert response.json()["resourceType"] == "OperationOutcome"


def test_no_token_is_401_operation_outcome(client, full_record) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/fhir/r4/Patient/{full_record.patient_id}")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_fhir_read_leaves_one_audit_row(as_user, prescriber, full_record) -> None:  # type: ignore[no-untyped-def]
    api = as_user(prescriber)
    before = AuditEvent.objects.count()
    api.get(f"/fhir/r4/Patient/{full_record.patient_id}/$everything")
    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert [(r.event_type, r.patient_id) for r in rows] == [(EventType.CHART_VIEWED, full_record.patient_id)]


def test_metadata_is_a_valid_capability_statement(client) -> None:  # type: ignore[no-untyped-def]
    statement = client.get("/fhir/r4/metadata").json()
    _valid(statement)
    served = {r["type"] for r in statement["rest"][0]["resource"]}
    assert served == set(RESOURCE_TYPES)


def test_bulk_export_round_trip(as_user, prescriber, nurse, full_record, stranger) -> None:  # type: ignore[no-untyped-def]
    api = as_user(prescriber)
    kickoff = api.get("/fhir/r4/$export", HTTP_PREFER="respond-async")
    assert kickoff.status_code == 202
    status_url = kickoff["Content-Location"].removeprefix("http://testserver")
    assert api.get(status_url).status_code == 202
    assert as_user(nurse).get(status_url).status_code == 404  # only the requester polls
    assert run_due_jobs() >= 1
    done = api.get(status_url)
    assert done.status_code == 200
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    everything = {
        (r["resourceType"], r["id"]) for pid in (full_record.patient_id, stranger.pk) for r in _everything(api, pid)
    }
    exported = set()
    for output in manifest["output"]:
        body = api.get(output["url"].removeprefix("http://testserver"))
        assert body.status_code == 200 and body["Content-Type"] == "application/fhir+ndjson"
        lines = body.content.decode().splitlines()
        assert len(lines) == output["count"]
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == output["type"]
            _valid(resource)
            exported.add((resource["resourceType"], resource["id"]))
    assert exported == everything
    kinds = [e.event_type for e in AuditEvent.objects.filter(event_type__gte=961)]
    assert EventType.BULK_EXPORT_REQUESTED in kinds and EventType.BULK_EXPORT_COMPLETED in kinds
    assert kinds.count(EventType.BULK_EXPORT_DOWNLOADED) == len(manifest["output"])


def test_export_by_type_and_since_and_bad_parameters(as_user, prescriber, full_record) -> None:  # type: ignore[no-untyped-def]
    api = as_user(prescriber)
    bad = api.get("/fhir/r4/$export?_type=Spaceship")
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["_type"]
    since = (full_record.started_at + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    kickoff = api.get(f"/fhir/r4/Patient/$export?_type=Observation,Patient&_since={since}")
    run_due_jobs()
    manifest = api.get(kickoff["Content-Location"].removeprefix("http://testserver")).json()
    assert {o["type"] for o in manifest["output"]} == {"Observation", "Patient"}
    obs = next(o for o in manifest["output"] if o["type"] == "Observation")
    lines = api.get(obs["url"].removeprefix("http://testserver")).content.decode().splitlines()
    assert lines and all(json.loads(line)["effectiveDateTime"] >= since[:19] for line in lines)
    assert MONDAY.isoformat()[:10] <= since[:10]
