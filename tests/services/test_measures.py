"""services.measures: questionnaires scored, stored and escalated in one step."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import measures
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import Alert
from tests.conftest import MONDAY


def test_a_phq9_is_scored_and_kept(patient, nurse) -> None:
    row = measures.do_record_assessment(patient, "phq9", [1] * 8 + [0], at=MONDAY, acting_user=nurse)
    assert row.total == 8 and measures.latest_score(patient, "phq9") == 8
    assert not Alert.objects.filter(patient=patient).exists()


def test_a_positive_item_9_raises_the_suicide_risk_alert_with_the_score(patient, nurse) -> None:
    measures.do_record_assessment(patient, "phq9", [1] * 8 + [2], at=MONDAY, acting_user=nurse)
    alert = Alert.objects.get(patient=patient, kind="suicide_risk")
    assert alert.severity == "urgent"


def test_an_unknown_instrument_or_answer_is_refused_by_field(patient, nurse) -> None:
    with pytest.raises(InvalidInput):
        measures.do_record_assessment(patient, "phq99", [1] * 9, at=MONDAY, acting_user=nurse)
    with pytest.raises(InvalidInput) as exc:
        measures.do_record_assessment(patient, "phq9", [1] * 8 + [7], at=MONDAY, acting_user=nurse)
    assert "9" in (exc.value.field or "") + exc.value.message
    assert not patient.assessments.exists()


def test_every_form_item_has_labelled_options() -> None:
    form = measures.instrument_form("phq9")
    assert len(form["items"]) == 9 and all(len(i["options"]) == 4 and i["text"] for i in form["items"])
    assert measures.instrument_name("gad7") and measures.instrument_max("phq9") == 27
    assert {c for c, _ in measures.patient_questionnaires()} >= {"phq9", "gad7"}
