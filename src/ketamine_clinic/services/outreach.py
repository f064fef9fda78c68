"""Reminders, pre-visit questionnaire links and next-day check-ins (background jobs).

One job, ``outreach_sweep``, runs on the clinic's worker every ``SWEEP_EVERY`` and
re-enqueues itself. Each run:

1. creates the messages that have fallen due (``OutreachMessage``, unique per visit, kind,
   lead time, channel and visit time, so a second sweep or a second worker adds nothing):
   * an appointment reminder at each of the clinic's lead times (``PracticeSettings.
     reminder_hours_before``, default 48 h and 2 h); a visit booked inside a shorter window
     gets only the shorter reminder;
   * ``previsit_hours_before`` (default 48 h) before a visit, a single-use link to the PHQ-9
     and the course's own measure, valid until the visit starts, so the scores are in
     before the infusion;
   * the day after a discharged infusion at ``checkin_hour_next_day`` (clinic time), a
     single-use link to a short check-in (mood, side effects), valid ``checkin_valid_hours``;
2. sends every pending message under its row lock (e-mail through Django's backend, SMS
   through ``services.sms``), re-checking first that the visit still stands at that time.

Messages carry the sender's name, the appointment time and, for links, the link: no
patient name, no diagnosis, drug, dose or score; the link's token says nothing about the
patient and only its SHA-256 is stored (docs/decisions/0021-reminders-and-links.md).
Questionnaire links go to patients with a portal account (the answers are recorded as
theirs); others get reminders only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from ketamine_clinic.domain.chairside import side_effect_label
from ketamine_clinic.services import alerts, audit, clinic, documents, measures, sms
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotFound
from ketamine_clinic.storage.models import (
    CheckIn,
    EventType,
    InfusionSession,
    OutreachMessage,
    PatientLink,
    PracticeSettings,
    Visit,
)

__all__ = [
    "CHECK_IN_EFFECTS",
    "SWEEP_EVERY",
    "SweepResult",
    "do_record_check_in",
    "do_submit_questionnaires",
    "ensure_outreach_sweep",
    "link_for_token",
    "outreach_sweep",
    "sweep",
]

SWEEP_EVERY = timedelta(minutes=5)
MAX_ATTEMPTS = 5

#: What a patient may report the next day: the common effects the clinic explains, and
#: the ones that need a clinician's call ([S23][S30][S44]).
CHECK_IN_EFFECTS: tuple[str, ...] = (
    "drowsiness_dreamlike",
    "visual_disturbance",
    "confusion",
    "nausea_vomiting",
    "appetite_loss",
    "insomnia",
    "headache",
    "dizziness",
    "urinary",
    "hallucinations_paranoia",
)
#: Reported the next day, these raise an alert for the care team [S30][S44].
CHECK_IN_ALERT_EFFECTS = frozenset({"urinary", "hallucinations_paranoia", "confusion"})


@dataclass(frozen=True)
class SweepResult:
    created: int
    sent: int
    skipped: int
    failed: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _when(at: datetime) -> str:
    return f"{timezone.localtime(at):%a %d %b at %H:%M}"


def _channels(visit: Visit, ps: PracticeSettings) -> list[tuple[str, str]]:
    patient = visit.patient
    out = []
    if ps.email_enabled and patient.email:
        out.append(("email", patient.email))
    if ps.sms_enabled and patient.phone:
        out.append(("sms", patient.phone))
    return out


def _link_url(token: str) -> str:
    return f"{settings.KC_PUBLIC_URL}/q/{token}/"


def _text(kind: str, visit: Visit, url: str, expires_at: datetime | None, ps: PracticeSettings) -> tuple[str, str]:
    sender = documents.sender_name()
    phone = clinic.clinic_phone()
    call = f" or call {phone}" if phone else ""
    if kind == "reminder":
        return (
            f"{sender}: appointment reminder",
            f"{sender}: a reminder of your appointment on {_when(visit.starts_at)}. "
            f"To cancel or change it, use the patient portal{call}.",
        )
    if kind == "previsit":
        return (
            f"{sender}: questions before your appointment",
            f"{sender}: before your appointment on {_when(visit.starts_at)}, please answer a few short "
            f"questions: {url} The link works once and expires when the appointment starts.",
        )
    assert expires_at is not None
    return (
        f"{sender}: how are you today?",
        f"{sender}: how are you feeling today? A one-minute check-in: {url} "
        f"The link works once, until {_when(expires_at)}. If you feel unsafe, call 988 or 911.",
    )


def _instruments(visit: Visit) -> list[str]:
    """The PHQ-9 and the course's own measure when it is a self-report one."""
    own = visit.course.baseline_instrument
    codes = ["phq9"]
    if own != "phq9" and own in measures.PATIENT_INSTRUMENTS:
        codes.append(own)
    return codes


def _new_link(visit: Visit, purpose: str, expires_at: datetime, now: datetime) -> tuple[PatientLink, str]:
    token = secrets.token_urlsafe(32)
    link = PatientLink.objects.create(
        token_digest=_digest(token),
        patient=visit.patient,
        visit=visit,
        purpose=purpose,
        instruments=_instruments(visit) if purpose == "previsit" else [],
        created_at=now,
        expires_at=expires_at,
    )
    return link, token


