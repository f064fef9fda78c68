"""Accounts a clinic can run: change and reset passwords, password rules, user names,
throttling by account and by address, and failed logins that store nothing typed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from ketamine_clinic.services import accounts, passwords
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import AuditEvent, EventType, User
from tests.conftest import PASSWORD

NEW = "violet-harbour-lantern-7"


def _login(client, username: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_a_user_changes_their_own_password(client, nurse) -> None:
    client.force_login(nurse)
    wrong = client.post(
        "/account/password/", {"old_password": "nope", "new_password1": NEW, "new_password2": NEW}
    ).content.decode()
    assert "current password is not right" in wrong
    response = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert client.get("/clinic/").status_code == 200  # still logged in on this device
    nurse.refresh_from_db()
    assert nurse.check_password(NEW)
    assert AuditEvent.objects.filter(event_type=EventType.PASSWORD_CHANGED, actor=nurse).exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "too short"),
        ("password1234", "too common"),
        ("Nightingale12", "too similar to the last name"),
        ("12345678901234", "entirely numeric"),
        ("clinic-demo-2026", "public demo password"),
    ],
)
def test_a_new_password_meets_every_rule(client, nurse, settings, password, message) -> None:
    settings.KC_DEMO = False
    User.objects.filter(pk=nurse.pk).update(last_name="Nightingale")
    nurse.refresh_from_db()
    client.force_login(nurse)
    page = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": password, "new_password2": password}
    ).content.decode()
    assert message in page
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)


def test_the_demo_password_is_refused_outside_demo_mode(admin, nurse, settings) -> None:
    from ketamine_clinic.demo import DEMO_PASSWORD

    assert DEMO_PASSWORD == passwords.DEMO_PASSWORD
    settings.KC_DEMO = False
    with pytest.raises(InvalidInput, match="public demo password"):
        accounts.do_set_password(nurse, DEMO_PASSWORD, acting_user=admin)
    with pytest.raises(InvalidInput, match="public demo password"):
        accounts.do_create_user("rn9", "rn", DEMO_PASSWORD, acting_user=None)
    settings.KC_DEMO = True
    accounts.do_set_password(nurse, DEMO_PASSWORD, acting_user=admin)


@pytest.mark.parametrize("name", ["bad name", "semi;colon", "<script>", "a/b"])
def test_user_names_follow_djangos_validator(admin, name) -> None:
    with pytest.raises(InvalidInput) as error:
        accounts.do_create_user(name, "rn", PASSWORD, acting_user=admin)
    assert error.value.field == "username"
    assert not User.objects.filter(username=name).exists()


def _reset_link(mailoutbox) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r"http://testserver(/account/reset/[^/\s]+/[^/\s]+/)", mailoutbox[-1].body)
    assert match, mailoutbox[-1].body
    return match.group(1)


def test_a_password_is_reset_by_an_emailed_single_use_link(
    client, nurse, mailoutbox, django_capture_on_commit_callbacks
) -> None:  # noqa: E501
    User.objects.filter(pk=nurse.pk).update(email="nurse1@clinic.example")
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/account/reset/", {"email": "NURSE1@clinic.example"}).content.decode()
    assert "If an account has this address" in page
    assert mailoutbox[-1].to == ["nurse1@clinic.example"]
    link = _reset_link(mailoutbox)
    assert client.get(link).status_code == 200
    assert client.post(link, {"new_password1": NEW, "new_password2": NEW}).status_code == 302
    assert _login(client, "nurse1", NEW).status_code == 302
    client.logout()
    again = client.post(link, {"new_password1": "other-" + NEW, "new_password2": "other-" + NEW})
    assert again.status_code == 400 and "does not work" in again.content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.PASSWORD_RESET, actor=nurse).exists()


def test_a_reset_link_expires_within_the_hour(client, nurse, mailoutbox, django_capture_on_commit_callbacks) -> None:
    User.objects.filter(pk=nurse.pk).update(email="nurse1@clinic.example")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/reset/", {"email": "nurse1@clinic.example"})
    link = _reset_link(mailoutbox)
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert client.get(link).status_code == 400


def test_an_unknown_address_gets_the_same_answer_and_is_not_stored(client, db, mailoutbox) -> None:
    before = AuditEvent.objects.count()
    page = client.post("/account/reset/", {"email": "nobody@clinic.example"}).content.decode()
    assert "If an account has this address" in page
    assert mailoutbox == [] and AuditEvent.objects.count() == before


def _everything_stored() -> str:
    rows = []
    for model in apps.get_models():
        rows.extend(str(r) for r in model.objects.values_list())
    return "\n".join(rows)


def test_a_failed_login_never_stores_what_was_typed(client, nurse) -> None:
    typed = "Tr0ub4dor&3-typed-in-the-wrong-box"
    _login(client, typed, "whatever")
    _login(client, "nurse1", "a-wrong-password-typed")
    assert typed not in _everything_stored()
    assert "a-wrong-password-typed" not in _everything_stored()
    failed = list(AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).order_by("id"))
    assert [(e.actor_id, e.new_values) for e in failed] == [(None, {"known_account": False}), (nurse.pk, {})]


def test_many_failures_from_one_address_throttle_it_for_every_account(client, nurse, crna, settings) -> None:
    settings.KC_LOGIN_ADDRESS_LIMIT = 5
    for i in range(5):  # different names, so no single account is locked
        _login(client, f"guess{i}", "wrong", REMOTE_ADDR="203.0.113.7")
    refused = _login(client, "crna1", PASSWORD, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429 and "Too many failed log-ins from this network" in refused.content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN_THROTTLED, new_values__address="203.0.113.7").exists()
    assert _login(client, "crna1", PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 302


def test_failures_on_one_account_lock_that_account_only(client, nurse, crna, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "NURSE1", "wrong", REMOTE_ADDR="198.51.100.3")
    assert _login(client, "nurse1", PASSWORD, REMOTE_ADDR="198.51.100.4").status_code == 429
    assert _login(client, "crna1", PASSWORD, REMOTE_ADDR="198.51.100.3").status_code == 302
