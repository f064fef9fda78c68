"""services.patients: registration with a record number, duplicates flagged, a portal login."""

from __future__ import annotations

from datetime import date

import pytest

from ketamine_clinic.services import patients
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from tests.conftest import MONDAY


def _register(who, **kw):  # type: ignore[no-untyped-def]
    args = {"mrn": "", "given_name": "Ana", "family_name": "Lopez", "birth_date": date(1990, 4, 5), "sex": "female"}
    return patients.do_create_patient(**{**args, **kw}, at=MONDAY, acting_user=who)


def test_an_empty_record_number_takes_the_next_free_one(front_desk) -> None:
    first = _register(front_desk)
    second = _register(front_desk, given_name="Bea")
    assert first.mrn and second.mrn and first.mrn != second.mrn


def test_a_likely_duplicate_is_flagged_until_confirmed(front_desk) -> None:
    _register(front_desk)
    with pytest.raises(Conflict) as exc:
        _register(front_desk, given_name="ana", confirm_not_duplicate=False)
    assert exc.value.field == "duplicate"
    assert _register(front_desk, confirm_not_duplicate=True).pk


@pytest.mark.parametrize(
    ("field", "kw"),
    [("birth_date", {"birth_date": date(1890, 1, 1)}), ("given_name", {"given_name": ""}), ("sex", {"sex": "x"})],
)
def test_bad_registration_names_the_field(front_desk, field, kw) -> None:
    with pytest.raises(InvalidInput) as exc:
        _register(front_desk, **kw)
    assert exc.value.field == field


def test_a_patient_cannot_register_patients(patient_user) -> None:
    with pytest.raises(NotAllowed):
        _register(patient_user)
