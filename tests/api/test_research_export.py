"""The de-identified research CSV: nothing that names a patient leaves, dates shift by one
secret amount per patient, ages from 90 are grouped, and only prescribers may take it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from ketamine_clinic.services import measures, sessions
from ketamine_clinic.services.research import MAX_SHIFT_DAYS, age_label
from ketamine_clinic.storage.models import AuditEvent, EventType
from tests.api.conftest import ApiClient, token_for

URL = "/api/v1/research/deidentified.csv"


def test_ages_from_90_are_one_group() -> None:
    assert age_label(date(1936, 6, 2), date(2026, 6, 1)) == "89"
    assert age_label(date(1936, 6, 1), date(2026, 6, 1)) == "90+"
    assert age_label(date(1920, 1, 1), date(2026, 6, 1)) == "90+"


def test_the_csv_holds_no_identifier_and_shifts_each_patients_dates_together(
    prescriber, nurse, running_session, patient, stranger
) -> None:  # type: ignore[no-untyped-def]
    at = running_session.started_at + timedelta(minutes=15)
    sessions.do_record_side_effect(
        running_session, "other", "mild", note="Pat Example mentioned her sister", at=at, acting_user=nurse
    )
    measures.do_record_assessment(stranger, "gad7", [0, 0, 1, 0, 0, 0, 0], at=at, acting_user=nurse)
    response = ApiClient(token_for(prescriber)).get(URL)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    for secret in ("Pat", "Example", "Stranger", "T-0001", "T-0002", "sister", "1980-01-02", "1975-05-06"):
        assert secret not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    subjects = {r["subject"] for r in rows}
    assert len(subjects) == 2 and all(s.startswith("S") and len(s) == 9 for s in subjects)
    mine = [r for r in rows if r["record"] == "course"]
    assert len(mine) == 1
    subject = mine[0]["subject"]
    assert mine[0]["age_at_course_start"] == "46"
    course_day = date.fromisoformat(mine[0]["day"])
    true_course_day = running_session.visit.course.planned_at.date()
    shift = course_day - true_course_day
    assert abs(shift.days) <= MAX_SHIFT_DAYS
    dose = next(r for r in rows if r["subject"] == subject and r["record"] == "dose")
    assert date.fromisoformat(dose["day"]) - running_session.opened_at.date() == shift
    effect = next(r for r in rows if r["record"] == "side_effect")
    assert effect["side_effect"] == "other" and effect["subject"] == subject
    scores = [r for r in rows if r["record"] == "score" and r["subject"] != subject]
    assert [(r["instrument"], r["total"]) for r in scores] == [("gad7", "1")]
    event = AuditEvent.objects.get(event_type=EventType.RESEARCH_EXPORT)
    assert sorted(event.new_values["patient_ids"]) == sorted([patient.pk, stranger.pk])


def test_two_exports_use_different_subject_codes(prescriber, running_session) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(token_for(prescriber))
    first = {r["subject"] for r in csv.DictReader(io.StringIO(api.get(URL).content.decode()))}
    second = {r["subject"] for r in csv.DictReader(io.StringIO(api.get(URL).content.decode()))}
    assert len(first) == len(second) == 1 and first.isdisjoint(second)


def test_only_a_prescriber_takes_the_research_export(personas, patient, client) -> None:  # type: ignore[no-untyped-def]
    for role, user in personas.items():
        response = ApiClient(token_for(user)).get(URL)
        assert (response.status_code == 200) == (role == "prescriber"), role
        if role != "prescriber":
            assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"
    assert client.get(URL).status_code == 401