def _create(
    visit: Visit, kind: str, lead: int, now: datetime, ps: PracticeSettings, expires_at: datetime | None
) -> int:
    """The messages of one kind for one visit, once; a link shared by its channels."""
    channels = _channels(visit, ps)
    if not channels:
        return 0
    key = {"visit": visit, "kind": kind, "lead_hours": lead, "visit_starts_at": visit.starts_at}
    if OutreachMessage.objects.filter(**key).exists():
        return 0
    created = 0
    try:
        with transaction.atomic():
            link, url = None, ""
            if kind != "reminder":
                assert expires_at is not None
                link, token = _new_link(visit, kind, expires_at, now)
                url = _link_url(token)
            subject, body = _text(kind, visit, url, expires_at, ps)
            for channel, to in channels:
                OutreachMessage.objects.create(
                    **key, patient=visit.patient, channel=channel, to=to, subject=subject, body=body, link=link,
                    created_at=now,
                )  # fmt: skip
                created += 1
    except IntegrityError:  # another worker created them first
        return 0
    return created


def _portal(visit: Visit) -> bool:
    user = visit.patient.user
    return user is not None and user.is_active


def _create_due(now: datetime, ps: PracticeSettings) -> int:
    created = 0
    hours = sorted(int(h) for h in ps.reminder_hours_before)
    horizon = max([*hours, ps.previsit_hours_before])
    upcoming = Visit.objects.filter(
        status="scheduled", starts_at__gt=now, starts_at__lte=now + timedelta(hours=horizon)
    ).select_related("patient__user", "course")
    for visit in upcoming:
        left = visit.starts_at - now
        windows = [h for h in hours if left <= timedelta(hours=h)]
        if windows:
            created += _create(visit, "reminder", min(windows), now, ps, None)
        if left <= timedelta(hours=ps.previsit_hours_before) and _portal(visit):
            created += _create(visit, "previsit", ps.previsit_hours_before, now, ps, visit.starts_at)
    created += _create_check_ins(now, ps)
    return created


def _check_in_window(discharged_at: datetime, ps: PracticeSettings) -> tuple[datetime, datetime]:
    local = timezone.localtime(discharged_at) + timedelta(days=1)
    opens = local.replace(hour=ps.checkin_hour_next_day, minute=0, second=0, microsecond=0)
    return opens, opens + timedelta(hours=ps.checkin_valid_hours)


def _create_check_ins(now: datetime, ps: PracticeSettings) -> int:
    created = 0
    since = now - timedelta(days=1, hours=ps.checkin_valid_hours + 24)
    done = InfusionSession.objects.filter(status="discharged", discharged_at__gte=since).select_related(
        "visit__patient__user", "visit__course"
    )
    for session in done:
        opens, closes = _check_in_window(session.discharged_at, ps)  # type: ignore[arg-type]
        if opens <= now < closes and _portal(session.visit):
            created += _create(session.visit, "checkin", 0, now, ps, closes)
    return created


def _still_relevant(message: OutreachMessage, now: datetime) -> bool:
    visit = message.visit
    if message.kind == "checkin":
        return message.link is None or message.link.expires_at > now
    return visit.status == "scheduled" and visit.starts_at == message.visit_starts_at and visit.starts_at > now


def _deliver(message: OutreachMessage, now: datetime) -> None:
    if message.channel == "email":
        send_mail(message.subject, message.body, None, [message.to], fail_silently=False)
    else:
        sms.get_backend().send(message.to, message.body, at=now)


def _send_one(pk: int, now: datetime) -> str:
    with transaction.atomic():
        message = (
            OutreachMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("visit", "link", "patient")
            .filter(pk=pk, status="pending")
            .first()
        )
        if message is None:
            return "busy"
        if not _still_relevant(message, now):
            message.status = "skipped"
            message.save(update_fields=["status"])
            return "skipped"
        message.attempts += 1
        try:
            _deliver(message, now)
        except Exception as exc:  # noqa: BLE001 - any gateway failure is recorded and retried
            message.error = f"{type(exc).__name__}: {exc}"[:300]
            message.status = "failed" if message.attempts >= MAX_ATTEMPTS else "pending"
            message.save(update_fields=["attempts", "error", "status"])
            return "failed"
        message.status, message.sent_at = "sent", now
        message.save(update_fields=["attempts", "status", "sent_at"])
        audit.record(
            EventType.OUTREACH_SENT,
            actor=None,
            patient=message.patient,
            subject=message,
            new={"kind": message.kind, "channel": message.channel, "visit": message.visit_id},
        )
    return "sent"


def sweep(now: datetime | None = None) -> SweepResult:
    """Create what has fallen due by ``now`` and send every pending message."""
    now = now or timezone.now()
    ps = documents.practice_settings()
    created = _create_due(now, ps)
    counts = {"sent": 0, "skipped": 0, "failed": 0, "busy": 0}
    for pk in (
        OutreachMessage.objects.filter(status="pending").order_by("created_at", "id").values_list("pk", flat=True)
    ):
        counts[_send_one(pk, now)] += 1
    return SweepResult(created, counts["sent"], counts["skipped"], counts["failed"])


