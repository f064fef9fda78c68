"""services.dosing: doses under the clinic's hard limits, and the titration suggestion."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import clinic, dosing
from ketamine_clinic.services.errors import InvalidInput


def test_the_standard_dose_plans_volume_and_rate(db) -> None:
    plan = dosing.plan_dose(weight_kg=70, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1)
    assert (plan.dose_mg, plan.volume_ml, plan.rate_ml_per_h) == (35, 35, 52.5)


def test_a_dose_above_the_hard_limit_names_the_field(db) -> None:
    with pytest.raises(InvalidInput) as exc:
        dosing.plan_dose(weight_kg=70, dose_mg_per_kg=5, duration_min=40, concentration_mg_per_ml=1)
    assert exc.value.field == "dose_mg_per_kg" and "mg/kg" in exc.value.message


def test_a_lowered_clinic_limit_applies_at_once(admin) -> None:
    clinic.do_update_clinic_rules(
        {"max_dose_mg_per_session": 30}, reason="Lower ceiling for this clinic", acting_user=None
    )
    with pytest.raises(InvalidInput):
        dosing.plan_dose(weight_kg=70, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1)
    assert "At most 30 mg per session" in dosing.dose_limit_summary()


def test_the_preview_explains_instead_of_failing(verified_order) -> None:
    visit = verified_order.visit
    ok = dosing.preview_dose(visit, {"dose_mg_per_kg": "0.5", "duration_min": "40", "concentration_mg_per_ml": "1"})
    assert ok["ok"] and ok["dose_mg"] == 35
    bad = dosing.preview_dose(visit, {"dose_mg_per_kg": "abc", "duration_min": "40", "concentration_mg_per_ml": "1"})
    assert bad["ok"] is False and bad["message"]


def test_no_titration_is_suggested_before_any_score_of_the_course(course) -> None:
    visit = course.visits.order_by("starts_at").first()
    assert dosing.titration_suggestion(visit) is None and dosing.titration_note(visit) == ""


def test_esketamine_never_gets_a_mg_per_kg_suggestion(course) -> None:
    course.protocol = "esketamine_trd"
    course.save(update_fields=["protocol"])
    assert dosing.titration_suggestion(course.visits.order_by("starts_at").first()) is None
