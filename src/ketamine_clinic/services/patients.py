"""Registering patients and their demographics."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import ClinicSettings, EventType, Patient, User

__all__ = ["do_create_patient", "do_create_patient_login", "do_invite_to_portal", "do_update_patient", "next_mrn"]

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


def do_update_patient(
    patient: Patient,
    *,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str,
    phone: str,
    email: str,
    at: datetime,
    acting_user: User,
) -> Patient:
    """The front desk (or intake staff) corrects demographics; the audit row keeps the old
    and the new values of what changed. The MRN never changes."""
    if not (can(acting_user.role, Action.MANAGE_SCHEDULE) or can(acting_user.role, Action.EDIT_INTAKE)):
        raise NotAllowed("Your role may not edit demographics.")
    _check(given_name, family_name, birth_date, sex, at)
    if len(phone) > 30:
        raise InvalidInput("phone must be at most 30 characters", field="phone")
    new = {
        "given_name": given_name.strip(),
        "family_name": family_name.strip(),
        "birth_date": birth_date,
        "sex": sex,
        "phone": phone.strip(),
        "email": email.strip(),
    }
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        changed = {k: v for k, v in new.items() if getattr(locked, k) != v}
        if not changed:
            return locked
        old = {k: str(getattr(locked, k)) for k in changed}
        for key, value in changed.items():
            setattr(locked, key, value)
        locked.save(update_fields=list(changed))
        audit.record(
            EventType.PATIENT_UPDATED,
            actor=acting_user,
            patient=locked,
            subject=locked,
            old=old,
            new={k: str(v) for k, v in changed.items()},
            at=at,
        )
    return locked


def do_invite_to_portal(patient: Patient, *, username: str, base_url: str, at: datetime, acting_user: User) -> User:
    """The front desk invites a registered patient to the portal: a patient login without a
    password is made and linked, and the patient's e-mail on file gets a single-use link to
    choose one. The message names no patient, diagnosis or visit (no PHI in e-mail)."""
    import secrets
    from functools import partial

    from django.core.mail import send_mail

    from ketamine_clinic.services.accounts import do_create_user
    from ketamine_clinic.services.passwords import reset_link

    if not can(acting_user.role, Action.MANAGE_SCHEDULE):
        raise NotAllowed("Only the front desk invites patients to the portal.")
    if not patient.email:
        raise InvalidInput("the patient has no e-mail address on file; add one first", field="email")
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.user_id is not None:
            raise Conflict("This patient already has a portal login.", field="username")
        user = do_create_user(
            username,
            "patient",
            secrets.token_urlsafe(24),  # replaced at once by an unusable password
            first_name=locked.given_name,
            last_name=locked.family_name,
            email=locked.email,
            acting_user=None,
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        locked.user = user
        locked.save(update_fields=["user"])
        audit.record(
            EventType.PORTAL_INVITED,
            actor=acting_user,
            patient=locked,
            subject=user,
            new={"username": user.username},
            at=at,
        )
        clinic_name = (ClinicSettings.objects.filter(singleton=1).first() or ClinicSettings()).clinic_name
        transaction.on_commit(
            partial(
                send_mail,
                f"Your {clinic_name} patient portal",
                f"You are invited to the {clinic_name} patient portal.\n\n"
                f"Your user name: {user.username}\n"
                f"Open this link to choose your password (it works once):\n{reset_link(user, base_url)}\n\n"
                "If you did not expect this message, ignore it or call the clinic.",
                None,
                [locked.email],
            )
        )
    return user
