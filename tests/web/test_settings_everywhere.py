"""One home for every clinical number: a changed setting shows and applies everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from ketamine_clinic.domain.settings import SETTINGS
from ketamine_clinic.services import clinic, schedule, sessions
from ketamine_clinic.services.errors import Conflict
from tests.conftest import VITALS


def test_the_vitals_interval_setting_reaches_the_session_page_and_today(
    client, running_session, nurse, crna, admin
) -> None:
    clinic.do_update_clinic_rules({"vitals_every_dosing_min": 5, "vitals_every_min": 20}, acting_user=None)
    t = running_session.started_at
    sessions.do_record_vitals(running_session, VITALS, at=t + timedelta(minutes=1), acting_user=nurse)
    client.force_login(nurse)
    with time_machine.travel(t + timedelta(minutes=2), tick=False):
        page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
        assert "every 5 min while dosing" in page
        today = client.get("/clinic/").content.decode()
        due = (t + timedelta(minutes=6)).astimezone().strftime("%H:%M")
        assert due in today
    sessions.do_record_pump_event(
        running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=3), acting_user=crna, reason="Nausea"
    )
    with time_machine.travel(t + timedelta(minutes=4), tick=False):
        page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
        assert "every 20 min after dosing" in page


def test_the_observation_setting_reaches_the_discharge_form(client, running_session, crna, admin) -> None:
    clinic.do_update_clinic_rules({"min_observation_iv_min": 90}, acting_user=None)
    t = running_session.started_at
    sessions.do_record_pump_event(
        running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=40), acting_user=crna
    )
    client.force_login(crna)
    page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
    assert "(minimum 90 min)" in page


def test_the_minimum_interval_setting_reaches_rescheduling(course, front_desk, admin) -> None:
    first, second = list(course.visits.order_by("starts_at"))[:2]
    clinic.do_update_clinic_rules({"min_hours_between_infusions": 96}, acting_user=None)
    with pytest.raises(Conflict, match="at least 96 hours apart"):
        schedule.do_reschedule_visit(
            second,
            first.starts_at + timedelta(hours=72),
            reason="Patient asked",
            at=course.planned_at,
            acting_user=front_desk,
        )


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_read_from_its_one_home_and_shown(client, admin, name) -> None:
    """Each setting changed in the clinic's settings row is what the services apply
    (``clinic.clinic_rules``) and what the admin's settings page shows."""
    from ketamine_clinic.domain.settings import ClinicRules, SettingError

    spec = SETTINGS[name]
    candidates = [spec.high, spec.low, (spec.low + spec.high) / 2, (spec.default + spec.high) / 2]
    value = None
    for candidate in candidates:
        if candidate == spec.default:
            continue
        try:
            ClinicRules().with_(**{name: candidate})
        except SettingError:
            continue
        value = candidate
        break
    assert value is not None, name
    clinic.do_update_clinic_rules({name: value}, acting_user=None)
    assert getattr(clinic.clinic_rules(), name) == value
    client.force_login(admin)
    page = client.get("/admin-area/settings/").content.decode()
    row = page.split(f'id="rule_{name}"')[1].split(">")[0]
    shown = float(row.split('value="')[1].split('"')[0])
    assert shown == value, (name, row)
