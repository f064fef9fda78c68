"""The busiest pages cost the same number of queries with one patient in the chair or three
(no query per row), pinned exactly so a new per-row query shows up as a failing test."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import time_machine

from ketamine_clinic.services import sessions
from tests.conftest import MONDAY, VITALS
from tests.support.clinic_day import count_queries, patient_in_the_chair

NOON = MONDAY + timedelta(hours=4)


def _get(client, url):  # type: ignore[no-untyped-def]
    def fetch() -> None:
        response = client.get(url)
        assert response.status_code == 200, url

    return fetch


@pytest.mark.parametrize(
    ("who", "url", "expected"),
    [
        (
            "nurse",
            "/clinic/",
            16,
        ),  # the outcomes come from one read-model row; settings read once a request; chairs paged
        ("nurse", "/clinic/patients/", 11),
        ("nurse", "/clinic/alerts/", 10),
        ("front_desk", "/desk/", 13),  # the booster list is one plain query; settings read once a request
    ],
)
def test_list_pages_do_not_query_per_patient(
    client, personas, prescriber, nurse, crna, chairs, who, url, expected
) -> None:
    with time_machine.travel(NOON, tick=False):
        patient_in_the_chair(1, prescriber=prescriber, nurse=nurse, crna=crna, start=time(9, 0))
        client.force_login(personas["rn" if who == "nurse" else who])
        client.get(url)  # warm the per-process caches (settings row, templates)
        one = count_queries(_get(client, url))
        patient_in_the_chair(2, prescriber=prescriber, nurse=nurse, crna=crna, start=time(10, 0))
        patient_in_the_chair(3, prescriber=prescriber, nurse=nurse, crna=crna, start=time(11, 0))
        three = count_queries(_get(client, url))
    assert (one, three) == (expected, expected)


def test_the_session_and_chart_pages_do_not_query_per_reading(client, nurse, crna, running_session) -> None:
    client.force_login(nurse)
    session_url = f"/clinic/sessions/{running_session.pk}/"
    chart_url = f"/clinic/patients/{running_session.patient_id}/"
    t = running_session.started_at
    with time_machine.travel(t + timedelta(minutes=70), tick=False):
        sessions.do_record_vitals(running_session, VITALS, at=t + timedelta(minutes=10), acting_user=nurse)
        client.get(session_url), client.get(chart_url)  # warm the per-process caches
        few = (count_queries(_get(client, session_url)), count_queries(_get(client, chart_url)))
        for minute in (20, 30, 40, 50, 60):
            sessions.do_record_vitals(running_session, VITALS, at=t + timedelta(minutes=minute), acting_user=nurse)
        client.get(session_url), client.get(chart_url)  # a write queues one read-model refresh on the next read
        many = (count_queries(_get(client, session_url)), count_queries(_get(client, chart_url)))
    # the settings rows are read once a request (in a server process, once in a few seconds)
    assert few == many == (25, 22)
