"""Reaching a person: the on-call rota, alert e-mails and the escalation deadline.

An urgent suicide-risk alert enqueues two background jobs in the transaction that raises
it (so a job exists exactly when the alert does, and survives a restart):

* ``notify_urgent_alert`` at once: an e-mail to the on-call prescriber(s) [S65];
* ``escalate_alert`` at the acknowledgement deadline (clinic setting
  ``suicide_ack_deadline_min``): when no prescriber has taken or closed the alert by
  then, it goes to every active prescriber and the medical director.

A pause- or stop-level alert at the chair (a vital sign, a severe side effect, the ordered
dose reached) enqueues ``notify_chairside_alert``: the on-call prescriber hears of it even
when away from the chair.

Each message is a ``Notification`` row, unique per alert, kind and recipient; the row is
locked while its e-mail is sent and marked sent in the same transaction, so two workers
never send it twice. A failed send is retried with back-off (``MAX_ATTEMPTS``); the
failures stay visible to the admin on the jobs page. Messages carry no patient name:
only the alert number, its severity and a link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from ketamine_clinic.domain.policy import Action, Role
from ketamine_clinic.services import audit
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import Alert, EventType, Notification, OnCallShift, User

__all__ = [
    "MAX_ATTEMPTS",
    "do_add_on_call_shift",
    "escalate_alert",
    "escalation_recipients",
    "notify_urgent_alert",
    "on_call_now",
    "notify_chairside_alert",
    "schedule_for_chairside_alert",
    "schedule_for_urgent_alert",
]

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=1)


def _prescribers() -> QuerySet[User]:
    return User.objects.filter(role=Role.PRESCRIBER, is_active=True)


def on_call_now(at: datetime) -> list[User]:
    """The prescribers on call at ``at`` by the rota; without a shift, the medical
    director(s); without one, every active prescriber (nobody is ever left out)."""
    shifts = OnCallShift.objects.filter(starts_at__lte=at, ends_at__gt=at, prescriber__is_active=True)
    people = [s.prescriber for s in shifts.select_related("prescriber")]
    if people:
        return list({p.pk: p for p in people}.values())
    directors = list(_prescribers().filter(is_medical_director=True))
    return directors or list(_prescribers())


def escalation_recipients() -> list[User]:
    """Every active prescriber, the medical director included."""
    return list(_prescribers())


def do_add_on_call_shift(
    prescriber: User, *, starts_at: datetime, ends_at: datetime, at: datetime, acting_user: User
) -> OnCallShift:
    require(acting_user, Action.MANAGE_ON_CALL, "Your role may not change the on-call rota.")
    if prescriber.role != Role.PRESCRIBER or not prescriber.is_active:
        raise InvalidInput("the person on call must be an active prescriber", field="prescriber")
    if not starts_at < ends_at <= starts_at + timedelta(days=14):
        raise InvalidInput("a shift ends after it starts and lasts at most 14 days", field="ends_at")
    if not prescriber.email:
        raise InvalidInput("the prescriber has no e-mail address; add one on the users page", field="prescriber")
    with transaction.atomic():
        shift = OnCallShift.objects.create(
            prescriber=prescriber, starts_at=starts_at, ends_at=ends_at, created_by=acting_user, created_at=at
        )
        audit.record(
            EventType.ON_CALL_CHANGED,
            actor=acting_user,
            subject=shift,
            new={"prescriber": prescriber.username, "starts_at": starts_at, "ends_at": ends_at},
            at=at,
        )
    return shift


def schedule_for_urgent_alert(alert: Alert) -> None:
    """Enqueue the on-call message now and the escalation at the deadline (caller's transaction)."""
    notify_urgent_alert.enqueue(alert.pk, 1)
    escalate_alert.using(run_after=alert.ack_deadline_at).enqueue(alert.pk, 1)


def schedule_for_chairside_alert(alert: Alert) -> None:
    """Enqueue the on-call message for a pause or stop alert (caller's transaction)."""
    notify_chairside_alert.enqueue(alert.pk, 1)


def _link(alert: Alert) -> str:
    return f"{settings.KC_PUBLIC_URL}{reverse('alert', args=[alert.pk])}"


def _message(alert: Alert, kind: str) -> tuple[str, str]:
    raised = timezone.localtime(alert.raised_at).strftime("%d %b %Y %H:%M")
    deadline = timezone.localtime(alert.ack_deadline_at).strftime("%H:%M") if alert.ack_deadline_at else "-"
    if kind == "chairside":
        subject = f"{alert.severity.upper()} alert #{alert.pk} at the chair: a prescriber's review is needed"
        body = (
            f"A {alert.severity}-level alert was raised at the chair {raised} during a treatment session. "
            "Dosing is held until it is acknowledged.\n\n"
            f"Open the alert (log in first): {_link(alert)}\n\nThis message holds no patient details by design.\n"
        )
        return subject, body
    if kind == "escalation":
        subject = f"OVERDUE urgent suicide-risk alert #{alert.pk}: no prescriber has taken it"
        lead = (
            f"An urgent suicide-risk alert raised {raised} was not taken by {deadline}. "
            "It now goes to every prescriber."
        )
    else:
        subject = f"URGENT suicide-risk alert #{alert.pk}: a prescriber's assessment is needed"
        lead = f"An urgent suicide-risk alert was raised {raised}. Please take it by {deadline}."
    body = (
        f"{lead}\n\nOpen the alert (log in first): {_link(alert)}\n\n"
        "No dose can be given and the patient cannot be discharged until a prescriber's suicide-risk "
        "assessment closes it.\nThis message holds no patient details by design.\n"
    )
    return subject, body


def _send(alert: Alert, kind: str, recipients: list[User], now: datetime) -> int:
    """Create one row per recipient (once), then send each unsent row under its lock."""
    if not recipients:
        raise RuntimeError("no active prescriber to notify: add one on the users page")
    for person in recipients:
        Notification.objects.get_or_create(
            alert=alert,
            kind=kind,
            recipient=person,
            defaults={"address": person.email or "", "created_at": now},
        )
    sent = 0
    failures: list[str] = []
    for pk in Notification.objects.filter(alert=alert, kind=kind, sent_at=None).values_list("pk", flat=True):
        with transaction.atomic():
            row = Notification.objects.select_for_update(skip_locked=True).filter(pk=pk, sent_at=None).first()
            if row is None:
                continue  # another worker holds it or has sent it
            if not row.address:
                row.last_error = "no e-mail address on file"
                row.attempts += 1
                row.save(update_fields=["last_error", "attempts"])
                continue
            subject, body = _message(alert, kind)
            try:
                send_mail(subject, body, None, [row.address])
            except Exception as exc:  # any transport failure is retried
                failures.append(f"{row.address}: {exc}")
                row.attempts += 1
                row.last_error = str(exc)[:300]
                row.save(update_fields=["attempts", "last_error"])
                continue
            row.sent_at, row.attempts = timezone.now(), row.attempts + 1
            row.save(update_fields=["sent_at", "attempts"])
            audit.record(
                EventType.NOTIFICATION_SENT,
                actor=None,
                patient=alert.patient,
                subject=alert,
                new={"kind": kind, "to": row.recipient.username},
            )
            sent += 1
    if failures:
        raise RuntimeError("could not send: " + "; ".join(failures))
    return sent


def _retry(job: object, alert_id: int, attempt: int, exc: Exception) -> None:
    if attempt < MAX_ATTEMPTS:
        job.using(run_after=timezone.now() + RETRY_AFTER * attempt).enqueue(alert_id, attempt + 1)  # type: ignore[attr-defined]
    raise exc


@task()
def notify_urgent_alert(alert_id: int, attempt: int = 1) -> int:
    """Send the on-call prescriber(s) the urgent alert; retried on failure."""
    alert = Alert.objects.select_related("patient").get(pk=alert_id)
    if alert.acknowledged_at is not None:
        return 0
    try:
        return _send(alert, "urgent", on_call_now(timezone.now()), timezone.now())
    except Exception as exc:
        _retry(notify_urgent_alert, alert_id, attempt, exc)
        raise  # pragma: no cover (``_retry`` raises)


@task()
def notify_chairside_alert(alert_id: int, attempt: int = 1) -> int:
    """Tell the on-call prescriber(s) of a pause or stop alert at the chair; retried on failure.
    Nothing is sent once the alert has been acknowledged."""
    alert = Alert.objects.select_related("patient").get(pk=alert_id)
    if alert.acknowledged_at is not None:
        return 0
    try:
        return _send(alert, "chairside", on_call_now(timezone.now()), timezone.now())
    except Exception as exc:
        _retry(notify_chairside_alert, alert_id, attempt, exc)
        raise  # pragma: no cover (``_retry`` raises)


@task()
def escalate_alert(alert_id: int, attempt: int = 1) -> int:
    """At the deadline: if nobody has taken or closed the alert, mark it escalated and tell
    every prescriber and the medical director [S65]."""
    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("patient").get(pk=alert_id)
        if alert.acknowledged_at is not None or alert.claimed_at is not None:
            return 0
        if alert.ack_deadline_at is not None and alert.ack_deadline_at > now:
            escalate_alert.using(run_after=alert.ack_deadline_at).enqueue(alert_id, attempt)
            return 0
        if alert.escalated_at is None:
            alert.escalated_at = now
            alert.save(update_fields=["escalated_at"])
            audit.record(
                EventType.ALERT_ESCALATED,
                actor=None,
                patient=alert.patient,
                subject=alert,
                new={"deadline": alert.ack_deadline_at},
                at=now,
            )
    try:
        return _send(alert, "escalation", escalation_recipients(), now)
    except Exception as exc:
        _retry(escalate_alert, alert_id, attempt, exc)
        raise  # pragma: no cover (``_retry`` raises)
