from __future__ import annotations

from ketamine_clinic.storage.models import AuditEvent, EventType, User


def test_admin_adds_a_user_in_the_page(client, admin) -> None:
    client.force_login(admin)
    response = client.post(
        "/admin-area/users/",
        {
            "username": "newcrna",
            "role": "crna",
            "password": "a-long-password",
            "credentials": "CRNA",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newcrna").role == "crna"


def test_a_bad_user_form_names_the_field(client, admin) -> None:
    client.force_login(admin)
    text = client.post(
        "/admin-area/users/",
        {
            "username": "x",
            "role": "crna",
            "password": "short",
        },
    ).content.decode()
    assert "Password: Ensure this value has at least 10 characters" in text
    assert not User.objects.filter(username="x").exists()


def test_admin_changes_a_role_and_deactivates(client, admin, nurse) -> None:
    client.force_login(admin)
    client.post(f"/admin-area/users/{nurse.pk}/", {"role": "crna"})
    nurse.refresh_from_db()
    assert (nurse.role, nurse.is_active) == ("crna", False)


def test_settings_out_of_range_say_the_range(client, admin) -> None:
    client.force_login(admin)
    text = client.post("/admin-area/settings/", {"clinic_name": "X", "idle_timeout_minutes": "500"}).content.decode()
    assert "Idle timeout minutes: Ensure this value is less than or equal to 240" in text
    client.post("/admin-area/settings/", {"clinic_name": "X", "idle_timeout_minutes": "20"})
    assert AuditEvent.objects.filter(event_type=EventType.SETTINGS_CHANGED).exists()


def test_the_audit_page_filters_and_verifies(client, admin, nurse, patient, django_capture_on_commit_callbacks) -> None:
    client.force_login(admin)
    text = client.get("/admin-area/audit/", {"patient": "T-0001"}).content.decode()
    assert "<td>patient created</td>" in text and "<td>user created</td>" not in text
    text = client.get("/admin-area/audit/", {"user": "admin1", "event_type": "110"}).content.decode()
    assert "No events match" not in text
    assert "has not been verified from this page yet" in client.get("/admin-area/audit/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post("/admin-area/audit/", {"op": "verify"}, follow=True).content.decode()
    assert "Verification of the whole trail queued" in queued and "is running on the task worker" in queued
    again = client.post("/admin-area/audit/", {"op": "verify"}, follow=True).content.decode()
    assert "A verification is already queued or running" in again
    from ketamine_clinic.services.jobs import run_due_jobs

    assert run_due_jobs() == 1
    text = client.get("/admin-area/audit/").content.decode()
    assert "The chain was intact when verified" in text and "is running on the task worker" not in text


def test_admin_gives_a_patient_a_login_to_their_own_record(client, admin, stranger) -> None:
    from ketamine_clinic.storage.models import Patient

    client.force_login(admin)
    missing = client.post("/admin-area/users/", {"username": "p2", "role": "patient", "password": "a-long-password"})
    assert "Patient MRN: a patient login needs the MRN" in missing.content.decode()
    Patient.objects.filter(pk=stranger.pk).update(user=None)
    response = client.post(
        "/admin-area/users/",
        {
            "username": "p2",
            "role": "patient",
            "password": "a-long-password",
            "patient_mrn": "T-0002",
        },
    )
    assert response.status_code == 302
    assert Patient.objects.get(pk=stranger.pk).user.username == "p2"


def test_clinical_thresholds_are_clinic_settings_with_ranges(client, admin) -> None:
    from ketamine_clinic.services import clinic

    client.force_login(admin)
    page = client.get("/admin-area/settings/").content.decode()
    assert "sbp_pause_mmhg" in page and "UNCONFIRMED" in page
    bad = client.post("/admin-area/settings/", {"op": "rules", "sbp_pause_mmhg": "400"}).content.decode()
    assert "sbp_pause_mmhg must be from 150 to 220 mmHg" in bad
    assert clinic.clinic_rules().sbp_pause_mmhg == 180
    reason = "Our protocol pauses at 170 systolic"
    response = client.post("/admin-area/settings/", {"op": "rules", "sbp_pause_mmhg": "170", "reason": reason})
    assert response.status_code == 302
    assert clinic.clinic_rules().sbp_pause_mmhg == 180  # proposed, not yet in force
    assert "Waiting for the medical director" in client.get("/admin-area/settings/").content.decode()
    assert AuditEvent.objects.filter(
        event_type=EventType.SETTINGS_PROPOSED, new_values={"sbp_pause_mmhg": 170.0, "reason": reason}
    ).exists()


def test_the_settings_page_opens_without_errors(client, admin) -> None:
    client.force_login(admin)
    page = client.get("/admin-area/settings/").content.decode()
    assert "This field is required" not in page and 'value="15"' in page


def test_the_clinic_phone_is_checked_and_shown_where_patients_need_it(client, admin, patient_user, patient) -> None:
    client.force_login(admin)
    bad = client.post(
        "/admin-area/settings/", {"clinic_name": "X", "idle_timeout_minutes": "20", "clinic_phone": "call us"}
    )
    assert "clinic phone: 7 to 30 digits" in bad.content.decode()
    client.post(
        "/admin-area/settings/", {"clinic_name": "X", "idle_timeout_minutes": "20", "clinic_phone": "+1 555 010 0100"}
    )
    client.force_login(patient_user)
    crisis = client.post("/me/questionnaires/phq9/", {"item_9": "2"}).content.decode()
    assert 'href="tel:+1 555 010 0100"' in crisis


def test_the_after_care_sheet_gives_the_clinic_phone(client, admin, nurse, running_session) -> None:
    from ketamine_clinic.services import clinic

    clinic.do_update_clinic_settings(
        clinic_name="Riverside", idle_timeout_minutes=15, clinic_phone="(555) 010-0199", acting_user=admin
    )
    client.force_login(nurse)
    page = client.get(f"/clinic/sessions/{running_session.pk}/aftercare/").content.decode()
    assert 'href="tel:(555) 010-0199"' in page


def test_the_admin_lists_api_tokens_without_the_token_and_revokes_one(client, admin, nurse) -> None:  # type: ignore[no-untyped-def]
    from ketamine_clinic.services.api_tokens import authenticate, do_create_token

    row, token = do_create_token(nurse, days=10, name="registry feed", acting_user=None)
    client.force_login(admin)
    page = client.get("/admin-area/tokens/").content.decode()
    assert row.prefix in page and "registry feed" in page and token not in page
    client.post("/admin-area/tokens/", {"prefix": row.prefix})
    assert authenticate(token) is None


def _ids_on(html: str) -> list[int]:
    import re

    return [int(m) for m in re.findall(r"<tr><td>(\d+)</td>", html)]


def test_the_audit_trail_pages_by_id_both_ways_without_counting(client, admin, django_assert_max_num_queries) -> None:
    from django.db import transaction

    from ketamine_clinic.services import audit

    with transaction.atomic():
        for n in range(120):
            audit.record(EventType.SETTINGS_CHANGED, actor=admin, new={"n": n})
    client.force_login(admin)
    everything = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True))
    seen, url, pages = [], "/admin-area/audit/", []
    while url:
        html = client.get(url).content.decode()
        pages.append(html)
        seen += _ids_on(html)
        older = [m for m in html.split('href="') if m.startswith("?before=")]
        url = "/admin-area/audit/" + older[0].split('"')[0].replace("&amp;", "&") if older else ""
    assert seen == everything  # every event once, newest first
    assert all(len(_ids_on(p)) == 50 for p in pages[:-1])
    back = [m for m in pages[1].split('href="') if m.startswith("?after=")][0].split('"')[0]
    assert _ids_on(client.get("/admin-area/audit/" + back).content.decode()) == _ids_on(pages[0])[:50]
    assert "Page 1 of" not in pages[0]
    with django_assert_max_num_queries(30):
        client.get(f"/admin-area/audit/?before={everything[60]}")


def test_the_admin_home_counts_audit_events_from_the_chain_heads(client, admin) -> None:
    client.force_login(admin)
    html = client.get("/admin-area/").content.decode()
    assert f'<span class="tile-num">{AuditEvent.objects.count()}</span>' in html
