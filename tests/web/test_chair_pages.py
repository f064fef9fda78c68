"""The chair-side page over HTTP: route-aware wording, ticks kept across a refused
checklist, refusals that explain themselves (a stale second tab included), a stop that
asks for a reason when early, and alerts that return to the chair."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import alerts, courses, intake, orders, prn, sessions
from ketamine_clinic.storage.models import PumpEvent
from tests.conftest import MONDAY, VITALS, complete_checklist, screen_today
from tests.support.rems import rems_on_site, rems_ready

VITAL_FIELDS = {k: str(v) for k, v in VITALS.items()}


def _main(page: str) -> str:
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _nasal_running(recorded_intake, prescriber, nurse, crna, patient):  # type: ignore[no-untyped-def]
    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    rems_ready(patient, prescriber, MONDAY)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_nasal_order(visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    return session


def test_a_nasal_session_speaks_of_devices_never_of_pumps_or_rates(
    client, recorded_intake, prescriber, nurse, crna, patient, chairs
) -> None:
    session = _nasal_running(recorded_intake, prescriber, nurse, crna, patient)
    t = session.visit.starts_at
    client.force_login(nurse)
    with time_machine.travel(t, tick=False):
        checklist_page = _main(client.get(f"/clinic/sessions/{session.pk}/").content.decode())
    assert "Pre-dose checklist" in checklist_page and "IV access" not in checklist_page
    assert "nasal steroid" in checklist_page
    complete_checklist(session, at=t, acting_user=nurse)
    rems_on_site(session, prescriber, t)
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=2), acting_user=crna)
    client.force_login(crna)
    with time_machine.travel(t + timedelta(minutes=4), tick=False):
        page = _main(client.get(f"/clinic/sessions/{session.pk}/").content.decode())
    assert "Devices given: <strong>1 of 2</strong>" in page
    for word in ("mL/h", "Pump", "pump", "infusion #"):
        assert word not in page, word


def test_a_refused_checklist_keeps_every_tick_and_says_why(client, verified_order, nurse, patient) -> None:
    visit = verified_order.visit
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    client.force_login(nurse)
    ticks = {n: "on" for n, _ in chairside.CHECKLIST_IV}
    with time_machine.travel(visit.starts_at + timedelta(minutes=1), tick=False):
        response = client.post(f"/clinic/sessions/{session.pk}/checklist/", {**ticks, **VITAL_FIELDS})
    assert response.status_code == 422
    page = _main(response.content.decode())
    assert "Not recorded." in page and "No PHQ-9 is recorded for this patient today" in page
    for name in ticks:
        assert re.search(rf'name="{name}"\s+checked', page), name
    # with today's PHQ-9 the same ticks go through
    screen_today(patient, visit.starts_at, nurse)
    with time_machine.travel(visit.starts_at + timedelta(minutes=2), tick=False):
        response = client.post(f"/clinic/sessions/{session.pk}/checklist/", {**ticks, **VITAL_FIELDS})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == "ready"


def test_a_vitals_error_on_the_checklist_keeps_the_ticks(client, verified_order, nurse, patient) -> None:
    visit = verified_order.visit
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    screen_today(patient, visit.starts_at, nurse)
    client.force_login(nurse)
    ticks = {"identity_checked": "on", "fasting": "on", "escort": "on"}
    with time_machine.travel(visit.starts_at + timedelta(minutes=1), tick=False):
        response = client.post(
            f"/clinic/sessions/{session.pk}/checklist/", {**ticks, **VITAL_FIELDS, "systolic_mmhg": "900"}
        )
    page = _main(response.content.decode())
    assert response.status_code == 422 and "Systolic (mmHg)" in page
    assert re.search(r'name="escort"\s+checked', page) and not re.search(r'name="consent"\s+checked', page)


def test_a_stale_tab_pump_start_explains_the_refusal(client, running_session, crna) -> None:
    client.force_login(crna)
    with time_machine.travel(running_session.started_at + timedelta(minutes=2), tick=False):
        response = client.post(f"/clinic/sessions/{running_session.pk}/pump/", {"kind": "start", "rate_ml_per_h": ""})
    assert response.status_code == 422
    page = _main(response.content.decode())
    assert "Not recorded." in page and "Cannot start the pump while the session is infusing" in page


def test_a_stale_tab_checklist_explains_that_it_is_already_complete(client, running_session, nurse) -> None:
    client.force_login(nurse)
    ticks = {n: "on" for n, _ in chairside.CHECKLIST_IV}
    with time_machine.travel(running_session.started_at + timedelta(minutes=2), tick=False):
        response = client.post(f"/clinic/sessions/{running_session.pk}/checklist/", {**ticks, **VITAL_FIELDS})
    assert response.status_code == 422
    assert "The checklist is already complete" in _main(response.content.decode())


def test_an_early_stop_over_http_asks_for_the_reason(client, running_session, crna) -> None:
    client.force_login(crna)
    url = f"/clinic/sessions/{running_session.pk}/pump/"
    with time_machine.travel(running_session.started_at + timedelta(minutes=12), tick=False):
        page = _main(client.get(f"/clinic/sessions/{running_session.pk}/").content.decode())
        assert "Stopping early" in page and 'name="stop_reason"' in page
        response = client.post(url, {"kind": "stop"})
        assert response.status_code == 422
        assert "Give a reason for stopping" in _main(response.content.decode())
        response = client.post(url, {"kind": "stop", "stop_reason": "Patient asked to stop: nausea"})
    assert response.status_code == 302
    assert PumpEvent.objects.get(session=running_session, kind="stop").note == "Patient asked to stop: nausea"


def test_acknowledging_an_alert_opened_from_the_chair_returns_to_the_chair(
    client, running_session, nurse, crna
) -> None:
    t = running_session.started_at
    sessions.do_record_vitals(
        running_session, {**VITALS, "systolic_mmhg": 185}, at=t + timedelta(minutes=5), acting_user=nurse
    )
    alert = alerts.open_alerts(running_session.patient).first()
    assert alert is not None
    chair = f"/clinic/sessions/{running_session.pk}/"
    client.force_login(crna)
    with time_machine.travel(t + timedelta(minutes=6), tick=False):
        page = client.get(chair).content.decode()
        link = f"/clinic/alerts/{alert.pk}/?next={chair}"
        assert link in page
        response = client.post(link, {"action": "acknowledge", "note": "Rechecked: 150/85, informed prescriber."})
    assert response.status_code == 302 and response["Location"] == chair


def test_the_induction_page_suggests_nothing_on_a_course_just_started(client, course, prescriber) -> None:
    client.force_login(prescriber)
    page = _main(client.get(f"/clinic/courses/{course.pk}/decision/").content.decode())
    assert "Induction under way" in page and "0 of 6 induction visits done" in page
    assert "Suggested:" not in page and "after 0 infusions" not in page


def test_cadss_is_a_labelled_form_with_nothing_selected(client, running_session, crna) -> None:
    client.force_login(crna)
    page = _main(client.get(f"/clinic/sessions/{running_session.pk}/").content.decode())
    cadss = page.split('value="cadss"', 1)[1].split("</form>", 1)[0]
    assert cadss.count("<legend>") == 23 and "<select" not in cadss and "checked" not in cadss
    assert '<span class="item-n">1.</span> Item 1</legend>' in cadss


def test_a_prn_dose_is_recorded_from_the_chair_and_shown_on_the_session_record(client, running_session, nurse) -> None:
    client.force_login(nurse)
    url = f"/clinic/sessions/{running_session.pk}/"
    page = _main(client.get(url).content.decode())
    assert "Ondansetron 4 mg IV" in page and 'value="labetalol_iv"' in page
    assert 'value="midazolam_iv"' not in page  # a benzodiazepine: the CRNA or the prescriber
    with time_machine.travel(running_session.started_at + timedelta(minutes=15), tick=False):
        response = client.post(url + "prn/", {"drug": "ondansetron_iv", "dose_mg": "4", "indication": "Nausea"})
        assert response.status_code == 302 and response["Location"].endswith("#sec-prn")
        refused = client.post(url + "prn/", {"drug": "ondansetron_iv", "dose_mg": "4", "indication": "Still sick"})
        page = _main(client.get(url).content.decode())
    assert refused.status_code == 422
    text = _main(refused.content.decode())
    assert "Not recorded." in text and "the next dose may be given from" in text
    assert 'value="Still sick"' in text  # what was typed stays
    mar = page.split('class="table compact mar"', 1)[1].split("</table>", 1)[0]
    assert "Ondansetron" in mar and "4 mg" in mar and "Nausea" in mar and nurse.display_name in mar


def test_the_session_record_pdf_lists_the_prn_doses_and_an_early_stops_reason(
    client, running_session, nurse, crna
) -> None:
    from tests.web.test_documents import _get_pdf

    t = running_session.started_at
    prn.do_give_prn(running_session, "ondansetron_iv", dose_mg=4, indication="Nausea", at=t, acting_user=nurse)
    sessions.do_record_pump_event(
        running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=9), acting_user=crna, reason="Vomiting"
    )
    text = _get_pdf(client, nurse, f"/clinic/sessions/{running_session.pk}/record.pdf")
    assert "Medicines given (PRN)" in text and "Ondansetron" in text and "Nausea" in text
    assert "Stop: Vomiting" in text


def test_a_blocking_alert_tells_the_nurse_to_pause_or_stop_the_running_pump(
    client, running_session, nurse, crna
) -> None:
    t = running_session.started_at
    chair = f"/clinic/sessions/{running_session.pk}/"
    client.force_login(crna)
    with time_machine.travel(t + timedelta(minutes=4), tick=False):
        assert "The pump is still running" not in client.get(chair).content.decode()
    sessions.do_record_vitals(  # a pause-level reading: the pump still runs until a person pauses it
        running_session, {**VITALS, "systolic_mmhg": 185}, at=t + timedelta(minutes=5), acting_user=nurse
    )
    with time_machine.travel(t + timedelta(minutes=6), tick=False):
        page = client.get(chair).content.decode()
    assert "The pump is still running: pause it now" in page
    sessions.do_record_vitals(
        running_session, {**VITALS, "systolic_mmhg": 205}, at=t + timedelta(minutes=7), acting_user=nurse
    )
    with time_machine.travel(t + timedelta(minutes=8), tick=False):
        page = client.get(chair).content.decode()
    assert "The pump is still running: stop it now" in page and "with the reason" in page
    sessions.do_record_pump_event(
        running_session, "pause", rate_ml_per_h=None, at=t + timedelta(minutes=8), acting_user=crna
    )
    with time_machine.travel(t + timedelta(minutes=9), tick=False):
        assert "The pump is still running" not in client.get(chair).content.decode()


def test_no_vitals_are_due_once_the_session_is_closed(client, running_session, nurse, crna) -> None:
    t = running_session.started_at
    chair = f"/clinic/sessions/{running_session.pk}/"
    sessions.do_record_vitals(running_session, VITALS, at=t + timedelta(minutes=5), acting_user=nurse)
    client.force_login(crna)
    with time_machine.travel(t + timedelta(minutes=6), tick=False):
        assert "Next vitals due" in client.get(chair).content.decode()
        sessions.do_record_pump_event(
            running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=6), acting_user=crna,
            reason="Patient asked to stop the infusion",
        )  # fmt: skip
        running_session.refresh_from_db()
        sessions.do_close_session(
            running_session, reason="Patient left against advice", at=t + timedelta(minutes=6), acting_user=nurse
        )
    with time_machine.travel(t + timedelta(minutes=90), tick=False):
        page = client.get(chair).content.decode()
    assert "Next vitals due" not in page and "Vitals overdue" not in page


def test_unbound_fields_are_rendered_once_but_never_across_values_or_errors(db) -> None:
    from django.template.loader import render_to_string

    from ketamine_clinic.web.forms import PumpForm, VitalsForm
    from ketamine_clinic.web.templatetags.kc import field_html

    fresh = VitalsForm()["systolic_mmhg"]
    assert field_html(fresh) == render_to_string("_field.html", {"field": fresh})
    assert field_html(VitalsForm()["systolic_mmhg"]) == field_html(fresh)  # reused
    fifty, sixty = PumpForm(initial={"rate_ml_per_h": 50})["rate_ml_per_h"], PumpForm(initial={"rate_ml_per_h": 60})
    assert 'value="50"' in field_html(fifty) and 'value="60"' in field_html(sixty["rate_ml_per_h"])
    refused = VitalsForm(data={"systolic_mmhg": "900"})
    refused.is_valid()
    assert "has-error" in field_html(refused["systolic_mmhg"]) and "has-error" not in field_html(fresh)


def test_the_flowsheet_shows_alerts_corrections_and_who_may_correct(client, nurse, prescriber, running_session) -> None:
    """The flowsheet rows (built in Python for speed) keep what the template showed: the
    reading, its alert flags, the correction tag and reason (escaped), and a "Correct" link
    only on a reading not yet corrected and only for a role that records vital signs."""
    at = running_session.visit.starts_at + timedelta(minutes=12)
    high = sessions.do_record_vitals(
        running_session, {**VITALS, "systolic_mmhg": 182, "diastolic_mmhg": 96}, at=at, acting_user=nurse
    )
    sessions.do_amend_vitals(
        high, {**VITALS, "respiratory_rate": None}, reason="cuff <too small>", at=at, acting_user=nurse
    )
    client.force_login(nurse)
    page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
    flowsheet = page[
        page.index('class="table flowsheet"') : page.index("</table>", page.index('class="table flowsheet"'))
    ]
    rows = flowsheet.split("<tr")[2:]  # after the header row
    assert len(rows) == 3
    corrected = next(r for r in rows if "182/96" in r)
    assert 'class="amended"' in corrected and "sev sev-" in corrected and "/amend/" not in corrected
    correction = next(r for r in rows if 'class="amendment"' in r)
    assert '<span class="tag">correction</span>' in correction and "<td>–</td>" in correction
    assert "cuff &lt;too small&gt;" in correction and f"/vitals/{high.pk + 1}/amend/" in correction
    client.force_login(prescriber)
    page = client.get(f"/clinic/sessions/{running_session.pk}/").content.decode()
    assert "182/96" in page and ">Correct</a>" not in page


def test_a_model_choice_field_is_read_once_and_rendered_from_that_read(db, nurse, crna, prescriber) -> None:
    """The ledger card's witness list: one query per rendering, the options in the HTML are
    the ones in the cache key (a new witness is a new rendering, never a stale one)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketamine_clinic.services.accounts import do_create_user
    from ketamine_clinic.storage.models import StockLot, User
    from ketamine_clinic.web.ledger_forms import WasteForm
    from ketamine_clinic.web.templatetags.kc import field_html

    def witness_html() -> str:
        form = WasteForm(lots=StockLot.objects.none(), witnesses=User.objects.filter(role="crna").order_by("pk"))
        with CaptureQueriesContext(connection) as seen:
            html = field_html(form["witness"])
        assert len(seen) == 1, [q["sql"][:200] for q in seen.captured_queries]
        return html

    first = witness_html()
    assert crna.display_name in first and nurse.display_name not in first
    assert witness_html() == first  # reused
    other = do_create_user("crna2", "crna", "another-password-2026", credentials="CRNA", acting_user=None)
    again = witness_html()
    assert other.display_name in again and crna.display_name in again
