"""Each page is open to its roles only; patient pages hide what is not yours."""

from __future__ import annotations

import pytest

from ketamine_clinic.domain.policy import ROLES
from ketamine_clinic.storage.models import AuditEvent, EventType

# page -> roles that may open it
PAGES = {
    "/clinic/": {"prescriber", "crna", "rn"},
    "/clinic/patients/": {"prescriber", "crna", "rn"},
    "/desk/": {"front_desk"},
    "/me/": {"patient"},
    "/admin-area/": {"admin"},
    "/admin-area/users/": {"admin"},
    "/admin-area/settings/": {"admin"},
    "/admin-area/audit/": {"admin", "auditor"},
    "/admin-area/jobs/": {"admin"},
    "/clinic/alerts/": {"prescriber", "crna", "rn"},
    "/on-call/": {"admin", "prescriber"},
}


@pytest.mark.parametrize("url", list(PAGES))
@pytest.mark.parametrize("role", [r.value for r in ROLES])
def test_a_page_opens_only_for_its_roles(client, personas, url, role) -> None:
    client.force_login(personas[role])
    response = client.get(url)
    expected = 200 if role in PAGES[url] else 403
    assert response.status_code == expected, (url, role)
    if expected == 403:
        assert "not part of your role" in response.content.decode()


@pytest.mark.parametrize("url", list(PAGES))
def test_anonymous_visitors_are_sent_to_log_in(client, db, url) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_staff_open_a_chart_and_the_read_is_audited(client, prescriber, patient) -> None:
    client.force_login(prescriber)
    response = client.get(f"/clinic/patients/{patient.pk}/")
    assert response.status_code == 200 and "Pat Example" in response.content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.CHART_VIEWED, actor=prescriber, patient=patient).exists()


def test_a_missing_chart_is_a_404(client, prescriber, db) -> None:
    client.force_login(prescriber)
    assert client.get("/clinic/patients/999999/").status_code == 404


def test_the_patient_list_searches_by_name(client, prescriber, patient, stranger) -> None:
    client.force_login(prescriber)
    text = client.get("/clinic/patients/?q=strang").content.decode()
    assert "Stranger" in text and "Example" not in text


def test_the_patient_list_answers_htmx_with_the_rows_only(client, prescriber, patient) -> None:
    client.force_login(prescriber)
    text = client.get("/clinic/patients/?q=exam", HTTP_HX_REQUEST="true").content.decode()
    assert "Example" in text and "<html" not in text


def test_a_patient_sees_their_own_home_not_another_record(client, patient, stranger) -> None:
    client.force_login(stranger.user)
    text = client.get("/me/").content.decode()
    assert "Sam Stranger" in text and "Pat Example" not in text
