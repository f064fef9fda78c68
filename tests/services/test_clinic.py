"""services.clinic: the clinic's settings row and its clinical thresholds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.services import clinic
from ketamine_clinic.services.errors import InvalidInput, NotAllowed


def test_the_cited_defaults_apply_until_changed(db) -> None:
    rules = clinic.clinic_rules()
    assert rules.max_dose_mg_per_kg > 0 and clinic.min_gap_between_doses() >= timedelta(hours=20)
    assert clinic.vitals_interval_min(dosing=True) <= clinic.vitals_interval_min()
    assert clinic.rule_overrides() == {}


def test_a_threshold_change_is_range_checked_and_applies_at_once(db) -> None:
    with pytest.raises(InvalidInput) as exc:
        clinic.do_update_clinic_rules({"sbp_pause_mmhg": 400}, reason="Typo test", acting_user=None)
    assert exc.value.field == "sbp_pause_mmhg"
    clinic.do_update_clinic_rules({"vitals_every_min": 10}, reason="Closer watch after dosing", acting_user=None)
    assert clinic.vitals_interval_min() == 10 and clinic.rule_overrides() == {"vitals_every_min": 10}


def test_an_admin_proposes_and_only_the_medical_director_decides(admin, prescriber) -> None:
    clinic.do_propose_clinic_rules({"vitals_every_min": 10}, reason="Closer watch after dosing", acting_user=admin)
    assert clinic.vitals_interval_min() == 15  # not before approval
    with pytest.raises(NotAllowed):
        clinic.do_decide_rule_proposal(approve=True, reason="Agreed by the team", acting_user=prescriber)
    prescriber.is_medical_director = True
    prescriber.save()
    clinic.do_decide_rule_proposal(approve=True, reason="Agreed by the team", acting_user=prescriber)
    assert clinic.vitals_interval_min() == 10


def test_general_settings_name_the_bad_field(admin) -> None:
    with pytest.raises(InvalidInput) as exc:
        clinic.do_update_clinic_settings(clinic_name="", idle_timeout_minutes=15, acting_user=admin)
    assert exc.value.field == "clinic_name"
    with pytest.raises(InvalidInput) as exc:
        clinic.do_update_clinic_settings(clinic_name="A", idle_timeout_minutes=999, acting_user=admin)
    assert exc.value.field == "idle_timeout_minutes"
