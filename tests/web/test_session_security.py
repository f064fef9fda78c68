"""Sessions: logoff counts only user actions, the cookie ends with the browser, pages are
never cached, and every ``next`` stays on this site."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from ketamine_clinic.services import alerts
from tests.conftest import MONDAY

POLL = {"HTTP_HX_REQUEST": "true"}
TYPED = {"HTTP_HX_REQUEST": "true", "HTTP_X_KC_USER_ACTION": "1"}


def test_the_chair_side_poll_does_not_keep_a_login_alive(client, nurse, running_session) -> None:
    url = f"/clinic/sessions/{running_session.pk}/?part=chart"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(nurse)
        assert client.get(f"/clinic/sessions/{running_session.pk}/").status_code == 200
        for minute in range(1, 15):  # the page polls every minute while nobody touches it
            clock.move_to(start + timedelta(minutes=minute))
            assert client.get(url, **POLL).status_code == 200
        clock.move_to(start + timedelta(minutes=15, seconds=30))
        response = client.get(url, **POLL)
    assert response.status_code == 302 and response["HX-Redirect"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_typing_in_an_htmx_form_counts_as_activity(client, prescriber, patient) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(prescriber)
        assert client.get("/clinic/patients/").status_code == 200
        clock.move_to(start + timedelta(minutes=10))
        assert client.get("/clinic/patients/?q=ex", **TYPED).status_code == 200
        clock.move_to(start + timedelta(minutes=20))
        assert client.get("/clinic/patients/").status_code == 200


def test_the_page_marks_only_person_caused_htmx_requests(client, nurse) -> None:
    client.force_login(nurse)
    page = client.get("/clinic/").content.decode()
    assert "kc/activity.js" in page
    from pathlib import Path

    from django.contrib.staticfiles import finders

    script = Path(str(finders.find("kc/activity.js"))).read_text(encoding="utf-8")
    assert "triggeringEvent" in script and "isTrusted" in script and "X-KC-User-Action" in script


def test_the_session_cookie_ends_with_the_browser(client, nurse, settings) -> None:
    from tests.conftest import PASSWORD

    response = client.post("/login/", {"username": nurse.username, "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert settings.SESSION_COOKIE_AGE <= 24 * 3600


@pytest.mark.parametrize("url", ["/clinic/", "/clinic/patients/", "/clinic/alerts/", "/login/"])
def test_pages_are_never_stored_by_a_cache(client, nurse, url) -> None:
    if url != "/login/":
        client.force_login(nurse)
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_poll_fragment_is_not_cached_either(client, nurse, running_session) -> None:
    client.force_login(nurse)
    response = client.get(f"/clinic/sessions/{running_session.pk}/?part=chart", **POLL)
    assert "no-store" in response["Cache-Control"]


@pytest.fixture
def alert(patient):  # type: ignore[no-untyped-def]
    from django.db import transaction

    with transaction.atomic():
        return alerts.raise_alert(
            patient, kind="phq9_item9", severity="urgent", message="item 9", source="S1", at=MONDAY, actor=None
        )


@pytest.mark.parametrize(
    "evil", ["https://evil.example/", "//evil.example/x", "http:\\\\evil.example", "javascript:alert(1)"]
)
def test_acknowledging_an_alert_never_redirects_off_site(client, nurse, alert, evil) -> None:
    client.force_login(nurse)
    page = client.get(f"/clinic/alerts/{alert.pk}/?next={evil}").content.decode()
    assert "evil.example" not in page and "javascript:" not in page
    response = client.post(f"/clinic/alerts/{alert.pk}/", {"note": "called the patient", "next": evil})
    assert response.status_code == 302
    assert response["Location"] == "/clinic/alerts/"


def test_acknowledging_an_alert_returns_to_a_page_of_this_site(client, nurse, alert, patient) -> None:
    client.force_login(nurse)
    back = f"/clinic/patients/{patient.pk}/"
    response = client.post(f"/clinic/alerts/{alert.pk}/", {"note": "called the patient", "next": back})
    assert response["Location"] == back


def test_logging_in_never_redirects_off_site(client, nurse) -> None:
    from tests.conftest import PASSWORD

    response = client.post("/login/?next=https://evil.example/", {"username": nurse.username, "password": PASSWORD})
    assert response.status_code == 302 and "evil.example" not in response["Location"]


def test_logging_out_never_redirects_off_site(client, nurse) -> None:
    client.force_login(nurse)
    response = client.post("/logout/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    assert "_auth_user_id" not in client.session
