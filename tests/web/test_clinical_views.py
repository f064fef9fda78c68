"""web.views.clinical: intake, course, order, verification and their refusals as pages."""

from __future__ import annotations

from ketamine_clinic.storage.models import Intake, Order


def test_the_intake_form_refuses_an_impossible_weight_naming_the_field(client, nurse, patient) -> None:
    client.force_login(nurse)
    page = client.get(f"/clinic/patients/{patient.pk}/intake/")
    assert page.status_code == 200 and 'name="weight"' in page.content.decode()
    response = client.post(
        f"/clinic/patients/{patient.pk}/intake/",
        {
            "diagnoses": ["trd"],
            "weight": "300",
            "weight_unit": "kg",
            "height_cm": "170",
            "systolic_mmhg": "120",
            "diastolic_mmhg": "80",
            "heart_rate_bpm": "70",
            "spo2_percent": "98",
        },
    )
    text = response.content.decode()
    assert response.status_code in (200, 422) and "Weight: weight must be from 30 to 250 kg" in text
    assert not Intake.objects.filter(patient=patient).exists()


def test_an_order_page_shows_the_limits_and_the_verifier_page_both_weights(client, prescriber, crna, course) -> None:
    visit = course.visits.order_by("starts_at").first()
    client.force_login(prescriber)
    page = client.get(f"/clinic/visits/{visit.pk}/order/").content.decode()
    assert "mg/kg" in page and "At most" in page
    client.post(
        f"/clinic/visits/{visit.pk}/order/",
        {"dose_mg_per_kg": "0.5", "duration_min": "40", "concentration_mg_per_ml": "1"},
    )
    order = Order.objects.get(visit=visit)
    client.force_login(crna)
    verify = client.get(f"/clinic/orders/{order.pk}/verify/").content.decode()
    assert "70" in verify and "35" in verify


def test_the_front_desk_opens_no_clinical_form(client, front_desk, course) -> None:
    client.force_login(front_desk)
    visit = course.visits.order_by("starts_at").first()
    assert client.get(f"/clinic/visits/{visit.pk}/order/").status_code in (403, 404)
    assert client.get(f"/clinic/patients/{course.patient_id}/intake/").status_code in (403, 404)
