"""services.discharge: the patient leaves only when the records say it is safe."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.services import discharge, sessions
from ketamine_clinic.services.errors import InvalidInput
from tests.conftest import VITALS

ALDRETE_OK = [2, 2, 2, 2, 2]
PADSS_OK = [2, 2, 2, 2, 2]


def _stopped(running_session, nurse, crna):  # type: ignore[no-untyped-def]
    t = running_session.started_at
    sessions.do_record_vitals(running_session, VITALS, at=t + timedelta(minutes=40), acting_user=nurse)
    sessions.do_record_pump_event(
        running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=41), acting_user=crna
    )
    running_session.refresh_from_db()
    return t + timedelta(minutes=41)


def test_a_full_post_dose_reading_and_the_observation_time_make_the_patient_ready(running_session, nurse, crna) -> None:
    stopped = _stopped(running_session, nurse, crna)
    leave = stopped + timedelta(minutes=discharge.min_observation_min(running_session) + 1)
    sessions.do_record_vitals(running_session, VITALS, at=leave - timedelta(minutes=5), acting_user=nurse)
    verdict = discharge.discharge_verdict(
        running_session,
        aldrete=ALDRETE_OK,
        padss=PADSS_OK,
        escort_present=True,
        dissociation_resolved=True,
        aftercare_given=True,
        at=leave,
    )
    assert verdict.ready, verdict.reasons


def test_without_a_reading_after_the_dose_the_patient_waits(running_session, nurse, crna) -> None:
    stopped = _stopped(running_session, nurse, crna)
    verdict = discharge.discharge_verdict(
        running_session,
        aldrete=ALDRETE_OK,
        padss=PADSS_OK,
        escort_present=True,
        dissociation_resolved=True,
        aftercare_given=True,
        at=stopped + timedelta(minutes=90),
    )
    assert not verdict.ready and any("vital" in r.lower() or "reading" in r.lower() for r in verdict.reasons)


def test_no_escort_no_discharge(running_session, nurse, crna) -> None:
    stopped = _stopped(running_session, nurse, crna)
    leave = stopped + timedelta(minutes=90)
    sessions.do_record_vitals(running_session, VITALS, at=leave - timedelta(minutes=5), acting_user=nurse)
    verdict = discharge.discharge_verdict(
        running_session,
        aldrete=ALDRETE_OK,
        padss=PADSS_OK,
        escort_present=False,
        dissociation_resolved=True,
        aftercare_given=True,
        at=leave,
    )
    assert not verdict.ready and any("escort" in r.lower() for r in verdict.reasons)


def test_an_unanswered_score_item_is_named(running_session) -> None:
    with pytest.raises(InvalidInput) as exc:
        discharge.discharge_verdict(
            running_session,
            aldrete=[2, 2, None, 2, 2],
            padss=PADSS_OK,
            escort_present=True,
            dissociation_resolved=True,
            aftercare_given=True,
            at=running_session.started_at,
        )
    assert exc.value.field == "aldrete_2" and "Aldrete item 3" in exc.value.message
