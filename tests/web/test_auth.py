"""Logging in and out, lockout, idle timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from ketamine_clinic.storage.models import AuditEvent, EventType
from tests.conftest import PASSWORD

HOMES = {
    "admin": "/admin-area/",
    "prescriber": "/clinic/",
    "crna": "/clinic/",
    "rn": "/clinic/",
    "front_desk": "/desk/",
    "patient": "/me/",
    "auditor": "/admin-area/audit/",
}


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_lands_on_its_own_home_page(client, personas, role) -> None:
    user = personas[role]
    response = client.post("/login/", {"username": user.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == HOMES[role]
    assert response.status_code == 200
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN, actor=user).exists()


def test_a_wrong_password_shows_an_error_and_is_audited(client, nurse) -> None:
    response = client.post("/login/", {"username": "nurse1", "password": "wrong"})
    assert response.status_code == 200
    assert "user name or password is not right" in response.content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).exists()


def test_repeated_failures_lock_the_account_and_say_so(client, nurse, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "nurse1", "password": "wrong"})
    response = client.post("/login/", {"username": "nurse1", "password": PASSWORD})
    assert response.status_code == 429
    text = response.content.decode()
    assert "This account is locked" in text and "5 failed log-in attempts" in text
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client, nurse) -> None:
    client.force_login(nurse)
    client.post("/logout/")
    assert client.get("/clinic/").status_code == 302


def test_idle_timeout_logs_the_user_out(client, nurse) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(nurse)
        assert client.get("/clinic/").status_code == 200
        clock.move_to(start + timedelta(minutes=14, seconds=59))
        assert client.get("/clinic/").status_code == 200
        clock.move_to(start + timedelta(minutes=14, seconds=59) + timedelta(minutes=15, seconds=1))
        response = client.get("/clinic/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(event_type=EventType.IDLE_LOGOUT, actor=nurse).exists()
    page = client.get(response["Location"])
    assert "logged out after 15 minutes without activity" in page.content.decode()


def test_the_last_action_is_written_to_the_session_at_most_every_half_minute(client, nurse) -> None:
    """A session write per click was a database write per page: the last action's time
    moves in steps of half a minute, which a 15-minute timeout does not notice."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(nurse)
        client.get("/clinic/")
        first = client.session["kc_last_seen"]
        clock.move_to(start + timedelta(seconds=20))
        client.get("/clinic/")
        assert client.session["kc_last_seen"] == first  # not rewritten
        clock.move_to(start + timedelta(seconds=31))
        client.get("/clinic/")
        assert client.session["kc_last_seen"] == pytest.approx(first + 31)
        clock.move_to(start + timedelta(minutes=15, seconds=20))
        assert client.get("/clinic/").status_code == 200  # 14:49 after the last write


def test_security_headers_are_set(client) -> None:
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
