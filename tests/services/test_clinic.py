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


def test_within_a_request_the_settings_row_is_read_once_and_again_after_a_write(db) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketamine_clinic.storage.models import ClinicSettings

    ClinicSettings.objects.get_or_create(singleton=1)
    with clinic.request_scope():
        with CaptureQueriesContext(connection) as reads:
            clinic.clinic_phone(), clinic.clinic_hours(), clinic.clinic_rules(), clinic.idle_timeout_minutes()
        assert sum("kc_clinic_settings" in q["sql"] for q in reads.captured_queries) == 1
        clinic.do_update_clinic_rules({"vitals_every_min": 10}, reason="Closer watch after dosing", acting_user=None)
        assert clinic.vitals_interval_min() == 10  # the write is seen in the same request
        ClinicSettings.objects.filter(singleton=1).update(clinic_phone="+1 555 0100")  # no save signal
        assert clinic.clinic_phone() == ""  # read once: a bulk update bypassing the services is not seen...
    assert clinic.clinic_phone() == "+1 555 0100"  # ...until the next request; outside one, every read is fresh
