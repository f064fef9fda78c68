"""services.intake: the intake, its eligibility screen and the prescriber's decision."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import intake
from ketamine_clinic.services.errors import InvalidInput, NotAllowed
from tests.conftest import MONDAY, VITALS

TRIALS = [{"drug": "sertraline", "weeks": 8, "adequate": True}, {"drug": "bupropion", "weeks": 8, "adequate": True}]


def _record(patient, who, **kw):  # type: ignore[no-untyped-def]
    args = {
        "diagnoses": ["trd"],
        "failed_trials": TRIALS,
        "contraindications": {},
        "weight_kg": "70",
        "height_cm": "170",
        "vitals": VITALS,
        "pregnant": False,
        "consent_given": True,
        **kw,
    }
    return intake.do_record_intake(patient, **args, at=MONDAY, acting_user=who)


def test_an_intake_is_screened_and_its_vitals_become_the_baseline(patient, nurse) -> None:
    row = _record(patient, nurse)
    assert row.screen_status in {"eligible", "needs_review"}
    assert intake.latest_intake(patient) == row
    assert intake.baseline_vitals(patient)["systolic_mmhg"] == VITALS["systolic_mmhg"]


@pytest.mark.parametrize(
    ("field", "value"), [("weight_kg", "700"), ("weight_kg", "heavy"), ("height_cm", "20"), ("diagnoses", [])]
)
def test_bad_input_names_the_field_and_nothing_is_saved(patient, nurse, field, value) -> None:
    with pytest.raises(InvalidInput) as exc:
        _record(patient, nurse, **{field: value})
    assert exc.value.field == field
    assert intake.latest_intake(patient) is None


def test_the_front_desk_records_no_intake(patient, front_desk) -> None:
    with pytest.raises(NotAllowed):
        _record(patient, front_desk)


def test_every_contraindication_question_has_a_code_and_text() -> None:
    questions = intake.contraindication_questions()
    assert questions and all(code and text for code, text in questions)
