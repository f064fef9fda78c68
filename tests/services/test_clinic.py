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


def _settings_reads(run) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as reads:
        run()
    return sum("kc_clinic_settings" in q["sql"] for q in reads.captured_queries)


def test_a_server_process_reuses_the_settings_row_for_a_few_seconds(transactional_db, monkeypatch) -> None:
    from ketamine_clinic.storage.models import ClinicSettings

    ClinicSettings.objects.get_or_create(singleton=1)
    now = [1000.0]
    monkeypatch.setattr(clinic.time, "monotonic", lambda: now[0])

    def request() -> str:
        with clinic.request_scope():
            return clinic.clinic_phone() + str(clinic.idle_timeout_minutes())

    assert _settings_reads(request) == 1
    assert _settings_reads(request) == 0  # the next request, a second later: this process's copy
    # another server process changes the row: seen here once the copy is CACHE_SECONDS old
    ClinicSettings.objects.filter(singleton=1).update(clinic_phone="+1 555 0100")
    assert request().startswith("+1 555 0100") is False
    now[0] += clinic.CACHE_SECONDS
    assert _settings_reads(request) == 1 and request().startswith("+1 555 0100")
    # a change through the services of this process is seen at once
    clinic.do_update_clinic_settings(clinic_name="North clinic", idle_timeout_minutes=20, acting_user=None)
    with clinic.request_scope():
        assert clinic.settings_row().clinic_name == "North clinic" and clinic.idle_timeout_minutes() == 20


def test_what_a_request_does_to_its_settings_row_stays_in_that_request(transactional_db) -> None:
    from django.db import transaction

    from ketamine_clinic.storage.models import ClinicSettings

    ClinicSettings.objects.get_or_create(singleton=1)
    with clinic.request_scope():
        clinic.settings_row().clinic_phone = "+1 555 0199"  # changed in memory, never saved
    with clinic.request_scope():
        assert clinic.clinic_phone() == ""
    # a row read inside a transaction that rolls back is not kept for the next request
    clinic._CACHE.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        ClinicSettings.objects.filter(singleton=1).update(clinic_phone="+1 555 0142")
        with clinic.request_scope():
            assert clinic.clinic_phone() == "+1 555 0142"
        raise RuntimeError("rolled back")
    with clinic.request_scope():
        assert clinic.clinic_phone() == ""


def test_a_settings_change_saves_the_fresh_row_not_a_cached_copy(transactional_db, monkeypatch) -> None:
    """Another process changed the thresholds a second ago; saving the clinic's name here
    must not write this process's older copy of them back."""
    from ketamine_clinic.storage.models import ClinicSettings

    ClinicSettings.objects.get_or_create(singleton=1)
    monkeypatch.setattr(clinic.time, "monotonic", lambda: 5000.0)
    with clinic.request_scope():
        clinic.settings_row()  # this process now holds a copy
    ClinicSettings.objects.filter(singleton=1).update(rule_overrides={"vitals_every_min": 10})
    with clinic.request_scope():
        clinic.do_update_clinic_settings(clinic_name="South clinic", idle_timeout_minutes=15, acting_user=None)
    row = ClinicSettings.objects.get(singleton=1)
    assert row.clinic_name == "South clinic" and row.rule_overrides == {"vitals_every_min": 10}
