"""Least privilege: the admin runs the clinic's accounts and audit trail without reading
clinical values, nobody changes their own role, and the clinic always keeps an admin."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import accounts, sessions
from ketamine_clinic.services.errors import Conflict, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, EventType, User
from tests.conftest import MONDAY, PASSWORD

NOTE = "Patient disclosed a plan; safety plan reviewed"


@pytest.fixture
def clinical_trail(running_session, nurse):  # type: ignore[no-untyped-def]
    sessions.do_sign_note(running_session, NOTE, at=MONDAY, acting_user=nurse)
    return running_session


def test_the_admin_sees_who_did_what_but_no_clinical_values(client, admin, clinical_trail) -> None:
    client.force_login(admin)
    page = client.get("/admin-area/audit/").content.decode()
    assert "note signed" in page and "nurse1 (rn)" in page and "SessionNote" in page
    assert NOTE not in page
    assert "systolic_mmhg" in page  # the field's name, never its value
    assert '"systolic_mmhg": 120' not in page and "&#x27;systolic_mmhg&#x27;: 120" not in page


def test_the_auditor_reads_the_values(client, auditor, clinical_trail) -> None:
    client.force_login(auditor)
    page = client.get("/admin-area/audit/").content.decode()
    assert NOTE in page


def test_an_auditor_opens_nothing_but_the_audit_trail(client, auditor, patient) -> None:
    client.force_login(auditor)
    assert client.get(f"/clinic/patients/{patient.pk}/").status_code == 403
    assert client.get("/admin-area/users/").status_code == 403
    assert client.post("/login/", {"username": auditor.username, "password": PASSWORD}).status_code == 302


def test_nobody_changes_their_own_role(client, admin, nurse) -> None:
    accounts.do_create_user("admin2", "admin", PASSWORD, acting_user=None)
    client.force_login(admin)
    page = client.post(f"/admin-area/users/{admin.pk}/", {"role": "prescriber", "is_active": "on"})
    assert "Nobody may change their own role" in page.content.decode()
    admin.refresh_from_db()
    assert admin.role == "admin"
    with pytest.raises(NotAllowed):
        accounts.do_change_role(nurse, "prescriber", acting_user=nurse)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin) -> None:
    with pytest.raises(Conflict, match="last active administrator"):
        accounts.do_change_role(admin, "prescriber", acting_user=None)
    with pytest.raises(Conflict, match="last active administrator"):
        accounts.do_set_active(admin, False, acting_user=None)
    admin.refresh_from_db()
    assert (admin.role, admin.is_active) == ("admin", True)


def test_an_admin_may_demote_another_while_one_remains(admin) -> None:
    other = accounts.do_create_user("admin2", "admin", PASSWORD, acting_user=None)
    accounts.do_update_user(other, role="prescriber", is_active=True, acting_user=admin)
    other.refresh_from_db()
    assert other.role == "prescriber"
    assert AuditEvent.objects.filter(event_type=EventType.USER_ROLE_CHANGED, actor=admin).exists()
    third = accounts.do_create_user("admin3", "admin", PASSWORD, acting_user=None)
    accounts.do_set_active(third, False, acting_user=admin)
    with pytest.raises(Conflict, match="last active administrator"):
        accounts.do_update_user(admin, role="admin", is_active=False, acting_user=None)
    assert User.objects.get(pk=admin.pk).is_active


def _restrict(admin) -> None:  # type: ignore[no-untyped-def]
    from ketamine_clinic.services import clinic

    clinic.do_update_clinic_settings(
        clinic_name="Clinic", idle_timeout_minutes=15, care_team_only=True, acting_user=admin
    )


def test_without_the_restriction_every_clinician_opens_every_chart(client, nurse, patient, stranger) -> None:
    client.force_login(nurse)
    assert client.get(f"/clinic/patients/{stranger.pk}/").status_code == 200


def test_the_care_team_restriction_limits_charts_to_the_team(
    client, admin, nurse, front_desk, patient, stranger
) -> None:
    _restrict(admin)
    client.force_login(admin)
    response = client.post("/admin-area/care-teams/", {"mrn": patient.mrn, "username": nurse.username, "op": "add"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(event_type=EventType.CARE_TEAM_CHANGED, actor=admin, patient=patient).exists()
    client.force_login(nurse)
    assert client.get(f"/clinic/patients/{patient.pk}/").status_code == 200
    assert client.get(f"/clinic/patients/{stranger.pk}/").status_code == 404  # same answer as a missing chart
    listing = client.get("/clinic/patients/").content.decode()
    assert "Example" in listing and "Stranger" not in listing
    client.force_login(admin)
    client.post("/admin-area/care-teams/", {"mrn": patient.mrn, "username": nurse.username, "op": "remove"})
    client.force_login(nurse)
    assert client.get(f"/clinic/patients/{patient.pk}/").status_code == 404
    client.force_login(front_desk)  # scheduling is not a chart read
    assert client.get("/desk/").status_code == 200


def test_a_care_team_is_made_of_clinicians(client, admin, front_desk, patient) -> None:
    client.force_login(admin)
    page = client.post("/admin-area/care-teams/", {"mrn": patient.mrn, "username": front_desk.username, "op": "add"})
    assert "made of prescribers, CRNAs and RNs" in page.content.decode()
    unknown = client.post("/admin-area/care-teams/", {"mrn": "NOPE", "username": front_desk.username, "op": "add"})
    assert "No patient has this MRN" in unknown.content.decode()


def test_the_care_team_restriction_also_limits_the_today_board_and_the_alerts_list(
    client, admin, nurse, patient, stranger
) -> None:
    from django.db import transaction
    from django.utils import timezone

    from ketamine_clinic.services import alerts, care_team

    with transaction.atomic():
        for who in (patient, stranger):
            alerts.raise_alert(
                who, kind="vitals", severity="notify", message=f"Check {who.family_name}", source="test",
                at=timezone.now(), actor=None,
            )  # fmt: skip
    client.force_login(nurse)
    assert "Check Stranger" in client.get("/clinic/alerts/").content.decode()  # no restriction: everyone
    _restrict(admin)
    care_team.do_add_care_team_member(patient, nurse, acting_user=admin)
    for url in ("/clinic/", "/clinic/alerts/"):
        page = client.get(url).content.decode()
        assert "Check Example" in page and "Check Stranger" not in page, url
