"""The navigation's reads: the patient banner (weight, allergies from the latest
pre-procedure record) and each role's task queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import courses, intake, navigation, orders, preprocedure, schedule, sessions
from ketamine_clinic.storage.models import Alert, Course, Visit
from tests.conftest import MONDAY, VITALS, complete_checklist
from tests.support.rems import rems_on_site, rems_ready


def _pre_procedure(patient, user, *, allergies, none_known, at=MONDAY):  # type: ignore[no-untyped-def]
    return preprocedure.do_record_pre_procedure(
        patient,
        allergies=allergies,
        no_known_allergies=none_known,
        medications=[],
        asa_class="2",
        airway_note="",
        npo_solids_since=None,
        npo_clear_since=None,
        escort_name="Jordan Example",
        escort_phone="+1 (555) 010-2030",
        diagnoses=["F33.2"],
        at=at,
        acting_user=user,
    )


def test_the_banner_says_not_recorded_without_a_pre_procedure_record(patient) -> None:
    assert navigation.banner(patient, at=MONDAY).allergies is None


def test_the_banner_lists_the_substances_of_the_latest_record(patient, nurse) -> None:
    _pre_procedure(patient, nurse, allergies=[], none_known=True)
    listed = [{"substance": "Penicillin", "reaction": "Hives"}, {"substance": "Latex", "reaction": "Rash"}]
    _pre_procedure(patient, nurse, allergies=listed, none_known=False, at=MONDAY + timedelta(days=1))
    assert navigation.banner(patient, at=MONDAY + timedelta(days=1)).allergies == "Penicillin, Latex"


def test_the_banner_says_no_known_drug_allergies_only_when_stated(patient, nurse) -> None:
    _pre_procedure(patient, nurse, allergies=[{"substance": "Sulfa", "reaction": "Rash"}], none_known=False)
    _pre_procedure(patient, nurse, allergies=[], none_known=True, at=MONDAY + timedelta(days=1))
    assert navigation.banner(patient, at=MONDAY + timedelta(days=1)).allergies == "No known drug allergies"


def test_the_banner_reads_weight_allergies_alerts_and_the_course_in_one_query(
    patient, nurse, recorded_intake, course
) -> None:
    with CaptureQueriesContext(connection) as seen:
        facts = navigation._banner_facts(patient)
    assert (facts.weight_kg, facts.allergies, facts.open_alerts) == (float(recorded_intake.weight_kg), None, 0)
    assert len(seen) == 1
    _pre_procedure(patient, nurse, allergies=[{"substance": "Penicillin", "reaction": "Hives"}], none_known=False)
    for n, acknowledged in enumerate([None, None, MONDAY]):
        Alert.objects.create(
            patient=patient, kind="vitals", severity="notify", message=f"alert {n}", raised_at=MONDAY,
            acknowledged_at=acknowledged,
        )  # fmt: skip
    first = course.visits.order_by("starts_at").first()
    Visit.objects.filter(pk=first.pk).update(status="done")
    Visit.objects.filter(pk=course.visits.order_by("-starts_at").first().pk).update(status="cancelled")
    planned = course.visits.exclude(status="cancelled").count()
    with CaptureQueriesContext(connection) as seen:
        shown = navigation.banner(patient, at=MONDAY)
    assert len(seen) == 1
    assert shown.weight_kg == float(recorded_intake.weight_kg) and shown.allergies == "Penicillin"
    assert shown.open_alerts == 2
    assert shown.course == f"IV racemic ketamine for depression · induction · 1 of {planned} visits done"
    assert planned >= 5
    Course.objects.filter(pk=course.pk).update(status="completed")
    assert navigation.banner(patient, at=MONDAY).course == "no active course"
    _pre_procedure(patient, nurse, allergies=[], none_known=True)
    assert navigation.banner(patient, at=MONDAY).allergies == "No known drug allergies"


def _kinds(tasks, kind):  # type: ignore[no-untyped-def]
    return [t for t in tasks if t.kind == kind]


def test_the_decision_due_queue_is_filtered_in_sql_like_decision_due(
    course, prescriber, crna, nurse, patient, front_desk
) -> None:  # noqa: E501
    from tests.services.test_workflow import _complete

    visits = list(course.visits.order_by("starts_at"))
    assert _kinds(navigation.my_tasks(prescriber, at=MONDAY), "decide") == []
    _complete(visits[0], prescriber, crna, nurse, patient, 14)
    assert not courses.decision_due(course) and not courses.with_decision_due(Course.objects.all()).exists()
    for visit in visits[1:]:
        schedule.do_cancel_visit(visit, reason="Patient moved away", acting_user=front_desk)
    assert courses.decision_due(course)
    assert list(courses.with_decision_due(Course.objects.all())) == [course]
    with CaptureQueriesContext(connection) as seen:
        decide = _kinds(navigation.my_tasks(prescriber, at=MONDAY + timedelta(days=20)), "decide")
    assert [(t.url_name, t.args) for t in decide] == [("induction-decision", (course.pk,))]
    # one query for every course of the network, not two per course in induction
    assert len([q for q in seen if 'FROM "kc_course"' in q["sql"]]) == 1


def test_arrivals_are_todays_visits_only_selected_in_sql(course, front_desk) -> None:
    first = course.visits.order_by("starts_at").first()
    with CaptureQueriesContext(connection) as seen:
        arrive = _kinds(navigation.my_tasks(front_desk, at=first.starts_at - timedelta(hours=1)), "arrive")
    assert [t.args for t in arrive] == [(first.pk,)]
    visit_queries = [q["sql"] for q in seen if 'FROM "kc_visit"' in q["sql"] and "arrived_at" in q["sql"]]
    assert visit_queries and all('"starts_at" >=' in q and '"starts_at" <' in q for q in visit_queries)
    next_day = first.starts_at + timedelta(days=1)
    assert _kinds(navigation.my_tasks(front_desk, at=next_day.replace(hour=6)), "arrive") == []


@pytest.fixture
def given_nasal_session(recorded_intake, prescriber, nurse, crna, patient, chairs):  # type: ignore[no-untyped-def]
    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    visit = course.visits.order_by("starts_at").first()
    rems_ready(patient, prescriber, MONDAY)
    order = orders.do_sign_nasal_order(visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    rems_on_site(session, prescriber, t)
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=1), acting_user=crna)
    return session


def test_rems_forms_due_and_overdue_reach_the_roles_that_complete_them(
    client, given_nasal_session, nurse, prescriber, front_desk, admin
) -> None:
    t = given_nasal_session.opened_at
    due = _kinds(navigation.my_tasks(nurse, at=t + timedelta(days=1)), "rems_form")
    assert [(d.url_name, d.args, d.urgent) for d in due] == [("session-rems", (given_nasal_session.pk,), False)]
    assert "due" in due[0].text and "overdue" not in due[0].text
    late = _kinds(navigation.my_tasks(prescriber, at=t + timedelta(days=9)), "rems_form")
    assert [(d.args, d.urgent) for d in late] == [((given_nasal_session.pk,), True)] and "overdue" in late[0].text
    assert navigation.my_tasks(prescriber, at=t + timedelta(days=9))[0].kind in {"rems_form", "alert"}
    for other in (front_desk, admin):
        assert _kinds(navigation.my_tasks(other, at=t + timedelta(days=9)), "rems_form") == []
    client.force_login(nurse)  # the page reads the real clock: the form of 2 Nov 2026 is overdue
    page = client.get("/tasks/").content.decode()
    assert f"/clinic/sessions/{given_nasal_session.pk}/rems/" in page and "overdue since" in page
