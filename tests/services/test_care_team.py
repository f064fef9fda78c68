"""services.care_team: who is on a patient's team, kept by the administrator."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import care_team
from ketamine_clinic.services.errors import InvalidInput, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, EventType


def test_an_admin_adds_and_removes_a_clinician_with_an_audit_row_each(admin, nurse, patient) -> None:
    care_team.do_add_care_team_member(patient, nurse, acting_user=admin)
    care_team.do_add_care_team_member(patient, nurse, acting_user=admin)  # twice is once
    assert care_team.on_care_team(nurse, patient)
    care_team.do_remove_care_team_member(patient, nurse, acting_user=admin)
    assert not care_team.on_care_team(nurse, patient)
    assert AuditEvent.objects.filter(event_type=EventType.CARE_TEAM_CHANGED, patient=patient).count() == 2


def test_only_clinicians_join_and_only_an_admin_changes_a_team(admin, nurse, front_desk, patient) -> None:
    with pytest.raises(InvalidInput):
        care_team.do_add_care_team_member(patient, front_desk, acting_user=admin)
    with pytest.raises(NotAllowed):
        care_team.do_add_care_team_member(patient, nurse, acting_user=nurse)
    assert care_team.care_team_only() is False
