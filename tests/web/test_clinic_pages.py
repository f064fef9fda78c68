"""Every clinic page: who may open it, that another patient's data stays hidden, that a
form error names the field, and that the main pages run a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from ketamine_clinic.domain import chairside
from ketamine_clinic.domain.policy import ROLES
from ketamine_clinic.services import measures
from ketamine_clinic.storage.models import Alert, Order
from tests.conftest import MONDAY, complete_checklist
from tests.support.rems import rems_ready

STAFF_READ = {"prescriber", "crna", "rn"}


def _urls(course, verified_order, running_session, recorded_intake):  # type: ignore[no-untyped-def]
    patient_id = course.patient_id
    visit = course.visits.order_by("starts_at")[1]
    vital = running_session.checklist["pre_dose_vital_id"]
    return {
        f"/clinic/patients/{patient_id}/": STAFF_READ,
        f"/clinic/patients/{patient_id}/intake/": {"prescriber", "rn"},
        f"/clinic/patients/{patient_id}/intake/{recorded_intake.pk}/": STAFF_READ,
        f"/clinic/patients/{patient_id}/course/": {"prescriber"},
        f"/clinic/courses/{course.pk}/decision/": STAFF_READ,
        f"/clinic/visits/{visit.pk}/order/": {"prescriber"},
        f"/clinic/orders/{verified_order.pk}/verify/": {"crna", "rn"},
        f"/clinic/sessions/{running_session.pk}/": STAFF_READ,
        f"/clinic/sessions/{running_session.pk}/vitals/{vital}/amend/": {"crna", "rn"},
        "/clinic/alerts/": STAFF_READ,
        "/desk/patients/new/": {"front_desk"},
    }


@pytest.mark.parametrize("role", [r.value for r in ROLES])
def test_each_clinic_page_opens_only_for_its_roles(
    client, personas, role, course, verified_order, running_session, recorded_intake
) -> None:
    client.force_login(personas[role])
    for url, roles in _urls(course, verified_order, running_session, recorded_intake).items():
        response = client.get(url)
        assert response.status_code == (200 if role in roles else 403), (url, role, response.status_code)


@pytest.mark.parametrize(
    "url",
    [
        "/clinic/patients/999999/",
        "/clinic/patients/999999/intake/",
        "/clinic/courses/999999/decision/",
        "/clinic/visits/999999/order/",
        "/clinic/orders/999999/verify/",
        "/clinic/sessions/999999/",
        "/clinic/alerts/999999/",
        "/desk/visits/999999/",
    ],
)
def test_a_missing_record_is_a_404_for_every_role_that_may_open_the_page(client, personas, url) -> None:
    opened = 0
    for role in ("prescriber", "crna", "rn", "front_desk"):
        client.force_login(personas[role])
        status = client.get(url).status_code
        assert status in (403, 404), (url, role, status)
        opened += status == 404
    assert opened >= 1


def test_another_patients_intake_id_under_my_patient_is_a_404(client, prescriber, recorded_intake, stranger) -> None:
    client.force_login(prescriber)
    assert client.get(f"/clinic/patients/{stranger.pk}/intake/{recorded_intake.pk}/").status_code == 404


def test_a_patient_sees_only_their_own_care_page(client, course, stranger, patient_user) -> None:
    client.force_login(stranger.user)
    page = client.get("/me/").content.decode()
    assert "Sam Stranger" in page and "Pat Example" not in page
    client.force_login(patient_user)
    page = client.get("/me/").content.decode()
    assert "Pat Example" in page and "Sam Stranger" not in page


def test_the_patient_questionnaire_saves_and_raises_the_item9_alert(client, patient_user, patient) -> None:
    client.force_login(patient_user)
    form = client.get("/me/questionnaires/phq9/").content.decode()
    assert "Thoughts that you would be better off dead" in form
    answers = {f"item_{i}": "1" for i in range(1, 10)}
    response = client.post("/me/questionnaires/phq9/", answers)
    assert response.status_code == 200
    text = response.content.decode()
    assert "988" in text and "911" in text and "emergency department" in text
    assert "not watched in real time" in text
    assert Alert.objects.filter(patient=patient, kind="suicide_risk", acknowledged_at__isnull=True).exists()


def test_a_missing_answer_names_the_item(client, patient_user, patient) -> None:
    client.force_login(patient_user)
    answers = {f"item_{i}": "1" for i in range(1, 9)}
    text = client.post("/me/questionnaires/phq9/", answers).content.decode()
    assert "item 9" in text and "0 to 3" in text


def test_an_order_above_the_hard_limit_is_refused_with_the_range(client, prescriber, course) -> None:
    client.force_login(prescriber)
    visit = course.visits.order_by("starts_at").first()
    text = client.post(
        f"/clinic/visits/{visit.pk}/order/",
        {
            "dose_mg_per_kg": "1.5",
            "duration_min": "40",
            "concentration_mg_per_ml": "1",
        },
    ).content.decode()
    assert "dose mg per kg must be from 0.05 to 1 mg/kg" in text
    assert not Order.objects.exists()


def test_the_session_page_draws_the_predicted_concentration(client, crna, running_session) -> None:
    client.force_login(crna)
    text = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
    assert "<svg" in text and "Predicted plasma" in text and "model domino" in text
    chart = client.get(f"/clinic/sessions/{running_session.pk}/?part=chart", HTTP_HX_REQUEST="true").content.decode()
    assert chart.lstrip().startswith("<svg")


def test_vitals_posted_from_the_session_page_are_recorded_and_alerted(client, nurse, running_session) -> None:
    client.force_login(nurse)
    response = client.post(
        f"/clinic/sessions/{running_session.pk}/vitals/",
        {
            "systolic_mmhg": "210",
            "diastolic_mmhg": "100",
            "heart_rate_bpm": "80",
            "spo2_percent": "97",
        },
    )
    assert response.status_code == 302
    assert Alert.objects.filter(kind="vital_sign", severity="stop").exists()
    bad = client.post(
        f"/clinic/sessions/{running_session.pk}/vitals/",
        {
            "systolic_mmhg": "400",
            "diastolic_mmhg": "100",
            "heart_rate_bpm": "80",
            "spo2_percent": "97",
        },
    )
    assert (
        bad.status_code == 422
        and "Systolic (mmHg): Ensure this value is less than or equal to 260" in bad.content.decode()
    )


# patient pages: + 3 for the patient banner (intake weight, course with its visit counts, open
# alerts) and + 1 for the clinic's verifying roles, whatever the amount of data
@pytest.mark.parametrize(("url_name", "limit"), [("clinic", 40), ("chart", 34), ("session", 44)])
def test_main_pages_run_a_bounded_number_of_queries(
    client, prescriber, course, running_session, nurse, django_assert_max_num_queries, url_name, limit
) -> None:
    for day in range(5):
        measures.do_record_assessment(
            course.patient, "phq9", [1] * 8 + [0], at=MONDAY - timedelta(days=day), acting_user=nurse
        )
    client.force_login(prescriber)
    url = {
        "clinic": "/clinic/",
        "chart": f"/clinic/patients/{course.patient_id}/",
        "session": f"/clinic/sessions/{running_session.pk}/",
    }[url_name]
    client.get(url)
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


def test_a_signed_note_is_amended_and_the_original_stays(client, nurse, crna, running_session) -> None:
    from ketamine_clinic.storage.models import SessionNote

    client.force_login(nurse)
    client.post(f"/clinic/sessions/{running_session.pk}/notes/", {"text": "Tolerated well, no nausea."})
    original = SessionNote.objects.get()
    response = client.post(
        f"/clinic/sessions/{running_session.pk}/notes/{original.pk}/amend/",
        {"text": "Tolerated well; mild nausea at 20 min.", "amend_reason": "nausea left out"},
    )
    assert response.status_code == 302
    page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
    assert "Tolerated well, no nausea." in page and "mild nausea at 20 min" in page and "amended below" in page
    again = client.get(f"/clinic/sessions/{running_session.pk}/notes/{original.pk}/amend/")
    assert again.status_code == 404
    assert SessionNote.objects.get(pk=original.pk).text == "Tolerated well, no nausea."


def test_the_dashboard_runs_the_same_queries_for_one_course_or_many(
    client, prescriber, nurse, course, stranger, chairs
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketamine_clinic.services import courses, intake

    client.force_login(prescriber)
    client.get("/clinic/")
    with CaptureQueriesContext(connection) as one:
        client.get("/clinic/")
    row = intake.do_record_intake(
        stranger,
        diagnoses=["trd"],
        failed_trials=[{"adequate": True}, {"adequate": True}],
        contraindications={},
        weight_kg=80,
        height_cm=175,
        vitals={"systolic_mmhg": 120, "diastolic_mmhg": 80, "heart_rate_bpm": 70, "spo2_percent": 98},
        pregnant=False,
        consent_given=True,
        at=MONDAY,
        acting_user=nurse,
    )
    intake.do_decide_eligibility(row, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    courses.do_plan_course(
        stranger, protocol="iv_racemic_depression", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    with CaptureQueriesContext(connection) as two:
        client.get("/clinic/")
    assert len(two) == len(one)


def test_the_order_form_previews_the_dose_as_it_is_typed(client, prescriber, course) -> None:
    client.force_login(prescriber)
    visit = course.visits.order_by("starts_at").first()
    url = f"/clinic/visits/{visit.pk}/order/"
    ok = client.get(
        url,
        {"preview": "1", "dose_mg_per_kg": "0.5", "duration_min": "40", "concentration_mg_per_ml": "1"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "35.0 mg" in ok and "52.5 mL/h" in ok and "<html" not in ok
    refused = client.get(
        url,
        {"preview": "1", "dose_mg_per_kg": "2", "duration_min": "40", "concentration_mg_per_ml": "1"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "dose mg per kg must be from 0.05 to 1 mg/kg" in refused


def test_the_front_desk_books_a_booster_at_least_two_weeks_after_the_last_infusion(client, front_desk, course) -> None:
    from ketamine_clinic.storage.models import Course, Visit

    Course.objects.filter(pk=course.pk).update(status="maintenance")
    last = course.visits.order_by("-starts_at").first()
    with time_machine.travel(last.starts_at + timedelta(days=1), tick=False):  # booked the day after
        client.force_login(front_desk)
        too_soon = client.post(
            "/desk/boosters/", {"course": course.pk, "day": (last.starts_at.date() + timedelta(days=7))}
        )
        assert "Day: day must be on or after" in too_soon.content.decode()
        far = client.post("/desk/boosters/", {"course": course.pk, "day": "9999-12-31"})
        assert far.status_code == 200 and "day must be from" in far.content.decode()
        response = client.post(
            "/desk/boosters/", {"course": course.pk, "day": (last.starts_at.date() + timedelta(weeks=3))}
        )
        assert response.status_code == 302
    booster = Visit.objects.get(course=course, phase="maintenance")
    assert booster.starts_at.date() >= last.starts_at.date() + timedelta(weeks=3)


def test_the_week_page_lists_for_a_booster_only_the_patients_with_nothing_booked_ahead(
    client, front_desk, course
) -> None:
    from ketamine_clinic.storage.models import Course

    Course.objects.filter(pk=course.pk).update(status="maintenance")
    option = f'<option value="{course.pk}">'
    first, last = course.visits.order_by("starts_at")[0], course.visits.order_by("-starts_at")[0]
    with time_machine.travel(first.starts_at - timedelta(days=1), tick=False):  # visits still ahead
        client.force_login(front_desk)
        assert option not in client.get("/desk/").content.decode()
        assert option in client.get("/desk/boosters/").content.decode()  # the full list
    with time_machine.travel(last.starts_at + timedelta(days=1), tick=False):  # nothing ahead
        client.force_login(front_desk)
        assert option in client.get("/desk/").content.decode()


def test_an_esketamine_visit_gets_a_nasal_order_and_a_device_session(
    client, prescriber, crna, nurse, recorded_intake, patient, chairs
) -> None:
    from ketamine_clinic.services import courses, intake, orders, sessions
    from ketamine_clinic.storage.models import InfusionSession
    from tests.support.rems import rems_on_site

    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    visit = course.visits.order_by("starts_at").first()
    rems_ready(patient, prescriber, MONDAY)
    client.force_login(prescriber)
    form = client.get(f"/clinic/visits/{visit.pk}/order/").content.decode()
    assert "Esketamine nasal-spray order" in form and "56 mg (2 devices)" in form
    assert client.post(f"/clinic/visits/{visit.pk}/order/", {"dose_mg": "56"}).status_code == 302
    orders.do_verify_order(visit.orders.get(), at=MONDAY, acting_user=nurse)
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    complete_checklist(
        session,
        items={n: True for n, _ in chairside.CHECKLIST},
        vitals={"systolic_mmhg": 120, "diastolic_mmhg": 80, "heart_rate_bpm": 70, "spo2_percent": 98},
        at=visit.starts_at,
        acting_user=nurse,
    )
    rems_on_site(session, prescriber, visit.starts_at)
    client.force_login(crna)
    with time_machine.travel(visit.starts_at + timedelta(minutes=5), tick=False):  # dosed on the visit's day
        assert client.post(f"/clinic/sessions/{session.pk}/device/").status_code == 302
        page = client.get(f"/clinic/sessions/{session.pk}/").content.decode()
    assert "Devices given: <strong>1 of 2</strong>" in page and "Predicted plasma esketamine" in page
    assert "model perez_ruixo2021" in page
    assert InfusionSession.objects.get(pk=session.pk).status == "running"


def test_page_titles_are_plain_text(client, personas) -> None:
    import re

    for role, url in (
        ("front_desk", "/desk/"),
        ("prescriber", "/clinic/"),
        ("admin", "/admin-area/settings/"),
        ("patient", "/me/"),
    ):
        client.force_login(personas[role])
        title = re.search(r"<title>(.*?)</title>", client.get(url).content.decode(), re.S)
        assert title is not None and "<" not in title.group(1), (url, title and title.group(1)[:80])


def test_the_week_page_shows_a_network_twelve_chairs_at_a_time(client, front_desk, nurse, course) -> None:
    from ketamine_clinic.services import schedule
    from ketamine_clinic.storage.models import Chair

    for n in range(14):
        schedule.do_create_chair(f"Zone {n:02d}", acting_user=None)
    chairs = Chair.objects.filter(active=True).count()
    client.force_login(front_desk)
    first = client.get("/desk/").content.decode()
    assert first.count('<th scope="row">') == 12 and "chairs=2" in first
    last_page = -(-chairs // 12)
    last = client.get(f"/desk/?chairs={last_page}").content.decode()
    assert last.count('<th scope="row">') == chairs - 12 * (last_page - 1)
    for odd in ("999", "0", "-1", "x", "1" * 40):
        assert client.get(f"/desk/?chairs={odd}").status_code == 200
    visit = course.visits.order_by("starts_at").first()
    week = client.get(f"/desk/?week={visit.starts_at.date().isoformat()}").content.decode()
    assert f'href="/desk/visits/{visit.pk}/"' in week  # the course's chairs sort first
    client.force_login(nurse)
    clinicians = client.get(f"/clinic/week/?week={visit.starts_at.date().isoformat()}").content.decode()
    assert f'href="/clinic/patients/{visit.patient_id}/"' in clinicians and "/desk/visits/" not in clinicians


def test_the_today_board_pages_a_network_by_chair(client, nurse, prescriber, crna) -> None:
    from datetime import time

    from ketamine_clinic.services import schedule
    from tests.support.clinic_day import patient_in_the_chair

    for n in range(13):
        schedule.do_create_chair(f"Bay {n:02d}", acting_user=None)
    for n in range(13):
        patient_in_the_chair(n + 1, prescriber=prescriber, nurse=nurse, crna=crna, start=time(9, 0))
    client.force_login(nurse)
    with time_machine.travel(MONDAY + timedelta(hours=2), tick=False):
        first = client.get("/clinic/").content.decode()
        second = client.get("/clinic/?chairs=2").content.decode()
        assert client.get("/clinic/?chairs=x").status_code == 200
    assert '<span class="tile-num">13</span>' in first and "?chairs=2#chairs" in first
    assert "12 of 13 infusions on this page" in first and "1 of 13 infusions on this page" in second
