"""Clinician ratings (MADRS, HAM-D 17, BPRS+, CADSS) in the chart and at the chair, and the
verifier's view of both weights."""

from __future__ import annotations

from datetime import timedelta

from ketamine_clinic.services import intake, orders
from ketamine_clinic.storage.models import Alert, Assessment
from tests.conftest import MONDAY, VITALS


def test_the_chart_records_a_madrs_and_its_suicide_item_escalates(client, prescriber, patient) -> None:
    client.force_login(prescriber)
    page = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    for name in ("MADRS", "HAM-D17", "BPRS positive symptoms", "CADSS"):
        assert f"Record {name}" in page
    assert "selected" not in page.split('id="ratings"')[1].split("</section>")[0]
    answers = {f"item_{n}": "2" for n in range(1, 10)} | {"item_10": "6", "instrument": "madrs"}
    assert client.post(f"/clinic/patients/{patient.pk}/ratings/", answers).status_code == 302
    assert Assessment.objects.get(instrument="madrs").total == 24
    assert Alert.objects.get(kind="suicide_risk").severity == "urgent"


def test_an_unknown_or_incomplete_rating_is_a_message_not_a_server_error(client, nurse, patient) -> None:
    client.force_login(nurse)
    response = client.post(f"/clinic/patients/{patient.pk}/ratings/", {"instrument": "nope"}, follow=True)
    assert response.status_code == 200 and "instrument must be one of" in response.content.decode()
    response = client.post(
        f"/clinic/patients/{patient.pk}/ratings/", {"instrument": "hamd17", "item_1": "2"}, follow=True
    )
    assert response.status_code == 200 and "item 2" in response.content.decode()
    assert not Assessment.objects.filter(instrument="hamd17").exists()


def test_the_session_offers_the_ratings_and_refuses_an_unknown_one(client, running_session, nurse) -> None:
    client.force_login(nurse)
    page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
    assert "Record BPRS positive symptoms" in page and "Record MADRS" in page
    response = client.post(f"/clinic/sessions/{running_session.pk}/assessment/", {"instrument": "x"}, follow=True)
    assert response.status_code == 200 and "instrument must be one of" in response.content.decode()


def test_the_verifier_sees_both_weights_and_why_a_new_order_is_needed(
    client, course, prescriber, crna, nurse, patient
) -> None:
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )
    intake.do_record_intake(
        patient,
        diagnoses=["trd"],
        failed_trials=[
            {"drug": "sertraline", "weeks": 8, "adequate": True},
            {"drug": "bupropion", "weeks": 8, "adequate": True},
        ],
        contraindications={},
        weight_kg="80.0",
        height_cm="170",
        vitals=VITALS,
        pregnant=False,
        consent_given=True,
        at=MONDAY + timedelta(minutes=5),
        acting_user=nurse,
        confirm_weight=True,  # 14 % above the previous weight: the plausibility check asks first
    )
    client.force_login(crna)
    page = client.get(f"/clinic/orders/{order.pk}/verify/").content.decode()
    assert "Weight on the order" in page and "70.0 kg" in page and "80.0 kg" in page
    assert "differs from the order" in page and "new signed order is needed" in page