@task()
def outreach_sweep() -> dict[str, int]:
    """The worker's job: sweep now, then enqueue the next sweep."""
    result = sweep()
    outreach_sweep.using(run_after=timezone.now() + SWEEP_EVERY).enqueue()
    return {"created": result.created, "sent": result.sent, "skipped": result.skipped, "failed": result.failed}


def ensure_outreach_sweep() -> bool:
    """Enqueue the sweep unless one is already waiting or running (called when a worker starts);
    ``True`` when it enqueued one."""
    from ketamine_clinic.services.jobs import ensure_waiting

    return ensure_waiting(outreach_sweep)


# ---- the patient's side of a link ----


def link_for_token(token: str, *, now: datetime) -> PatientLink:
    """The open link for ``token``; ``NotFound`` for an unknown token, ``Conflict`` for one
    used or expired (the page then says so and points to the portal)."""
    link = PatientLink.objects.select_related("patient__user", "visit").filter(token_digest=_digest(token)).first()
    if link is None:
        raise NotFound("This link is not valid.")
    if link.used_at is not None:
        raise Conflict("This link was already used.", field="link")
    if link.expires_at <= now:
        raise Conflict("This link has expired.", field="link")
    return link


def _use(link: PatientLink, now: datetime) -> PatientLink:
    """Claim ``link`` under its row lock (two tabs, two clicks: one wins)."""
    locked = PatientLink.objects.select_for_update().get(pk=link.pk)
    if locked.used_at is not None:
        raise Conflict("This link was already used.", field="link")
    if locked.expires_at <= now:
        raise Conflict("This link has expired.", field="link")
    locked.used_at = now
    locked.save(update_fields=["used_at"])
    return locked


def do_submit_questionnaires(link: PatientLink, answers: dict[str, list[int | None]], *, now: datetime) -> list[Any]:
    """Record every questionnaire of a pre-visit link as the patient's own, all or none,
    and spend the link. Each questionnaire is checked before anything is saved, so a
    missing answer names its questionnaire and item and the link stays usable."""
    if link.purpose != "previsit":
        raise InvalidInput("this link is not a questionnaire link", field="link")
    user = link.patient.user
    if user is None:
        raise Conflict("Your record has no portal account: please ask the front desk.", field="link")
    for code in link.instruments:
        try:
            measures.score(code, answers.get(code, []))
        except ValueError as exc:
            raise InvalidInput(
                f"{measures.instrument_name(code)}: {exc}", field=f"{code}-{measures.error_field(exc)}"
            ) from None
    rows = []
    with transaction.atomic():
        _use(link, now)
        for code in link.instruments:
            rows.append(
                measures.do_record_assessment(
                    link.patient, code, answers[code], at=now, acting_user=user, visit=link.visit
                )
            )
        audit.record(
            EventType.PATIENT_LINK_USED,
            actor=user,
            patient=link.patient,
            subject=link,
            new={"purpose": link.purpose, "instruments": link.instruments, "visit": link.visit_id},
        )
    return rows


def do_record_check_in(link: PatientLink, *, mood: int | None, effects: list[str], note: str, now: datetime) -> CheckIn:
    """The next-day check-in: mood from -2 to 2, effects from ``CHECK_IN_EFFECTS``, a note of
    at most 500 characters. Effects a clinician must hear about, or a mood much worse,
    raise a notify alert for the care team [S30][S44]."""
    if link.purpose != "checkin":
        raise InvalidInput("this link is not a check-in link", field="link")
    user = link.patient.user
    if user is None:
        raise Conflict("Your record has no portal account: please ask the front desk.", field="link")
    if mood not in (-2, -1, 0, 1, 2):
        raise InvalidInput("mood: choose one of the five answers", field="mood")
    unknown = [e for e in effects if e not in CHECK_IN_EFFECTS]
    if unknown:
        raise InvalidInput("side effects: choose from the list", field="effects")
    if len(note) > 500:
        raise InvalidInput("note: at most 500 characters", field="note")
    with transaction.atomic():
        _use(link, now)
        row = CheckIn.objects.create(
            patient=link.patient, visit=link.visit, mood=mood, effects=list(effects), note=note.strip(), at=now,
            recorded_by=user,
        )  # fmt: skip
        audit.record(
            EventType.CHECK_IN_RECORDED,
            actor=user,
            patient=link.patient,
            subject=row,
            new={"mood": mood, "effects": effects, "visit": link.visit_id},
        )
        worrying = [side_effect_label(e) for e in effects if e in CHECK_IN_ALERT_EFFECTS]
        if worrying or mood == -2:
            reported = ", ".join(worrying + (["mood much worse"] if mood == -2 else []))
            alerts.raise_alert(
                link.patient,
                kind="check_in",
                severity="notify",
                message=f"Next-day check-in after visit #{link.visit.number}: {reported}. Call the patient.",
                source="[S30][S44]",
                at=now,
                actor=user,
            )
    return row
