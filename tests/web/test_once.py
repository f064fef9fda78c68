"""Idempotent writes: a form's one-time token lets a double click or a replay record once."""

from __future__ import annotations

import re

from ketamine_clinic.storage.models import Order, Patient, VitalSign


def _token(html: str) -> str:
    found = re.search(r'name="form_token" value="([0-9a-f]{32})"', html)
    assert found, "the page's forms carry a one-time token"
    return found.group(1)


def test_a_double_submitted_registration_registers_once(client, front_desk) -> None:
    client.force_login(front_desk)
    token = _token(client.get("/desk/patients/new/").content.decode())
    form = {
        "given_name": "Dee",
        "family_name": "Double",
        "birth_date": "1990-03-04",
        "sex": "female",
        "form_token": token,
    }
    first = client.post("/desk/patients/new/", form)
    second = client.post("/desk/patients/new/", form, HTTP_REFERER="http://testserver/desk/patients/new/")
    assert first.status_code == 302 and second.status_code == 302
    assert Patient.objects.filter(family_name="Double").count() == 1
    assert second["Location"].endswith("/desk/patients/new/")
    assert "already sent" in client.get("/desk/patients/new/").content.decode()


def test_a_replayed_order_and_vitals_record_once(client, course, prescriber, running_session, nurse) -> None:
    visit = course.visits.order_by("starts_at")[1]
    client.force_login(prescriber)
    token = _token(client.get(f"/clinic/visits/{visit.pk}/order/").content.decode())
    order = {"dose_mg_per_kg": "0.5", "duration_min": "40", "concentration_mg_per_ml": "1", "form_token": token}
    for _ in range(3):
        client.post(f"/clinic/visits/{visit.pk}/order/", order)
    assert Order.objects.filter(visit=visit).count() == 1
    client.force_login(nurse)
    page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
    vitals = {"systolic_mmhg": "121", "diastolic_mmhg": "77", "heart_rate_bpm": "70", "spo2_percent": "98"}
    before = VitalSign.objects.filter(session=running_session).count()
    for _ in range(2):
        client.post(f"/clinic/sessions/{running_session.pk}/vitals/", {**vitals, "form_token": _token(page)})
    assert VitalSign.objects.filter(session=running_session).count() == before + 1


def test_each_page_render_has_a_fresh_token(client, front_desk) -> None:
    client.force_login(front_desk)
    first = _token(client.get("/desk/patients/new/").content.decode())
    assert first != _token(client.get("/desk/patients/new/").content.decode())
