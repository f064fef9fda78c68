"""Races on PostgreSQL: two tabs and two clinicians opening sessions for one patient."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.services import orders, schedule, sessions
from ketamine_clinic.services.errors import Conflict
from ketamine_clinic.storage.models import InfusionSession
from tests.services.test_alert_races import _race

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def _verified(visit, prescriber, crna):  # type: ignore[no-untyped-def]
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=0.5,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=visit.starts_at - timedelta(days=1),
        acting_user=prescriber,
    )
    orders.do_verify_order(order, at=visit.starts_at - timedelta(hours=20), acting_user=crna)


def test_two_tabs_opening_one_visit_make_one_session(course, prescriber, crna, nurse) -> None:
    visit = course.visits.order_by("starts_at").first()
    _verified(visit, prescriber, crna)
    results: list[InfusionSession] = []
    errors = _race([lambda: results.append(sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse))] * 4)
    assert errors == [] and InfusionSession.objects.filter(visit=visit).count() == 1
    assert len({s.pk for s in results}) == 1


def test_two_clinicians_opening_two_visits_of_one_patient_open_one(course, prescriber, crna, nurse) -> None:
    first, second = list(course.visits.order_by("starts_at"))[:2]
    _verified(first, prescriber, crna)
    _verified(second, prescriber, crna)
    schedule.do_move_visit_to_today(
        second, reason="Both on one day for this race test", at=first.starts_at, acting_user=prescriber
    )
    second.refresh_from_db()
    errors = _race(
        [
            lambda: sessions.do_open_session(first, at=first.starts_at + timedelta(minutes=1), acting_user=nurse),
            lambda: sessions.do_open_session(second, at=first.starts_at + timedelta(minutes=1), acting_user=crna),
        ]
    )
    assert len(errors) == 1 and isinstance(errors[0], Conflict) and "Another session" in errors[0].message
    assert InfusionSession.objects.filter(patient=first.patient).count() == 1
