"""services.vitals: a reading is checked for typos, then judged under the clinic's thresholds."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import vitals
from ketamine_clinic.services.errors import InvalidInput
from tests.conftest import VITALS


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("systolic_mmhg", 400, "systolic mmhg must be from 50 to 260"),
        ("spo2_percent", 101, "spo2 percent must be from 50 to 100"),
        ("heart_rate_bpm", "fast", "heart rate bpm must be from 20 to 220"),
        ("diastolic_mmhg", True, "diastolic mmhg must be from 20 to 180"),
    ],
)
def test_an_impossible_reading_names_the_field_and_range(field, value, message) -> None:
    with pytest.raises(InvalidInput) as exc:
        vitals.check_vitals({**VITALS, field: value})
    assert exc.value.field == field and exc.value.message == message


def test_the_breathing_rate_may_be_left_out() -> None:
    assert vitals.check_vitals({**VITALS, "respiratory_rate": ""})["respiratory_rate"] is None


def test_a_normal_reading_raises_nothing_and_a_low_spo2_stops(db) -> None:
    assert vitals.vital_alerts(VITALS, VITALS, pre_dose=False, esketamine=False) == []
    found = vitals.vital_alerts(VITALS, {**VITALS, "spo2_percent": 84}, pre_dose=False, esketamine=False)
    assert [(a.severity, a.vital) for a in found] == [("stop", "spo2_percent")] and found[0].source


def test_before_the_dose_a_high_pressure_adds_the_deferral(db) -> None:
    found = vitals.vital_alerts(VITALS, {**VITALS, "systolic_mmhg": 185}, pre_dose=True, esketamine=False)
    assert "predose_bp" in {a.vital for a in found}
