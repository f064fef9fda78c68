"""The JSON API over HTTP: tokens, the role x endpoint matrix, ownership, audit of reads,
cursor pagination, problem details and the rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from ketamine_clinic.services.api_tokens import do_create_token, do_revoke_token, token_digest
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import ApiToken, Assessment, AuditEvent, EventType, VitalSign
from tests.api.conftest import ApiClient, token_for
from tests.conftest import AT

STAFF = {"prescriber", "crna", "rn"}
EVERYONE = {"admin", "prescriber", "crna", "rn", "front_desk", "patient", "auditor"}

# (method, path template, roles that get a 2xx) — every API operation, spelled out apart from the code.
MATRIX: list[tuple[str, str, set[str]]] = [
    ("get", "/api/v1/me", EVERYONE),
    ("get", "/api/v1/patients", STAFF | {"front_desk", "patient"}),
    ("post", "/api/v1/patients", {"prescriber", "rn", "front_desk"}),
    ("get", "/api/v1/patients/{pid}", STAFF | {"front_desk", "patient"}),
    ("get", "/api/v1/patients/{pid}/intakes", STAFF),
    ("get", "/api/v1/patients/{pid}/courses", STAFF | {"patient"}),
    ("get", "/api/v1/patients/{pid}/orders", STAFF),
    ("get", "/api/v1/patients/{pid}/sessions", STAFF),
    ("get", "/api/v1/sessions/{sid}", STAFF),
    ("post", "/api/v1/sessions/{sid}/vitals", {"crna", "rn"}),
    ("post", "/api/v1/sessions/{sid}/pump-events", {"crna", "rn"}),
    ("post", "/api/v1/sessions/{sid}/side-effects", STAFF),
    ("get", "/api/v1/patients/{pid}/assessments", STAFF | {"patient"}),
    ("post", "/api/v1/patients/{pid}/assessments", {"prescriber", "crna", "rn", "patient"}),
    ("get", "/api/v1/alerts", STAFF),
    ("get", "/api/v1/patients/{pid}/alerts", STAFF),
    ("get", "/api/v1/patients/{pid}/outcomes", STAFF | {"patient"}),
    ("post", "/api/v1/imports/csv", {"prescriber", "rn"}),
    ("post", "/api/v1/imports/fhir", {"prescriber", "rn"}),
]

BODIES = {
    "/api/v1/patients": {"given_name": "New", "family_name": "Person", "birth_date": "1990-03-04", "sex": "male"},
    "/api/v1/sessions/{sid}/vitals": {
        "systolic_mmhg": 118,
        "diastolic_mmhg": 76,
        "heart_rate_bpm": 70,
        "spo2_percent": 98,
        "respiratory_rate": 14,
    },
    "/api/v1/patients/{pid}/assessments": {"instrument": "gad7", "answers": [1, 1, 1, 0, 0, 0, 0]},
    "/api/v1/sessions/{sid}/pump-events": {"kind": "rate", "rate_ml_per_h": 40},
    "/api/v1/sessions/{sid}/side-effects": {"code": "nausea_vomiting", "severity": "mild"},
    "/api/v1/imports/csv": {
        "csv": "mrn,given_name,family_name,birth_date,sex,instrument,total,at\n"
        "X-1,Ann,Lee,1970-01-01,female,phq9,12,2025-01-05\n",
        "dry_run": True,
    },
    "/api/v1/imports/fhir": {"bundle": {"resourceType": "Bundle", "type": "collection", "entry": []}, "dry_run": True},
}


def test_every_api_operation_is_in_the_matrix(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/api/v1/openapi.json").json()
    listed = {(m, p.replace("{pid}", "{patient_id}").replace("{sid}", "{session_id}")) for m, p, _ in MATRIX}
    served = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert served == listed


@pytest.mark.parametrize("method,template,allowed", MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_role_matrix(method, template, allowed, personas, running_session) -> None:  # type: ignore[no-untyped-def]
    url = template.format(pid=running_session.patient_id, sid=running_session.pk)
    for role, user in personas.items():
        api = ApiClient(token_for(user))
        response = api.get(url) if method == "get" else api.post(url, BODIES[template])
        ok = 200 <= response.status_code < 300
        assert ok == (role in allowed), f"{role} {method} {url}: {response.status_code} {response.content[:200]!r}"
        if not ok:
            assert response.status_code in (403, 404)
            assert response["Content-Type"] == "application/problem+json"


def test_a_patients_token_sees_only_their_own_record(as_user, patient_user, patient, stranger) -> None:  # type: ignore[no-untyped-def]
    api = as_user(patient_user)
    listed = api.get("/api/v1/patients").json()["items"]
    assert [p["id"] for p in listed] == [patient.pk]
    assert api.get(f"/api/v1/patients/{patient.pk}").status_code == 200
    other = api.get(f"/api/v1/patients/{stranger.pk}")
    missing = api.get("/api/v1/patients/999999")
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"] == missing.json()["detail"]
    assert (
        api.post(f"/api/v1/patients/{stranger.pk}/assessments", {"instrument": "phq9", "answers": [0] * 9}).status_code
        == 404
    )
    assert not Assessment.objects.filter(patient=stranger).exists()


def test_no_token_expired_or_revoked_token_gets_401_problem(db, prescriber) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/api/v1/patients")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthenticated"
    row, token = do_create_token(prescriber, days=1, acting_user=None, at=timezone.now() - timedelta(days=2))
    assert ApiClient(token).get("/api/v1/me").status_code == 401
    row, token = do_create_token(prescriber, days=5, acting_user=None)
    assert ApiClient(token).get("/api/v1/me").status_code == 200
    do_revoke_token(row.prefix, acting_user=None)
    assert ApiClient(token).get("/api/v1/me").status_code == 401


def test_a_token_is_stored_only_as_its_digest(db, prescriber) -> None:  # type: ignore[no-untyped-def]
    row, token = do_create_token(prescriber, days=3, acting_user=None)
    stored = ApiToken.objects.filter(pk=row.pk).values().get()
    assert token not in {str(v) for v in stored.values()}
    assert stored["digest"] == token_digest(token)
    assert token.startswith(stored["prefix"])
    created = AuditEvent.objects.filter(event_type=EventType.API_TOKEN_CREATED).get()
    assert token not in str(created.new_values)


def test_token_days_out_of_range_names_the_field(db, prescriber) -> None:  # type: ignore[no-untyped-def]
    from ketamine_clinic.services.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        do_create_token(prescriber, days=366, acting_user=None)
    assert caught.value.field == "days"


def test_a_chart_read_leaves_one_audit_row_naming_the_patient(as_user, prescriber, running_session) -> None:  # type: ignore[no-untyped-def]
    api = as_user(prescriber)
    before = AuditEvent.objects.count()
    assert api.get(f"/api/v1/sessions/{running_session.pk}").status_code == 200
    rows = list(AuditEvent.objects.filter(pk__gt=0).order_by("id")[before:])
    assert [r.event_type for r in rows] == [EventType.CHART_VIEWED]
    assert rows[0].patient_id == running_session.patient_id
    assert rows[0].actor_id == prescriber.pk
    assert rows[0].new_values["page"] == "api GET /api/v1/sessions/<session_id>"


def test_a_list_leaves_one_page_row_with_the_listed_ids(as_user, prescriber, patient, stranger) -> None:  # type: ignore[no-untyped-def]
    api = as_user(prescriber)
    before = AuditEvent.objects.count()
    api.get("/api/v1/patients")
    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert [r.event_type for r in rows] == [EventType.PAGE_VIEWED]
    assert sorted(rows[0].new_values["patient_ids"]) == sorted([patient.pk, stranger.pk])


def test_cursor_pagination_walks_every_patient_once(as_user, prescriber) -> None:  # type: ignore[no-untyped-def]
    for i in range(7):
        do_create_patient(
            mrn=f"P-{i}",
            given_name=f"G{i}",
            family_name="F",
            birth_date=AT.date().replace(year=1980),
            sex="other",
            at=AT,
            acting_user=None,
        )
    api = as_user(prescriber)
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/patients?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).json()
        seen += [p["mrn"] for p in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"P-{i}" for i in range(7))
    assert pages == 3


def test_a_bad_cursor_or_limit_is_a_problem_naming_the_field(as_user, prescriber) -> None:  # type: ignore[no-untyped-def]
    api = as_user(prescriber)
    bad = api.get("/api/v1/patients?cursor=not-a-cursor")
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    big = api.get("/api/v1/patients?limit=500")
    assert big.status_code == 422 and big.json()["field"] == "limit"


def test_posting_a_phq9_with_item9_raises_the_urgent_alert(as_user, patient_user, patient) -> None:  # type: ignore[no-untyped-def]
    api = as_user(patient_user)
    response = api.post(f"/api/v1/patients/{patient.pk}/assessments", {"instrument": "phq9", "answers": [1] * 9})
    assert response.status_code == 201
    assert response.json()["total"] == 9
    assert patient.alerts.filter(kind="suicide_risk", severity="urgent", acknowledged_at=None).exists()


def test_a_bad_answer_is_422_naming_the_item_and_nothing_is_saved(as_user, nurse, patient) -> None:  # type: ignore[no-untyped-def]
    api = as_user(nurse)
    response = api.post(f"/api/v1/patients/{patient.pk}/assessments", {"instrument": "phq9", "answers": [0] * 8 + [7]})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input" and "item" in body["field"] and "0 to 3" in body["detail"]
    assert not Assessment.objects.exists()


def test_vitals_posted_through_the_api_are_saved_and_checked(as_user, nurse, running_session) -> None:  # type: ignore[no-untyped-def]
    api = as_user(nurse)
    url = f"/api/v1/sessions/{running_session.pk}/vitals"
    ok = api.post(url, {"systolic_mmhg": 130, "diastolic_mmhg": 80, "heart_rate_bpm": 75, "spo2_percent": 97})
    assert ok.status_code == 201
    assert VitalSign.objects.filter(pk=ok.json()["id"], systolic_mmhg=130).exists()
    bad = api.post(url, {"systolic_mmhg": 80, "diastolic_mmhg": 90, "heart_rate_bpm": 75, "spo2_percent": 97})
    assert bad.status_code == 422 and bad.json()["field"] == "diastolic_mmhg"
    nul = api.post(url, {"systolic_mmhg": "1\x00", "diastolic_mmhg": 90, "heart_rate_bpm": 75, "spo2_percent": 97})
    assert nul.status_code == 422


def test_a_nul_in_a_name_is_refused_naming_the_field(as_user, front_desk) -> None:  # type: ignore[no-untyped-def]
    api = as_user(front_desk)
    body = {"given_name": "A\x00b", "family_name": "B", "birth_date": "1990-01-01", "sex": "male"}
    response = api.post("/api/v1/patients", body)
    assert response.status_code == 422 and response.json()["field"] == "given_name"


@override_settings(KC_API_RATE_PER_MINUTE=3)
def test_the_rate_limit_is_per_token_with_retry_after(db, prescriber, nurse) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(token_for(prescriber))
    codes = [api.get("/api/v1/me").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api.get("/api/v1/me")
    assert limited["Content-Type"] == "application/problem+json"
    assert 1 <= int(limited["Retry-After"]) <= 61
    assert ApiClient(token_for(nurse)).get("/api/v1/me").status_code == 200


def test_the_schema_is_served_at_openapi_json(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    problem = schema["paths"]["/api/v1/patients"]["get"]["responses"]["404"]["content"]
    assert list(problem) == ["application/problem+json"]


def test_a_nul_in_a_query_parameter_is_a_problem_not_a_page(as_user, prescriber) -> None:  # type: ignore[no-untyped-def]
    response = as_user(prescriber).get("/api/v1/alerts?cursor=%00abc")
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == "cursor"
    fhir = as_user(prescriber).get("/fhir/r4/Observation?code=%00")
    assert fhir.status_code == 400 and fhir.json()["issue"][0]["expression"] == ["code"]


def test_the_committed_schema_is_the_served_one(client) -> None:  # type: ignore[no-untyped-def]
    """docs/openapi.json is the contract clients read; regenerate it with the command in
    docs/api.md when the API changes on purpose."""
    import json
    from pathlib import Path

    committed = json.loads((Path(__file__).parents[2] / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert client.get("/api/v1/openapi.json").json() == committed


def test_the_pump_through_the_api_keeps_the_rate_limit_and_stops_with_the_total(as_user, crna, running_session) -> None:  # type: ignore[no-untyped-def]
    from ketamine_clinic.storage.models import PumpEvent

    api = as_user(crna)
    url = f"/api/v1/sessions/{running_session.pk}/pump-events"
    before = PumpEvent.objects.count()
    too_fast = api.post(url, {"kind": "rate", "rate_ml_per_h": 1999})
    assert too_fast.status_code == 422 and too_fast.json()["field"] == "rate_ml_per_h"
    assert "mL/h" in too_fast.json()["detail"]
    assert PumpEvent.objects.count() == before
    stopped = api.post(url, {"kind": "stop"})
    assert stopped.status_code == 201 and stopped.json()["kind"] == "stop"
    running_session.refresh_from_db()
    assert running_session.status == "observing" and running_session.administered_mg is not None
    again = api.post(url, {"kind": "start"})
    assert again.status_code == 409 and again.json()["field"] == "kind"


def test_a_side_effect_through_the_api_is_checked(as_user, nurse, running_session) -> None:  # type: ignore[no-untyped-def]
    api = as_user(nurse)
    url = f"/api/v1/sessions/{running_session.pk}/side-effects"
    unknown = api.post(url, {"code": "sneezing", "severity": "mild"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "code"
    ok = api.post(url, {"code": "nausea_vomiting", "severity": "moderate"})
    assert ok.status_code == 201
    session = api.get(f"/api/v1/sessions/{running_session.pk}").json()
    assert [(e["code"], e["severity"]) for e in session["side_effects"]] == [("nausea_vomiting", "moderate")]
