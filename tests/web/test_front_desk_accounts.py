"""Accounts and the front desk: an administrator unlocks a locked account (audited); which
roles verify an order is a clinic setting within scope of practice, never the signer."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import accounts, clinic, orders
from ketamine_clinic.services.errors import InvalidInput, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, EventType
from tests.conftest import MONDAY, PASSWORD


def _login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR="198.51.100.9")


def test_an_admin_sees_and_unlocks_a_locked_account(client, nurse, admin, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "nurse1", "wrong")
    assert _login(client, "nurse1", PASSWORD).status_code == 429
    assert accounts.is_locked_out(nurse) and accounts.locked_user_ids() == {nurse.pk}
    client.force_login(admin)
    assert "locked out" in client.get("/admin-area/users/").content.decode()
    page = client.get(f"/admin-area/users/{nurse.pk}/").content.decode()
    assert "Unlock the account" in page
    client.post(f"/admin-area/users/{nurse.pk}/", {"op": "unlock"})
    assert not accounts.is_locked_out(nurse)
    assert AuditEvent.objects.filter(event_type=EventType.ACCOUNT_UNLOCKED, subject_id=str(nurse.pk)).exists()
    client.logout()
    assert _login(client, "nurse1", PASSWORD).status_code == 302


def test_only_an_admin_unlocks(nurse, crna) -> None:
    with pytest.raises(NotAllowed):
        accounts.do_unlock_account(nurse, acting_user=crna)


def _signed(course, prescriber):  # type: ignore[no-untyped-def]
    visit = course.visits.order_by("starts_at").first()
    return orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )


def test_a_physician_run_clinic_lets_a_second_prescriber_verify(course, prescriber, admin, client) -> None:
    from ketamine_clinic.services.accounts import do_create_user

    other = do_create_user("prescriber2", "prescriber", PASSWORD, acting_user=None)
    order = _signed(course, prescriber)
    with pytest.raises(NotAllowed, match="lets CRNAs and RNs verify"):
        orders.do_verify_order(order, at=MONDAY, acting_user=other)
    client.force_login(other)
    refused = client.get(f"/clinic/orders/{order.pk}/verify/")
    assert refused.status_code == 403 and "lets CRNAs and RNs verify" in refused.content.decode()
    client.force_login(admin)
    client.post("/admin-area/settings/", {"op": "verifiers", "verifier_roles": ["prescriber", "crna"]})
    assert clinic.verifier_roles() == {"prescriber", "crna"}
    with pytest.raises(Exception, match="signed an order cannot verify"):
        orders.do_verify_order(order, at=MONDAY, acting_user=prescriber)
    verified = orders.do_verify_order(order, at=MONDAY, acting_user=other)
    assert verified.verified_by == other


def test_an_rn_cannot_verify_when_the_clinic_narrows_to_crnas(course, prescriber, nurse, admin) -> None:
    clinic.do_update_verifier_roles({"crna"}, acting_user=admin)
    with pytest.raises(NotAllowed, match="lets CRNAs verify"):
        orders.do_verify_order(_signed(course, prescriber), at=MONDAY, acting_user=nurse)


def test_verifying_roles_stay_within_scope_of_practice(admin, nurse) -> None:
    with pytest.raises(InvalidInput, match="one or more of: prescriber, crna, rn"):
        clinic.do_update_verifier_roles({"front_desk"}, acting_user=admin)
    with pytest.raises(InvalidInput):
        clinic.do_update_verifier_roles(set(), acting_user=admin)
    with pytest.raises(NotAllowed):
        clinic.do_update_verifier_roles({"rn"}, acting_user=nurse)


def test_the_settings_page_is_grouped_by_topic_in_words(client, admin) -> None:
    client.force_login(admin)
    page = client.get("/admin-area/settings/").content.decode()
    for topic in ("Dose and hard limits", "Vital signs at the chair", "Discharge", "Sources of these defaults"):
        assert topic in page
    assert ">Systolic BP pause</label>" in page
    assert "Fava M et al. Dose-ranging trial" in page  # [S11]: the full reference, not only its key


def test_the_desk_invites_a_patient_to_the_portal_without_phi_in_the_mail(
    client, front_desk, django_capture_on_commit_callbacks
) -> None:
    import re

    from django.core import mail

    from ketamine_clinic.services.patients import do_create_patient, do_update_patient
    from ketamine_clinic.storage.models import Patient

    patient = do_create_patient(
        mrn="", given_name="Iris", family_name="Invite", birth_date=MONDAY.date().replace(year=1980), sex="female",
        at=MONDAY, acting_user=front_desk,
    )  # fmt: skip
    client.force_login(front_desk)
    no_mail = client.post(f"/desk/patients/{patient.pk}/", {"op": "invite", "username": "iris"}, follow=True)
    assert "no e-mail address on file" in no_mail.content.decode()
    do_update_patient(
        patient, given_name="Iris", family_name="Invite", birth_date=patient.birth_date, sex="female",
        phone="", email="iris@example.org", at=MONDAY, acting_user=front_desk,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/desk/patients/{patient.pk}/", {"op": "invite", "username": "iris.invite"}, follow=True
        )
    assert "Invitation sent" in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["iris@example.org"]
    body = mail.outbox[0].subject + mail.outbox[0].body
    assert "Invite" not in body and "Iris" not in body and "ketamine" not in body.lower().replace("ketamine clinic", "")
    link = re.search(r"http://testserver(/account/reset/\S+/)", body)
    assert link is not None
    patient = Patient.objects.get(pk=patient.pk)
    assert patient.user is not None and patient.user.role == "patient" and not patient.user.has_usable_password()
    assert AuditEvent.objects.filter(event_type=EventType.PORTAL_INVITED, patient=patient).exists()
    client.logout()
    assert client.get(link.group(1)).status_code == 200  # the link opens the choose-a-password page
    with pytest.raises(Exception, match="already has a portal login"):
        from ketamine_clinic.services.patients import do_invite_to_portal

        do_invite_to_portal(patient, username="iris2", base_url="http://x/", at=MONDAY, acting_user=front_desk)
