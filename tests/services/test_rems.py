"""The SPRAVATO REMS as a workflow: certification and enrolment before the first order, a
prescriber on site, pulse oximetry and an in-date lot for every device, the Patient
Monitoring Form built from the session, and forms due and overdue ([S35][S36][S37])."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import courses, intake, orders, rems, sessions
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import RemsDeviceLot
from tests.conftest import MONDAY, VITALS, complete_checklist
from tests.support.rems import rems_ready


@pytest.fixture
def nasal_visit(recorded_intake, prescriber, patient, chairs):  # type: ignore[no-untyped-def]
    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    return course.visits.order_by("starts_at").first()


@pytest.fixture
def nasal_session(nasal_visit, prescriber, nurse, patient):  # type: ignore[no-untyped-def]
    rems_ready(patient, prescriber, MONDAY)
    order = orders.do_sign_nasal_order(nasal_visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    t = nasal_visit.starts_at
    session = sessions.do_open_session(nasal_visit, at=t, acting_user=nurse)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    return session


def test_no_esketamine_order_before_certification_and_enrolment(nasal_visit, prescriber, admin, nurse, patient) -> None:
    with pytest.raises(Conflict, match="REMS certification is not recorded"):
        orders.do_sign_nasal_order(nasal_visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    with pytest.raises(NotAllowed):
        rems.do_certify_site(
            certification_id="REMS-1",
            setting_name="Clinic",
            authorized_representative="Dr A",
            certified_on=date(2026, 1, 1),
            at=MONDAY,
            acting_user=prescriber,
        )
    rems.do_certify_site(
        certification_id="REMS-1",
        setting_name="Clinic",
        authorized_representative="Dr A",
        certified_on=date(2026, 1, 1),
        at=MONDAY,
        acting_user=admin,
    )
    with pytest.raises(Conflict, match="not enrolled in the SPRAVATO REMS"):
        orders.do_sign_nasal_order(nasal_visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    with pytest.raises(InvalidInput, match="enrolled on must be today or earlier") as error:
        rems.do_enrol_patient(
            patient, rems_patient_id="P-1", enrolled_on=MONDAY.date() + timedelta(days=1), at=MONDAY, acting_user=nurse
        )
    assert error.value.field == "enrolled_on"
    rems.do_enrol_patient(patient, rems_patient_id="P-1", enrolled_on=MONDAY.date(), at=MONDAY, acting_user=nurse)
    with pytest.raises(Conflict, match="already recorded"):
        rems.do_enrol_patient(patient, rems_patient_id="P-2", enrolled_on=MONDAY.date(), at=MONDAY, acting_user=nurse)
    assert orders.do_sign_nasal_order(nasal_visit, dose_mg=56, at=MONDAY, acting_user=prescriber).devices == 2


def test_no_device_without_a_prescriber_on_site_pulse_oximetry_and_an_in_date_lot(
    nasal_session, prescriber, crna, nurse
) -> None:
    t = nasal_session.opened_at
    give = lambda minutes: sessions.do_give_nasal_device(  # noqa: E731
        nasal_session, at=t + timedelta(minutes=minutes), acting_user=crna
    )
    with pytest.raises(Conflict, match="prescriber on site"):
        give(1)
    with pytest.raises(InvalidInput, match="active prescriber") as error:
        rems.do_record_on_site(nasal_session, prescriber=nurse, pulse_oximetry=False, at=t, acting_user=crna)
    assert error.value.field == "prescriber"
    rems.do_record_on_site(nasal_session, prescriber=prescriber, pulse_oximetry=False, at=t, acting_user=crna)
    with pytest.raises(Conflict, match="pulse oximetry"):
        give(1)
    rems.do_record_on_site(nasal_session, prescriber=None, pulse_oximetry=True, at=t, acting_user=crna)
    with pytest.raises(Conflict, match="lot number and expiry"):
        give(1)
    with pytest.raises(InvalidInput, match="is past") as error:
        rems.do_record_on_site(
            nasal_session,
            prescriber=None,
            pulse_oximetry=False,
            lot_number="OLD1",
            lot_expiry=t.date() - timedelta(days=1),
            at=t,
            acting_user=crna,
        )
    assert error.value.field == "lot_expiry"
    rems.do_record_on_site(
        nasal_session,
        prescriber=None,
        pulse_oximetry=False,
        lot_number="L-A",
        lot_expiry=date(2030, 1, 31),
        at=t,
        acting_user=crna,
    )
    give(1)
    rems.do_record_on_site(
        nasal_session,
        prescriber=None,
        pulse_oximetry=False,
        lot_number="L-B",
        lot_expiry=date(2030, 6, 30),
        at=t,
        acting_user=crna,
    )
    give(6)
    lots = list(RemsDeviceLot.objects.order_by("event__at").values_list("lot_number", "expiry"))
    assert lots == [("L-A", date(2030, 1, 31)), ("L-B", date(2030, 6, 30))]
    record = rems.session_record(nasal_session)
    assert record.due_on == t.date() + timedelta(days=7)


def _run_to_discharge(session, prescriber, crna, nurse):  # type: ignore[no-untyped-def]
    from tests.support.rems import rems_on_site

    t = session.opened_at
    rems_on_site(session, prescriber, t, by=crna)
    for minutes in (1, 6):
        sessions.do_give_nasal_device(session, at=t + timedelta(minutes=minutes), acting_user=crna)
    sessions.do_record_vitals(
        session, {**VITALS, "systolic_mmhg": 136}, at=t + timedelta(minutes=43), acting_user=nurse
    )
    sessions.do_record_side_effect(session, "dissociation", "mild", at=t + timedelta(minutes=20), acting_user=nurse)
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=125), acting_user=nurse)
    sessions.do_discharge(
        session,
        padss=[2, 2, 2, 2, 2],
        dissociation_resolved=True,
        aftercare_given=True,
        aldrete=[2] * 5,
        escort_present=True,
        at=t + timedelta(minutes=130),
        acting_user=nurse,
    )
    return t


def test_the_monitoring_form_is_built_from_the_session_and_submitted_when_complete(
    nasal_session, prescriber, crna, nurse
) -> None:
    t = _run_to_discharge(nasal_session, prescriber, crna, nurse)
    form = rems.monitoring_form(nasal_session)
    assert (form.bp_before.systolic_mmhg, form.bp_40.systolic_mmhg, form.bp_end.systolic_mmhg) == (120, 136, 120)
    assert form.duration_min == 129 and form.first_treatment and form.dose_mg == 56
    assert form.lots == ["SP23K07 (exp 2030-12-31)"] and form.suggested["dissociation"]
    assert form.missing == [
        "sedation (yes or no)",
        "dissociation (yes or no)",
        "respiratory depression (yes or no)",
        "time the patient was ready to leave",
        "serious adverse events (or none)",
    ]
    with pytest.raises(Conflict, match="not complete: sedation"):
        rems.do_mark_form_submitted(nasal_session, reference="FAX-1", at=t, acting_user=nurse)
    with pytest.raises(InvalidInput, match="from 0 to 600 minutes") as error:
        rems.do_save_form_answers(
            nasal_session,
            sedation=False,
            dissociation=True,
            respiratory_depression=False,
            ready_to_leave_min=900,
            serious_adverse_events="",
            at=t,
            acting_user=nurse,
        )
    assert error.value.field == "ready_to_leave_min"
    rems.do_save_form_answers(
        nasal_session,
        sedation=False,
        dissociation=True,
        respiratory_depression=False,
        ready_to_leave_min=95,
        serious_adverse_events="",
        at=t + timedelta(hours=3),
        acting_user=nurse,
    )
    assert rems.monitoring_form(nasal_session).complete
    row = rems.do_mark_form_submitted(nasal_session, reference="FAX-1", at=t + timedelta(days=2), acting_user=nurse)
    assert row.submission_reference == "FAX-1" and row.serious_adverse_events == "none"
    with pytest.raises(Conflict, match="no longer be changed"):
        rems.do_save_form_answers(
            nasal_session,
            sedation=True,
            dissociation=True,
            respiratory_depression=False,
            ready_to_leave_min=95,
            serious_adverse_events="",
            at=t,
            acting_user=nurse,
        )


def test_forms_due_and_overdue(nasal_session, prescriber, crna, nurse) -> None:
    t = _run_to_discharge(nasal_session, prescriber, crna, nurse)
    day = t.date()
    assert [r.session_id for r in rems.forms_due(day).due] == [nasal_session.pk]
    assert rems.forms_due(day + timedelta(days=7)).overdue == []
    late = rems.forms_due(day + timedelta(days=8))
    assert [r.session_id for r in late.overdue] == [nasal_session.pk] and late.due == []
