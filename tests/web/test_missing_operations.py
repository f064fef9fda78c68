"""The operations messages told users about: cancel an order, complete or cancel a course,
add and retire chairs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.services import courses, orders, schedule
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, Chair, Course, EventType, Order, Visit
from tests.conftest import MONDAY


def test_a_prescriber_cancels_an_order_from_the_chart_and_writes_a_new_one(client, course, prescriber) -> None:
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )
    client.force_login(prescriber)
    assert "Cancel order" in client.get(f"/clinic/patients/{course.patient_id}/").content.decode()
    client.post(f"/clinic/orders/{order.pk}/cancel/", {"reason": "Wrong concentration"})
    assert Order.objects.get(pk=order.pk).cancelled_reason == "Wrong concentration"
    orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )


def test_an_order_already_given_cannot_be_cancelled(running_session, prescriber) -> None:
    with pytest.raises(Conflict, match="cannot be cancelled"):
        orders.do_cancel_order(running_session.order, reason="changed my mind", at=MONDAY, acting_user=prescriber)


def test_a_course_is_completed_or_cancelled_with_its_open_visits(client, course, prescriber, nurse) -> None:
    with pytest.raises(NotAllowed):
        courses.do_end_course(course, outcome="cancelled", reason="Patient moved away", at=MONDAY, acting_user=nurse)
    with pytest.raises(InvalidInput):
        courses.do_end_course(course, outcome="paused", reason="Patient moved away", at=MONDAY, acting_user=prescriber)
    client.force_login(prescriber)
    client.post(f"/clinic/courses/{course.pk}/end/", {"outcome": "cancelled", "reason": "Patient moved out of state"})
    assert Course.objects.get(pk=course.pk).status == "cancelled"
    assert not Visit.objects.filter(course=course, status="scheduled").exists()
    assert AuditEvent.objects.filter(event_type=EventType.COURSE_ENDED).exists()
    with pytest.raises(Conflict, match="already cancelled"):
        courses.do_end_course(
            course, outcome="completed", reason="Second attempt here", at=MONDAY, acting_user=prescriber
        )


def test_a_course_with_a_session_in_the_chair_cannot_end(running_session, prescriber) -> None:
    course = running_session.visit.course
    with pytest.raises(Conflict, match="open at the chair"):
        courses.do_end_course(
            course, outcome="completed", reason="Finished the series", at=MONDAY, acting_user=prescriber
        )


def test_the_admin_adds_and_retires_chairs(client, admin, course) -> None:
    client.force_login(admin)
    client.post("/admin-area/chairs/", {"op": "add", "name": "Recliner 3"})
    chair = Chair.objects.get(name="Recliner 3")
    client.post("/admin-area/chairs/", {"op": "retire", "chair": chair.pk})
    assert not Chair.objects.get(pk=chair.pk).active
    last = course.visits.order_by("starts_at").last()
    busy = last.chair
    far = MONDAY + timedelta(days=3650)
    Visit.objects.filter(pk=last.pk).update(starts_at=far, ends_at=far + timedelta(hours=2))
    with pytest.raises(Conflict, match="still has"):
        schedule.do_set_chair_active(busy, False, acting_user=admin)
