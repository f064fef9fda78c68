"""TOTP two-factor log-in (django-otp), required for staff by a clinic setting."""

from __future__ import annotations

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketamine_clinic.services import clinic, two_factor
from ketamine_clinic.storage.models import AuditEvent, EventType
from tests.conftest import PASSWORD


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _unthrottle(device: TOTPDevice) -> None:
    """django-otp makes the next try wait after a failure; the test does not wait."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    device.refresh_from_db()


def _password_login(client, user):  # type: ignore[no-untyped-def]
    assert client.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302


def _enrolled(user) -> TOTPDevice:  # type: ignore[no-untyped-def]
    device = two_factor.pending_device(user)
    two_factor.do_confirm_totp(user, _code(device))
    device.refresh_from_db()
    device.last_t = -1  # let the test reuse the current time step once more
    device.save()
    return device


def test_without_the_setting_staff_log_in_with_a_password(client, nurse) -> None:
    _password_login(client, nurse)
    assert client.get("/clinic/").status_code == 200


def test_the_clinic_setting_sends_staff_to_set_up_an_authenticator(client, admin, nurse, patient_user) -> None:
    clinic.do_update_clinic_settings(
        clinic_name="Clinic", idle_timeout_minutes=15, require_two_factor=True, acting_user=admin
    )
    _password_login(client, nurse)
    response = client.get("/clinic/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/setup/")
    page = client.get(response["Location"]).content.decode()
    assert 'id="totp-secret"' in page and "otpauth://totp/" in page
    wrong = client.post(response["Location"], {"token": "000000"}).content.decode()
    assert "the code does not match" in wrong
    device = TOTPDevice.objects.get(user=nurse)
    _unthrottle(device)
    done = client.post(response["Location"], {"token": _code(device)})
    assert done.status_code == 302 and done["Location"] == "/clinic/"
    assert client.get("/clinic/").status_code == 200
    assert AuditEvent.objects.filter(event_type=EventType.TWO_FACTOR_ENABLED, actor=nurse).exists()
    client.logout()
    _password_login(client, patient_user)  # patients are not required to
    assert client.get("/me/").status_code == 200


def test_a_user_with_an_authenticator_must_enter_its_code(client, nurse) -> None:
    device = _enrolled(nurse)
    _password_login(client, nurse)
    response = client.get("/clinic/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/?next=")
    assert client.get("/clinic/", HTTP_HX_REQUEST="true")["HX-Redirect"].startswith("/account/two-factor/")
    refused = client.post(response["Location"], {"token": "123456"})
    assert "the code does not match" in refused.content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.TWO_FACTOR_FAILED, actor=nurse).exists()
    _unthrottle(device)
    ok = client.post(response["Location"], {"token": _code(device)})
    assert ok.status_code == 302 and ok["Location"] == "/clinic/patients/"
    assert client.get("/clinic/patients/").status_code == 200


def test_a_code_works_once(client, nurse) -> None:
    device = _enrolled(nurse)
    code = _code(device)
    two_factor.do_verify_totp(nurse, code)
    _password_login(client, nurse)
    page = client.post("/account/two-factor/", {"token": code}).content.decode()
    assert "the code does not match" in page


def test_an_offsite_next_after_the_code_is_ignored(client, nurse) -> None:
    device = _enrolled(nurse)
    _password_login(client, nurse)
    response = client.post("/account/two-factor/?next=https://evil.example/", {"token": _code(device)})
    assert response["Location"] == "/"


def test_an_admin_removes_a_lost_authenticator(client, admin, nurse) -> None:
    _enrolled(nurse)
    client.force_login(admin)
    client.post(f"/admin-area/users/{nurse.pk}/", {"op": "remove_two_factor"})
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert AuditEvent.objects.filter(event_type=EventType.TWO_FACTOR_REMOVED, actor=admin).exists()


def test_a_process_reuses_only_a_yes_to_has_an_authenticator_and_sees_its_own_changes(transactional_db, nurse) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def asked() -> tuple[bool, int]:
        with CaptureQueriesContext(connection) as reads:
            found = two_factor.has_confirmed_device(nurse)
        return found, sum("otp_totp_totpdevice" in q["sql"] for q in reads.captured_queries)

    assert asked() == (False, 1)
    assert asked() == (False, 1)  # a no is never reused: a device confirmed elsewhere counts at once
    device = _enrolled(nurse)
    assert asked() == (True, 1)
    assert asked() == (True, 0)  # a yes is this process's for a few seconds
    device.delete()  # removed here: seen at once
    assert asked() == (False, 1)


def test_a_request_reads_the_authenticator_with_the_user_never_older_than_the_request(client, nurse) -> None:
    """The sign-in check of every request costs no query of its own (the signed-in user is
    read with the answer) and an authenticator confirmed behind this process's back (no
    signal, as through another server) is asked for on the very next request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(nurse)
    with CaptureQueriesContext(connection) as reads:
        assert client.get("/clinic/").status_code == 200
    device_reads = [q["sql"] for q in reads.captured_queries if "otp_totp_totpdevice" in q["sql"]]
    assert len(device_reads) == 1 and "kc_user" in device_reads[0].split("FROM", 1)[1]  # inside the user's read
    pending = two_factor.pending_device(nurse)
    TOTPDevice.objects.filter(pk=pending.pk).update(confirmed=True)  # no save signal: the process cache is unaware
    response = client.get("/clinic/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")
