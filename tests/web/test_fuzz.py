"""Property-based fuzz over the site's forms and query parameters (hypothesis): whatever is
typed (far dates, huge or negative numbers, NUL bytes, very long or odd text) the answer is
a page or a redirect, never a server error.

Each form's field names are read from the page that shows it, so a new field is fuzzed
without editing this file."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ketamine_clinic.services import measures, sessions
from ketamine_clinic.storage.models import Alert
from tests.conftest import VITALS

NASTY = st.one_of(
    st.just(""),
    st.sampled_from(["0", "-1", "1e309", "NaN", "99999999999999999999", "0.0000001", "3.5", " 12 ", "on", "yes"]),
    st.sampled_from(["0001-01-01", "1899-12-31", "9999-12-31", "2026-02-30", "9999-12-31T23:59", "0001-01-01T00:00"]),
    st.sampled_from(["\x00", "a\x00b", "<script>alert(1)</script>", "' OR 1=1 --", "x" * 5000, "é" * 300]),
    st.text(max_size=40),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
)

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_NAME = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"")
_ACTION = re.compile(r"action=\"([^\"]*)\"")


def _fields(html: str, page: str, action: str) -> list[str]:
    """The field names of the form on ``html`` that posts to ``action``."""
    names: list[str] = []
    for attrs, body in _FORM.findall(html):
        found = _ACTION.search(attrs)
        target = found.group(1) if found and found.group(1) else page
        if target == action:
            names += [n for n in _NAME.findall(body) if n != "csrfmiddlewaretoken"]
    return sorted(set(names))


@pytest.fixture
def site(course, verified_order, running_session, recorded_intake, nurse, patient, personas):  # type: ignore[no-untyped-def]
    measures.do_record_assessment(patient, "phq9", [0] * 8 + [2], at=running_session.started_at, acting_user=nurse)
    alert = Alert.objects.get(kind="suicide_risk")
    sessions.do_record_vitals(
        running_session, VITALS, at=running_session.started_at + timedelta(minutes=10), acting_user=nurse
    )
    visit = course.visits.order_by("starts_at")[1]
    sid, pid = running_session.pk, patient.pk
    session_page = f"/clinic/sessions/{sid}/"
    return [
        ("prescriber", f"/clinic/patients/{pid}/course/", f"/clinic/patients/{pid}/course/"),
        ("prescriber", f"/clinic/visits/{visit.pk}/order/", f"/clinic/visits/{visit.pk}/order/"),
        ("prescriber", f"/clinic/patients/{pid}/", f"/clinic/patients/{pid}/ratings/"),
        ("prescriber", f"/clinic/visits/{visit.pk}/today/", f"/clinic/visits/{visit.pk}/today/"),
        ("prescriber", f"/clinic/alerts/{alert.pk}/", f"/clinic/alerts/{alert.pk}/"),
        ("prescriber", f"/clinic/courses/{course.pk}/decision/", f"/clinic/courses/{course.pk}/decision/"),
        ("rn", f"/clinic/patients/{pid}/intake/", f"/clinic/patients/{pid}/intake/"),
        ("rn", session_page, f"/clinic/sessions/{sid}/vitals/"),
        ("rn", session_page, f"/clinic/sessions/{sid}/side-effects/"),
        ("rn", session_page, f"/clinic/sessions/{sid}/notes/"),
        ("rn", session_page, f"/clinic/sessions/{sid}/close/"),
        ("rn", session_page, f"/clinic/sessions/{sid}/assessment/"),
        ("crna", session_page, f"/clinic/sessions/{sid}/pump/"),
        ("front_desk", "/desk/patients/new/", "/desk/patients/new/"),
        ("front_desk", "/desk/boosters/", "/desk/boosters/"),
        ("front_desk", f"/desk/visits/{visit.pk}/", f"/desk/visits/{visit.pk}/"),
        ("patient", "/me/questionnaires/phq9/", "/me/questionnaires/phq9/"),
        ("admin", "/admin-area/settings/", "/admin-area/settings/"),
        ("admin", "/on-call/", "/on-call/"),
    ]


# No shrinking phase: a failure is reported as drawn, and CI never spends minutes shrinking.
@settings(
    max_examples=12,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_form_input_is_a_server_error(client, personas, site, data) -> None:
    for role, page, action in site:
        client.force_login(personas[role])
        html = client.get(page).content.decode()
        names = _fields(html, page, action)
        if not names:  # the page shows no such form to this role in this state (e.g. no decision due)
            continue
        values = {name: data.draw(NASTY, label=f"{action} {name}") for name in names}
        response = client.post(action, values)
        assert response.status_code < 500, (action, values, response.status_code)


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=NASTY)
def test_no_query_parameter_is_a_server_error(client, personas, site, value) -> None:
    for role, url in (
        ("prescriber", "/clinic/patients/?q={v}&page={v}"),
        ("front_desk", "/desk/?week={v}"),
        ("admin", "/admin-area/audit/?since={v}&until={v}&user={v}&patient={v}&event_type={v}&page={v}"),
        ("admin", "/admin-area/audit/?before={v}"),
        ("admin", "/admin-area/audit/?after={v}"),
        ("prescriber", "/clinic/alerts/?next={v}"),
        ("rn", "/clinic/ledger/reports/dispensing/?since={v}&until={v}&mrn={v}&lot={v}"),
    ):
        client.force_login(personas[role])
        response = client.get(url.format(v=quote(value)))
        assert response.status_code < 500, (url, value, response.status_code)


def test_a_nul_character_is_refused_naming_the_field(client, prescriber, front_desk) -> None:
    client.force_login(prescriber)
    response = client.get("/clinic/patients/?q=a%00b")
    assert response.status_code == 400 and "q: contains a character that is not allowed" in response.content.decode()
    client.force_login(front_desk)
    form = {"given_name": "Nul\x00l", "family_name": "Byte", "birth_date": "1990-01-01", "sex": "male"}
    response = client.post("/desk/patients/new/", form)
    assert response.status_code == 400 and "given_name" in response.content.decode()
