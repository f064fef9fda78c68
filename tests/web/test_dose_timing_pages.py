"""The day and interval guards over HTTP: refused with a message, moved by a prescriber."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from ketamine_clinic.services import orders, sessions
from ketamine_clinic.storage.models import InfusionSession, Visit


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


def test_opening_a_visit_on_the_wrong_day_is_refused_with_its_date(client, course, prescriber, crna, nurse) -> None:
    visit = course.visits.order_by("starts_at").first()
    _verified(visit, prescriber, crna)
    with time_machine.travel(visit.starts_at - timedelta(days=2), tick=False):
        client.force_login(nurse)
        response = client.post(f"/clinic/visits/{visit.pk}/session/", follow=True)
        text = response.content.decode()
    assert "not today" in text and "prescriber must move it" in text
    assert not InfusionSession.objects.filter(visit=visit).exists()


def test_a_prescriber_moves_the_visit_to_today_and_the_rn_may_not(client, course, prescriber, crna, nurse) -> None:
    visit = course.visits.order_by("starts_at").first()
    _verified(visit, prescriber, crna)
    with time_machine.travel(visit.starts_at - timedelta(days=2), tick=False):
        client.force_login(nurse)
        assert client.get(f"/clinic/visits/{visit.pk}/today/").status_code == 403
        client.force_login(prescriber)
        chart = client.get(f"/clinic/patients/{visit.patient_id}/").content.decode()
        assert f"/clinic/visits/{visit.pk}/today/" in chart
        short = client.post(f"/clinic/visits/{visit.pk}/today/", {"reason": "asap"})
        assert short.status_code == 200 and "10 to 200 characters" in short.content.decode()
        done = client.post(f"/clinic/visits/{visit.pk}/today/", {"reason": "Travelling on the booked day; agreed"})
        assert done.status_code == 302
        assert timezone.localdate(Visit.objects.get(pk=visit.pk).starts_at) == timezone.localdate()
        client.force_login(nurse)
        assert client.post(f"/clinic/visits/{visit.pk}/session/").status_code == 302
    assert InfusionSession.objects.filter(visit=visit).exists()


def test_closing_a_session_without_discharge_over_http(client, verified_order, nurse, front_desk) -> None:
    visit = verified_order.visit
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    client.force_login(front_desk)
    assert (
        client.post(f"/clinic/sessions/{session.pk}/close/", {"reason": "Patient left the clinic"}).status_code == 403
    )
    client.force_login(nurse)
    page = client.get(f"/clinic/sessions/{session.pk}/").content.decode()
    assert "Close without discharge" in page
    client.post(f"/clinic/sessions/{session.pk}/close/", {"reason": "Patient left the clinic before dosing"})
    assert InfusionSession.objects.get(pk=session.pk).status == "closed"
