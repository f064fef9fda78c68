"""web.views.desk: the front desk's week and its visit page."""

from __future__ import annotations


def test_the_week_shows_the_booked_visits_of_that_week(client, front_desk, course) -> None:
    first = course.visits.order_by("starts_at").first()
    client.force_login(front_desk)
    page = client.get(f"/desk/?week={first.starts_at.date().isoformat()}").content.decode()
    assert "Example" in page  # the patient's family name on the week's visits


def test_a_nonsense_week_is_not_a_server_error(client, front_desk) -> None:
    client.force_login(front_desk)
    for week in ("yesterday", "0001-01-01", "9999-12-31", "2026-02-30"):
        assert client.get(f"/desk/?week={week}").status_code in (200, 400), week


def test_a_nurse_does_not_run_the_desk(client, nurse) -> None:
    client.force_login(nurse)
    assert client.get("/desk/").status_code in (302, 403)
