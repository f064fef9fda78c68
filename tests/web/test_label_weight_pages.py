"""Issue 12 / issue 16 item 1 on the pages: weight in kg or lb with a confirmation for a
slip, the weight update without a new intake, the dosing weight at BMI >= 30 and the soft
dose warnings, the oral antidepressant of an MDSI course."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ketamine_clinic.services import intake
from ketamine_clinic.storage.models import Intake, Order
from tests.conftest import VITALS


def _intake_post(**kw: str) -> dict[str, str]:
    data = {
        "diagnoses": "trd",
        "weight": "180",
        "weight_unit": "lb",
        "height_cm": "175",
        **{k: str(v) for k, v in VITALS.items()},
        "trial_0_drug": "sertraline",
        "trial_0_weeks": "8",
        "trial_0_adequate": "on",
        "trial_1_drug": "bupropion",
        "trial_1_weeks": "8",
        "trial_1_adequate": "on",
        "consent_given": "on",
    }
    data.update(kw)
    return data


def test_the_intake_form_takes_lb_and_shows_both_units(client, nurse, patient) -> None:
    client.force_login(nurse)
    form = client.get(f"/clinic/patients/{patient.pk}/intake/").content.decode()
    assert 'name="weight_unit"' in form and 'name="confirm_weight"' in form
    response = client.post(f"/clinic/patients/{patient.pk}/intake/", _intake_post())
    assert response.status_code == 302
    row = Intake.objects.get(patient=patient)
    assert (row.weight_kg, row.weight_unit) == (Decimal("81.6"), "lb")
    page = client.get(response["Location"]).content.decode()
    assert "81.6 kg (179.9 lb)" in page and "entered as 180.0 lb" in page and "BMI 26.6" in page


def test_a_kg_slip_is_caught_on_the_page_and_kept_only_when_confirmed(client, nurse, patient) -> None:
    client.force_login(nurse)
    client.post(f"/clinic/patients/{patient.pk}/intake/", _intake_post())
    url = f"/clinic/patients/{patient.pk}/weight/"
    page = client.get(url).content.decode()
    assert "last 81.6 kg (179.9 lb)" in page
    text = client.post(url, {"weight": "180", "weight_unit": "kg"}).content.decode()
    assert "entered in kg instead of lb" in text and "I have re-checked this weight" in text
    assert Intake.objects.filter(patient=patient).count() == 1
    assert client.post(url, {"weight": "180", "weight_unit": "kg", "confirm_weight": "on"}).status_code == 302
    assert Intake.objects.filter(patient=patient).count() == 2
    chart = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "180.0 kg (396.8 lb)" in chart and "Update weight or vitals" in chart


def test_the_order_page_offers_ideal_and_adjusted_weight_at_bmi_30(client, prescriber, nurse, course) -> None:
    intake.do_update_weight(
        course.patient, weight="140", height_cm="180", confirm_weight=True, at=course.planned_at, acting_user=nurse
    )
    client.force_login(prescriber)
    visit = course.visits.order_by("starts_at").first()
    page = client.get(f"/clinic/visits/{visit.pk}/order/").content.decode()
    assert "Ideal body weight" in page and "Adjusted body weight" in page and "BMI 30 or more" in page
    capped = client.post(
        f"/clinic/visits/{visit.pk}/order/",
        {"dose_mg_per_kg": "0.75", "duration_min": "40", "concentration_mg_per_ml": "1", "weight_basis": "actual"},
    ).content.decode()
    assert "allows at most 0.71 mg/kg" in capped and "ideal or adjusted body weight" in capped
    warned = client.post(
        f"/clinic/visits/{visit.pk}/order/",
        {"dose_mg_per_kg": "0.75", "duration_min": "40", "concentration_mg_per_ml": "1", "weight_basis": "ideal"},
    ).content.decode()
    assert "above the course&#x27;s step of 0.5 mg/kg" in warned and not Order.objects.exists()
    done = client.post(
        f"/clinic/visits/{visit.pk}/order/",
        {
            "dose_mg_per_kg": "0.75",
            "duration_min": "40",
            "concentration_mg_per_ml": "1",
            "weight_basis": "ideal",
            "confirm_warnings": "on",
        },
    )
    assert done.status_code == 302
    order = Order.objects.get()
    assert (order.weight_basis, order.dosing_weight_kg, order.dose_mg) == (
        "ideal",
        Decimal("70.5"),
        Decimal("52.9"),
    )  # female: 45.5 + 2.3 x 10.87


def test_an_mdsi_course_without_the_oral_antidepressant_is_refused_on_the_page(
    client, prescriber, recorded_intake, patient, chairs
) -> None:
    intake.do_decide_eligibility(
        recorded_intake, decision="eligible", note="", at=recorded_intake.recorded_at, acting_user=prescriber
    )
    client.force_login(prescriber)
    data = {"protocol": "esketamine_mdsi", "start_date": "2026-11-02", "start_time": "09:00"}
    text = client.post(f"/clinic/patients/{patient.pk}/course/", data).content.decode()
    assert "oral antidepressant is required" in text and not patient.courses.exists()


def test_the_induction_page_of_an_esketamine_course_offers_no_titration(
    client, prescriber, recorded_intake, patient, chairs
) -> None:
    from ketamine_clinic.services import courses

    intake.do_decide_eligibility(
        recorded_intake, decision="eligible", note="", at=recorded_intake.recorded_at, acting_user=prescriber
    )
    course = courses.do_plan_course(
        patient,
        protocol="esketamine_trd",
        start_date=recorded_intake.recorded_at.date() + timedelta(days=7),
        at=recorded_intake.recorded_at,
        acting_user=prescriber,
    )
    course.visits.update(status="done")
    client.force_login(prescriber)
    page = client.get(f"/clinic/courses/{course.pk}/decision/").content.decode()
    assert 'value="maintenance"' in page and 'value="refer"' in page
    assert 'value="extend"' not in page and "First booster in" not in page


def test_a_ptsd_course_charts_the_pcl5_with_its_30_percent_band(
    client, prescriber, nurse, recorded_intake, patient, chairs
) -> None:
    from ketamine_clinic.services import courses, measures

    intake.do_decide_eligibility(
        recorded_intake, decision="eligible", note="", at=recorded_intake.recorded_at, acting_user=prescriber
    )
    measures.do_record_assessment(patient, "pcl5", [3] * 20, at=recorded_intake.recorded_at, acting_user=nurse)
    course = courses.do_plan_course(
        patient,
        protocol="iv_ptsd",
        start_date=recorded_intake.recorded_at.date() + timedelta(days=7),
        baseline_score=60,
        at=recorded_intake.recorded_at,
        acting_user=prescriber,
    )
    measures.do_record_assessment(
        patient, "pcl5", [2] * 20, at=recorded_intake.recorded_at + timedelta(days=1), acting_user=nurse
    )
    client.force_login(prescriber)
    page = client.get(f"/clinic/courses/{course.pk}/decision/").content.decode()
    assert "PCL-5 during the course" in page and "response (≥ 30 % drop)" in page and "PHQ-9 during" not in page
