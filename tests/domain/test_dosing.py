from __future__ import annotations

from decimal import Decimal

import pytest

from ketamine_clinic.domain.dosing import (
    HCL_TO_BASE,
    DoseLimitError,
    DoseLimits,
    plan_esketamine_dose,
    plan_infusion,
    suggest_titration,
)
from ketamine_clinic.domain.settings import ClinicRules


def test_the_standard_dose_for_70_kg() -> None:
    plan = plan_infusion(70, 0.5, 40, 1.0)
    assert (plan.dose_mg, plan.volume_ml, plan.rate_ml_per_h) == (Decimal("35.0"), Decimal("35.0"), Decimal("52.5"))
    assert plan.rate_mg_per_kg_per_h == Decimal("0.8")


def test_rounding_is_half_up_to_a_tenth() -> None:
    plan = plan_infusion(68.3, 0.5, 40, 1.0)  # 34.15 mg
    assert plan.dose_mg == Decimal("34.2")
    assert plan.rate_ml_per_h == Decimal("51.2")  # 51.225 -> 51.2


def test_a_vial_labelled_as_the_hydrochloride_is_converted_to_base() -> None:
    plan = plan_infusion(70, 0.5, 40, 1.0, labelled_as_hcl=True)
    assert plan.concentration_mg_per_ml == HCL_TO_BASE
    assert plan.volume_ml == Decimal("40.4")  # 35 mg base / 0.867 mg base per mL


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"weight_kg": 10}, "weight_kg", "weight kg must be from 30 to 250 kg"),
        ({"weight_kg": True}, "weight_kg", "weight kg must be from"),
        ({"dose_mg_per_kg": 1.2}, "dose_mg_per_kg", "dose mg per kg must be from 0.05 to 1 mg/kg"),
        ({"duration_min": 5}, "duration_min", "duration min must be from 10 to 240 min"),
        ({"concentration_mg_per_ml": 0}, "concentration_mg_per_ml", "concentration"),
        ({"weight_kg": 150, "dose_mg_per_kg": 1.0}, "dose_mg_per_kg", "above the session limit of 100 mg"),
        ({"duration_min": 15, "dose_mg_per_kg": 0.5}, "duration_min", "rate 2.0 mg/kg/h is above the limit"),
        ({"bag_volume_ml": 20}, "bag_volume_ml", "the dose needs 35.0 mL but the bag holds 20 mL"),
    ],
)
def test_every_hard_limit_names_its_field(kwargs: dict[str, float], field: str, message: str) -> None:
    args = {"weight_kg": 70, "dose_mg_per_kg": 0.5, "duration_min": 40, "concentration_mg_per_ml": 1.0, **kwargs}
    with pytest.raises(DoseLimitError, match=message) as error:
        plan_infusion(**args)  # type: ignore[arg-type]
    assert error.value.field == field


def test_a_bag_that_holds_the_dose_is_accepted() -> None:
    assert plan_infusion(70, 0.5, 40, 1.0, bag_volume_ml=50).bag_volume_ml == Decimal("50")


def test_limits_come_from_the_clinic_settings() -> None:
    strict = DoseLimits.from_rules(ClinicRules().with_(max_dose_mg_per_kg=0.6, titrated_dose_mg_per_kg=0.6))
    with pytest.raises(DoseLimitError):
        plan_infusion(70, 0.75, 45, 1.0, limits=strict)
    assert plan_infusion(70, 0.6, 45, 1.0, limits=strict).dose_mg == Decimal("42.0")


def test_esketamine_is_a_count_of_28_mg_devices() -> None:
    assert plan_esketamine_dose(56, first_dose=True).devices == 2
    assert plan_esketamine_dose(84).devices == 3 and plan_esketamine_dose(84).spacing_min == 5
    with pytest.raises(DoseLimitError, match="56 or 84"):
        plan_esketamine_dose(28)
    with pytest.raises(DoseLimitError, match="first esketamine dose must be 56"):
        plan_esketamine_dose(84, first_dose=True)


def test_titration_after_three_infusions_without_response() -> None:
    suggestion = suggest_titration(3, False, 0.5)
    assert suggestion is not None and suggestion.dose_mg_per_kg == 0.75 and suggestion.source == "[S12]"
    assert suggest_titration(2, False, 0.5) is None
    assert suggest_titration(3, True, 0.5) is None
    assert suggest_titration(3, None, 0.5) is None
    assert suggest_titration(4, False, 0.75) is None
