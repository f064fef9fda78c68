"""Registering patients, their demographics, and merging a duplicate registration into
the record that stays (``merge_patients``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit, preprocedure
from ketamine_clinic.services._common import move, require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from ketamine_clinic.storage.models import (
    Alert,
    Assessment,
    CareTeamMember,
    ClinicSettings,
    Course,
    EventType,
    InfusionSession,
    Patient,
    RemsEnrolment,
    User,
    Visit,
    WaitlistEntry,
)

__all__ = [
    "MERGE_HANDLING",
    "do_create_patient",
    "do_create_patient_login",
    "do_invite_to_portal",
    "do_update_patient",
    "merge_patients",
    "merge_summary",
    "next_mrn",
    "patient_relations",
    "possible_duplicates",
    "same_person",
]

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
            twin = next(iter(same_person(given_name, family_name, birth_date)), None)
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


# ---- merging a duplicate registration ----

#: What a merge does with each kind of row that points at the duplicate patient, so no
#: relation is missed: a model not in this table makes every merge fail loudly until it
#: is added (tests/services/test_patient_merge.py checks the table against the schema).
#:   "move"  re-point the duplicate's rows to the kept record
#:   "keep"  leave them on the merged record, which names the kept one (append-only
#:           records whose rows are never changed: the hash-chained audit trail and the
#:           controlled-substance ledger)
#:   "one"   a one-to-one row: moved when the kept record has none, else the merge is refused
#:   "team"  care-team rows: moved unless the person is already on the kept record's team
MERGE_HANDLING: dict[str, str] = {
    "storage.AuditEvent": "keep",
    "storage.LedgerEntry": "keep",
    "storage.Course": "move",
    "storage.Visit": "move",
    "storage.WaitlistEntry": "move",
    "storage.Intake": "move",
    "storage.EligibilityDecision": "move",
    "storage.Assessment": "move",
    "storage.Alert": "move",
    "storage.SuicideRiskAssessment": "move",
    "storage.InfusionSession": "move",
    "storage.Order": "move",
    "storage.OutreachMessage": "move",
    "storage.PatientLink": "move",
    "storage.CheckIn": "move",
    "storage.VisitRequest": "move",
    "storage.PreProcedureRecord": "move",
    "storage.ConsentSignature": "move",
    "storage.Patient": "move",  # duplicates merged earlier into the duplicate now name the kept record
    "storage.RemsEnrolment": "one",
    "storage.CareTeamMember": "team",
}

_MERGE_REASON = (10, 300)


def patient_relations() -> list[tuple[type[Any], str]]:
    """Every (model, field name) whose foreign key points at ``Patient``, hidden ones too."""
    return [
        (rel.related_model, rel.field.name)
        for rel in Patient._meta.get_fields(include_hidden=True)
        if isinstance(rel, ForeignObjectRel) and isinstance(rel.related_model, type)
    ]


def same_person(given_name: str, family_name: str, birth_date: date) -> list[Patient]:
    """Active records with this name (any case) and birth date: the registration check."""
    return list(
        Patient.objects.filter(
            status="active",
            given_name__iexact=given_name.strip(),
            family_name__iexact=family_name.strip(),
            birth_date=birth_date,
        ).order_by("id")
    )


def possible_duplicates(patient: Patient) -> list[Patient]:
    """Other active records with the same name and birth date as ``patient``."""
    return [p for p in same_person(patient.given_name, patient.family_name, patient.birth_date) if p.pk != patient.pk]


def _demographic_differences(keep: Patient, duplicate: Patient) -> list[str]:
    def norm(value: str) -> str:
        return " ".join(value.casefold().split())

    out = []
    for label, a, b in (
        ("family name", norm(keep.family_name), norm(duplicate.family_name)),
        ("given name", norm(keep.given_name), norm(duplicate.given_name)),
        ("birth date", keep.birth_date.isoformat(), duplicate.birth_date.isoformat()),
        ("sex", keep.sex, duplicate.sex),
    ):
        if a != b:
            out.append(f"{label} {b} / {a}")
    return out


def _pre_procedure_refusal(keep: Patient, duplicate: Patient) -> None:
    """The kept record's pre-procedure record must be the latest and hold every allergy and
    medicine the duplicate's latest one lists: after the merge the page, the banner and the
    checklist read only the newest record, so anything else would hide an allergy."""
    dup, kept = preprocedure.current_record(duplicate), preprocedure.current_record(keep)
    if dup is None or kept is None:
        return  # one record or none: the one there is stays the current one

    def names(rows: list[dict[str, Any]], key: str) -> set[str]:
        return {" ".join(str(r.get(key, "")).casefold().split()) for r in rows or [] if r.get(key)}

    missing = sorted(names(dup.allergies, "substance") - names(kept.allergies, "substance"))
    missing += sorted(names(dup.medications, "name") - names(kept.medications, "name"))
    if missing or (dup.at, dup.pk) > (kept.at, kept.pk):
        detail = f" (missing on the kept record: {', '.join(missing)})" if missing else ""
        raise Conflict(
            "Both records have a pre-procedure record: a clinician first records one on the kept record with "
            f"both records' allergies and medicines{detail}; then merge.",
            field="pre_procedure",
        )


def _merge_refusal(keep: Patient, duplicate: Patient) -> None:
    """Raise ``Conflict`` naming the field when the duplicate's data cannot be moved safely."""
    if keep.pk == duplicate.pk:
        raise Conflict("Choose two different records to merge.", field="duplicate")
    for row, field in ((keep, "keep"), (duplicate, "duplicate")):
        if row.status != "active":
            raise Conflict(f"{row.full_name} ({row.mrn}) is already merged into another record.", field=field)
    differences = _demographic_differences(keep, duplicate)
    if differences:
        raise Conflict(
            "Only two registrations of the same person are merged, and these differ: "
            f"{'; '.join(differences)}. If they are one person, correct the wrong record first.",
            field="duplicate",
        )
    _pre_procedure_refusal(keep, duplicate)
    if all(WaitlistEntry.objects.filter(patient=p, status="waiting").exists() for p in (keep, duplicate)):
        raise Conflict("Both records are on the waiting list; take one entry off it first.", field="waitlist")
    active = [p.mrn for p in (keep, duplicate) if p.courses.filter(status__in=Course.ACTIVE).exists()]
    if len(active) == 2:
        raise Conflict(
            "Both records have an active treatment course; a prescriber must end one before the merge.",
            field="course",
        )
    if InfusionSession.objects.filter(patient=duplicate, status__in=InfusionSession.OPEN_STATUSES).exists():
        raise Conflict(
            f"{duplicate.mrn} has a session in progress; merge after the patient is discharged.", field="session"
        )
    if all(Alert.objects.filter(patient=p, kind="suicide_risk", acknowledged_at__isnull=True).exists()
           for p in (keep, duplicate)):  # fmt: skip
        raise Conflict(
            "Both records have an open suicide-risk alert; a prescriber must close one before the merge.",
            field="alert",
        )
    if keep.user_id is not None and duplicate.user_id is not None:
        raise Conflict("Both records have a portal login; an administrator must disable one first.", field="user")
    if RemsEnrolment.objects.filter(patient__in=[keep, duplicate]).count() == 2:
        raise Conflict("Both records have a REMS enrolment; only one may stay.", field="rems_enrolment")


