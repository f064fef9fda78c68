from __future__ import annotations

import pytest

from ketamine_clinic.services import accounts, clinic
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, EventType


def test_only_an_admin_creates_users(nurse, admin) -> None:
    with pytest.raises(NotAllowed):
        accounts.do_create_user("x", "rn", "long-enough-pw", acting_user=nurse)
    user = accounts.do_create_user("newrn", "rn", "long-enough-pw", acting_user=admin)
    assert user.check_password("long-enough-pw")
    event = AuditEvent.objects.filter(event_type=EventType.USER_CREATED).last()
    assert event.actor == admin and event.new_values == {"username": "newrn", "role": "rn"}


@pytest.mark.parametrize(
    ("username", "role", "password", "field"),
    [
        ("", "rn", "long-enough-pw", "username"),
        ("a", "nurse", "long-enough-pw", "role"),
        ("a", "rn", "short", "password"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(admin, username, role, password, field) -> None:
    count = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as error:
        accounts.do_create_user(username, role, password, acting_user=admin)
    assert error.value.field == field
    assert AuditEvent.objects.count() == count


def test_user_names_are_unique_ignoring_case(admin) -> None:
    with pytest.raises(Conflict):
        accounts.do_create_user("ADMIN1", "rn", "long-enough-pw", acting_user=admin)


def test_role_change_and_deactivation_are_audited(admin, nurse) -> None:
    accounts.do_change_role(nurse, "crna", acting_user=admin)
    accounts.do_set_active(nurse, False, acting_user=admin)
    accounts.do_set_password(nurse, "another-long-pw", acting_user=admin)
    kinds = list(AuditEvent.objects.filter(actor=admin).values_list("event_type", flat=True))
    assert kinds[-3:] == [
        EventType.USER_ROLE_CHANGED,
        EventType.USER_DEACTIVATED,
        EventType.USER_PASSWORD_SET,
    ]
    nurse.refresh_from_db()
    assert (nurse.role, nurse.is_active) == ("crna", False)


def test_an_admin_cannot_deactivate_themself(admin) -> None:
    with pytest.raises(Conflict):
        accounts.do_set_active(admin, False, acting_user=admin)


def test_idle_timeout_setting_is_validated_and_used(admin, nurse) -> None:
    assert clinic.idle_timeout_minutes() == 15
    with pytest.raises(InvalidInput, match="from 1 to 240") as error:
        clinic.do_update_clinic_settings(clinic_name="X", idle_timeout_minutes=0, acting_user=admin)
    assert error.value.field == "idle_timeout_minutes"
    with pytest.raises(NotAllowed):
        clinic.do_update_clinic_settings(clinic_name="X", idle_timeout_minutes=5, acting_user=nurse)
    clinic.do_update_clinic_settings(clinic_name="X", idle_timeout_minutes=5, acting_user=admin)
    assert clinic.idle_timeout_minutes() == 5


def test_a_refused_deactivation_also_undoes_the_role_change(admin) -> None:
    with pytest.raises((Conflict, NotAllowed)):
        accounts.do_update_user(admin, role="rn", is_active=False, acting_user=admin)
    admin.refresh_from_db()
    assert (admin.role, admin.is_active) == ("admin", True)
