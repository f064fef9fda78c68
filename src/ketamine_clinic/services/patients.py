"""Registering patients and their demographics."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import ClinicSettings, EventType, Patient, User

__all__ = ["do_create_patient", "do_create_patient_login", "next_mrn"]

_SEXES = ("female", "male", "other")


def _check(given_name: str, family_name: str, birth_date: date, sex: str, at: datetime) -> None:
    if not given_name.strip() or len(given_name) > 80:
        raise InvalidInput("given name must be 1 to 80 characters", field="given_name")
    if not family_name.strip() or len(family_name) > 80:
        raise InvalidInput("family name must be 1 to 80 characters", field="family_name")
    if not date(1900, 1, 1) <= birth_date <= at.date():
        raise InvalidInput(f"birth date must be from 1900-01-01 to {at.date().isoformat()}", field="birth_date")
    if sex not in _SEXES:
        raise InvalidInput(f"sex must be one of: {', '.join(_SEXES)}", field="sex")


def do_create_patient(
    *,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
    at: datetime,
    phone: str = "",
    email: str = "",
    user: User | None = None,
    confirm_not_duplicate: bool = True,
    acting_user: User | None,
) -> Patient:
    """Register a patient (front desk, intake staff or the command line). ``mrn=""`` takes
    the next free number under a lock, so two registrations at once never collide. With
    ``confirm_not_duplicate=False`` a patient with the same name and birth date is refused
    with a ``Conflict`` on ``duplicate`` naming the existing record."""
    if acting_user is not None and not (
        can(acting_user.role, Action.MANAGE_SCHEDULE) or can(acting_user.role, Action.EDIT_INTAKE)
    ):
        raise NotAllowed("Your role may not register patients.")
    _check(given_name, family_name, birth_date, sex, at)
    with transaction.atomic():
        ClinicSettings.objects.get_or_create(singleton=1)
        ClinicSettings.objects.select_for_update().filter(singleton=1).first()  # registrations one at a time
        if not confirm_not_duplicate:
            twin = Patient.objects.filter(
                given_name__iexact=given_name.strip(), family_name__iexact=family_name.strip(), birth_date=birth_date
            ).first()
            if twin is not None:
                raise Conflict(
                    f"{twin.full_name}, born {birth_date:%Y-%m-%d}, is already registered as {twin.mrn}. "
                    "Open that record, or confirm this is a different person.",
                    field="duplicate",
                )
        mrn = mrn or next_mrn()
        if Patient.objects.filter(mrn=mrn).exists():
            raise Conflict(f"Medical record number {mrn} is already in use.", field="mrn")
        patient = Patient.objects.create(
            mrn=mrn,
            given_name=given_name.strip(),
            family_name=family_name.strip(),
            birth_date=birth_date,
            sex=sex,
            phone=phone,
            email=email,
            user=user,
            created_at=at,
        )
        audit.record(
            EventType.PATIENT_CREATED,
            actor=acting_user,
            patient=patient,
            subject=patient,
            new={"mrn": mrn},
            at=at,
        )
    return patient


def next_mrn() -> str:
    """The next free medical record number, KC-<n>."""
    numbers = [
        int(m[3:])
        for m in Patient.objects.filter(mrn__startswith="KC-").values_list("mrn", flat=True)
        if m[3:].isdigit()
    ]
    return f"KC-{max(numbers, default=1000) + 1}"


def do_create_patient_login(patient: Patient, *, username: str, password: str, acting_user: User | None) -> User:
    """Give a registered patient a login to see their own care (admin); both or neither."""
    from ketamine_clinic.services.accounts import do_create_user

    with transaction.atomic():
        if patient.user_id is not None:
            raise Conflict("This patient already has a login.", field="patient_mrn")
        user = do_create_user(
            username,
            "patient",
            password,
            first_name=patient.given_name,
            last_name=patient.family_name,
            email=patient.email,
            acting_user=acting_user,
        )
        patient.user = user
        patient.save(update_fields=["user"])
        audit.record(
            EventType.PATIENT_UPDATED, actor=acting_user, patient=patient, subject=patient, new={"login": username}
        )
    return user
