"""services.schedule: chairs, free slots, moving and cancelling visits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.services import schedule
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from tests.conftest import MONDAY


def test_a_booked_chair_is_not_free_and_another_is_found(course, chairs) -> None:
    visit = course.visits.order_by("starts_at").first()
    assert not schedule.chair_is_free(visit.chair, visit.starts_at, visit.ends_at)
    assert schedule.chair_is_free(visit.chair, visit.starts_at, visit.ends_at, ignore=visit.pk)
    other = schedule.find_free_chair(visit.starts_at, visit.ends_at)
    assert other is not None and other != visit.chair


def test_a_retired_chair_takes_no_booking(chairs, admin) -> None:
    schedule.do_set_chair_active(chairs[0], False, acting_user=admin)
    schedule.do_set_chair_active(chairs[1], False, acting_user=admin)
    assert schedule.find_free_chair(MONDAY, MONDAY + timedelta(hours=2)) is None


def test_moving_a_visit_too_close_to_the_next_is_refused(course, front_desk) -> None:
    first, second = list(course.visits.order_by("starts_at"))[:2]
    with pytest.raises(Conflict):
        schedule.do_reschedule_visit(
            first,
            second.starts_at - timedelta(hours=1),  # 08:00, inside the clinic's hours
            reason="Patient asked for later",
            at=course.planned_at,
            acting_user=front_desk,
        )


def test_cancelling_needs_the_desk_and_a_reason(course, front_desk, nurse) -> None:
    visit = course.visits.order_by("starts_at").last()
    with pytest.raises(NotAllowed):
        schedule.do_cancel_visit(visit, reason="Patient is unwell today", acting_user=nurse)
    with pytest.raises(InvalidInput):
        schedule.do_cancel_visit(visit, reason="", acting_user=front_desk)
    assert (
        schedule.do_cancel_visit(visit, reason="Patient is unwell today", acting_user=front_desk).status == "cancelled"
    )


def test_a_visit_whose_session_is_open_cannot_be_moved_or_cancelled(running_session, front_desk) -> None:
    with pytest.raises(Conflict):
        schedule.do_cancel_visit(running_session.visit, reason="Patient is unwell today", acting_user=front_desk)
