"""services.sessions: the chair-side record: open, checklist, pump, vitals, notes, close."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.services import sessions
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import PumpEvent, VitalSign
from tests.conftest import VITALS


def test_opening_twice_returns_the_one_session_of_the_visit(verified_order, nurse) -> None:
    visit = verified_order.visit
    first = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    assert sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse).pk == first.pk


def test_the_pump_cannot_start_before_the_checklist(verified_order, nurse, crna) -> None:
    visit = verified_order.visit
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    with pytest.raises(Conflict):
        sessions.do_record_pump_event(
            session, "start", rate_ml_per_h=None, at=visit.starts_at + timedelta(minutes=1), acting_user=crna
        )
    assert not PumpEvent.objects.filter(session=session).exists()


def test_the_pump_never_runs_above_the_hourly_limit(running_session, crna) -> None:
    limit, _why = sessions.max_rate_ml_per_h(running_session.order)
    with pytest.raises(InvalidInput) as exc:
        sessions.do_record_pump_event(
            running_session,
            "rate",
            rate_ml_per_h=float(limit) + 1,
            at=running_session.started_at + timedelta(minutes=5),
            acting_user=crna,
        )
    assert exc.value.field == "rate_ml_per_h"


def test_a_corrected_reading_replaces_the_original_in_the_current_entries(running_session, nurse) -> None:
    t = running_session.started_at + timedelta(minutes=10)
    first = sessions.do_record_vitals(running_session, {**VITALS, "heart_rate_bpm": 170}, at=t, acting_user=nurse)
    sessions.do_amend_vitals(first, VITALS, reason="Typed 170 for 70 by mistake", at=t, acting_user=nurse)
    current = sessions.current_entries(VitalSign, running_session)
    assert first.pk not in {v.pk for v in current} and current[-1].heart_rate_bpm == VITALS["heart_rate_bpm"]
    assert VitalSign.objects.filter(pk=first.pk).exists()  # never overwritten


def test_the_front_desk_records_nothing_at_the_chair(running_session, front_desk) -> None:
    with pytest.raises(NotAllowed):
        sessions.do_record_vitals(running_session, VITALS, at=running_session.started_at, acting_user=front_desk)


def test_administered_dose_follows_the_pump_events(running_session) -> None:
    ten = sessions.administered_mg_at(running_session, running_session.started_at + timedelta(minutes=10))
    twenty = sessions.administered_mg_at(running_session, running_session.started_at + timedelta(minutes=20))
    assert 0 < ten < twenty <= float(running_session.order.dose_mg)