def _move_rows(keep: Patient, duplicate: Patient) -> dict[str, list[int]]:
    """Re-point the duplicate's rows as ``MERGE_HANDLING`` says; the ids moved, per model."""
    moved: dict[str, list[int]] = {}
    for model, field in patient_relations():
        how = MERGE_HANDLING.get(model._meta.label)
        if how is None:
            raise RuntimeError(f"merge: {model._meta.label}.{field} points at Patient; add it to MERGE_HANDLING")
        rows = model._default_manager.filter(**{field: duplicate})
        if how == "keep":
            continue
        if how == "team":
            rows = rows.exclude(user_id__in=CareTeamMember.objects.filter(patient=keep).values("user_id"))
        ids = list(rows.order_by("pk").values_list("pk", flat=True))
        if ids:
            model._default_manager.filter(pk__in=ids).update(**{field: keep})
            moved[model.__name__] = ids
    return moved


def merge_patients(
    keep: Patient, duplicate: Patient, *, reason: str, acting_user: User, at: datetime | None = None
) -> Patient:
    """Merge the duplicate registration ``duplicate`` into ``keep`` (front desk or admin):
    its visits, courses, orders, sessions, scores, alerts, waiting list, outreach, links,
    portal login and REMS enrolment move to the kept record (``MERGE_HANDLING``); the
    duplicate stays, marked merged into ``keep`` (never deleted), with its audit trail and
    ledger entries. One transaction, both rows locked (lower id first), one audit row naming
    every row moved. Returns the kept record.

    Errors: ``NotAllowed`` for other roles; ``InvalidInput`` (``reason``) for a reason
    outside 10-300 characters; ``Conflict`` naming the field when the data cannot be moved
    safely: the same record, a record already merged, two active courses (``course``), a
    session in progress on the duplicate (``session``), two open suicide-risk alerts
    (``alert``), two portal logins (``user``), two REMS enrolments (``rems_enrolment``)."""
    require(acting_user, Action.MERGE_PATIENTS, "Only the front desk or an administrator merges patient records.")
    reason = reason.strip()
    if not _MERGE_REASON[0] <= len(reason) <= _MERGE_REASON[1]:
        raise InvalidInput(f"reason must be {_MERGE_REASON[0]} to {_MERGE_REASON[1]} characters", field="reason")
    at = at or timezone.now()
    with transaction.atomic():
        locked = {
            p.pk: p for p in Patient.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk]).order_by("pk")
        }
        if keep.pk not in locked or duplicate.pk not in locked:
            raise NotFound("No such patient.")
        kept, dup = locked[keep.pk], locked[duplicate.pk]
        _merge_refusal(kept, dup)
        user_id = dup.user_id
        dup.status = move("patient", dup.status, "merged")
        dup.merged_into, dup.merged_at, dup.user = kept, at, None
        dup.save(update_fields=["status", "merged_into", "merged_at", "user"])
        moved = _move_rows(kept, dup)
        if user_id is not None:
            kept.user_id = user_id
            kept.save(update_fields=["user"])
            moved["User"] = [user_id]
        for model in audit.WATCHED.values():  # their audited values now name the kept record
            for row in model._default_manager.filter(pk__in=moved.get(model.__name__, [])).order_by("pk"):
                audit.record(
                    EventType.PATIENT_MERGED, actor=acting_user, patient=kept, subject=row, new={"from": dup.pk}, at=at
                )
        audit.record(
            EventType.PATIENT_MERGED,
            actor=acting_user,
            patient=kept,
            subject=dup,
            old={"duplicate": dup.pk, "duplicate_mrn": dup.mrn},
            new={"kept": kept.pk, "kept_mrn": kept.mrn, "reason": reason, "moved": moved},
            at=at,
        )
    return kept


def merge_summary(patient: Patient) -> dict[str, Any]:
    """What the merge page shows of one record, side by side with the other: demographics,
    the portal login, and how many of each kind of row would move (read-only)."""
    counts = {
        "visits": Visit.objects.filter(patient=patient).count(),
        "courses": Course.objects.filter(patient=patient).count(),
        "active_course": Course.objects.filter(patient=patient, status__in=Course.ACTIVE).exists(),
        "sessions": InfusionSession.objects.filter(patient=patient).count(),
        "open_session": InfusionSession.objects.filter(
            patient=patient, status__in=InfusionSession.OPEN_STATUSES
        ).exists(),
        "questionnaires": Assessment.objects.filter(patient=patient).count(),
        "waitlist": WaitlistEntry.objects.filter(patient=patient, status="waiting").count(),
    }
    return {"patient": patient, "portal": patient.user_id is not None, **counts}
