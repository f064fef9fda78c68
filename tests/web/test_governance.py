"""Clinical thresholds: the admin proposes, the medical director approves; UNCONFIRMED
defaults are confirmed before clinical use, with a banner until then."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import accounts, clinic
from ketamine_clinic.services.errors import InvalidInput, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, EventType


@pytest.fixture
def director(prescriber, admin):  # type: ignore[no-untyped-def]
    return accounts.do_update_user(
        prescriber, role="prescriber", is_active=True, is_medical_director=True, acting_user=admin
    )


def test_only_a_prescriber_can_be_the_medical_director(admin, nurse) -> None:
    with pytest.raises(InvalidInput) as error:
        accounts.do_update_user(nurse, role="rn", is_active=True, is_medical_director=True, acting_user=admin)
    assert error.value.field == "is_medical_director"


def test_the_admin_proposes_and_only_the_medical_director_approves(admin, director, crna, prescriber) -> None:
    with pytest.raises(NotAllowed):
        clinic.do_update_clinic_rules({"sbp_pause_mmhg": 170}, reason="Our protocol pauses at 170", acting_user=admin)
    with pytest.raises(NotAllowed):
        clinic.do_propose_clinic_rules({"sbp_pause_mmhg": 170}, reason="Our protocol pauses at 170", acting_user=crna)
    with pytest.raises(InvalidInput, match="reason"):
        clinic.do_propose_clinic_rules({"sbp_pause_mmhg": 170}, reason="why", acting_user=admin)
    clinic.do_propose_clinic_rules({"sbp_pause_mmhg": 170}, reason="Our protocol pauses at 170", acting_user=admin)
    assert clinic.clinic_rules().sbp_pause_mmhg == 180
    with pytest.raises(NotAllowed):
        clinic.do_decide_rule_proposal(approve=True, reason="Looks right to me", acting_user=admin)
    clinic.do_decide_rule_proposal(approve=True, reason="Matches protocol v3 section 4", acting_user=director)
    assert clinic.clinic_rules().sbp_pause_mmhg == 170
    changed = AuditEvent.objects.filter(event_type=EventType.SETTINGS_CHANGED).latest("id")
    assert changed.new_values["reason"] == "Matches protocol v3 section 4"


def test_a_banner_shows_until_the_medical_director_confirms(client, nurse, director) -> None:
    client.force_login(nurse)
    assert "not yet confirmed" in client.get("/clinic/").content.decode()
    client.force_login(director)
    page = client.get("/clinic/settings/review/").content.decode()
    assert "UNCONFIRMED" in page or "could not be traced" in page
    response = client.post("/clinic/settings/review/", {"op": "confirm", "reason": "Reviewed with the CRNA lead"})
    assert response.status_code == 302
    client.force_login(nurse)
    assert "not yet confirmed" not in client.get("/clinic/").content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.SETTINGS_CONFIRMED).exists()


def test_a_prescriber_who_is_not_the_medical_director_cannot_review(client, prescriber) -> None:
    client.force_login(prescriber)
    assert client.get("/clinic/settings/review/").status_code == 403
