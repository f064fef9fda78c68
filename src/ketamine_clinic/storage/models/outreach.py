"""Documents and outreach: the practice's identifiers and reminder times, the messages sent
to patients (reminders, pre-visit links, next-day check-ins), the SMS outbox, single-use
questionnaire links and the next-day check-in answers (docs/decisions/0020, 0021)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


def _default_reminder_hours() -> list[int]:
    return [48, 2]


class PracticeSettings(models.Model):
    """One row: what superbills print and when patients are reminded (admin page
    ``admin-practice``). Identifiers are blank until the clinic enters them; a superbill
    prints "not set" rather than an invented number."""

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    address = models.CharField(max_length=200, blank=True)
    npi = models.CharField("group NPI", max_length=10, blank=True)
    tax_id = models.CharField("tax identification number", max_length=12, blank=True)
    place_of_service = models.CharField(max_length=2, default="11")
    prescriber_npis = models.JSONField(default=dict, blank=True, help_text="prescriber user id -> individual NPI")
    sender_name = models.CharField(
        max_length=60, blank=True, help_text="name messages are signed with; blank: the clinic's name"
    )
    reminder_hours_before = models.JSONField(default=_default_reminder_hours)
    previsit_hours_before = models.PositiveSmallIntegerField(default=48)
    checkin_hour_next_day = models.PositiveSmallIntegerField(default=10)
    checkin_valid_hours = models.PositiveSmallIntegerField(default=48)
    email_enabled = models.BooleanField(default=True)
    sms_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_practice_settings"


class OutreachMessage(models.Model):
    """One message to one patient about one visit by one channel; created when it falls due
    and sent by the worker. The key (visit, kind, lead, channel, visit time) makes a second
    sweep a no-op and lets a rescheduled visit get its own reminder."""

    KINDS = [("reminder", "appointment reminder"), ("previsit", "pre-visit questionnaire"), ("checkin", "check-in")]
    CHANNELS = [("email", "e-mail"), ("sms", "SMS")]
    STATUSES = [("pending", "pending"), ("sent", "sent"), ("skipped", "skipped"), ("failed", "failed")]
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey("storage.Visit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=KINDS)
    lead_hours = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(max_length=5, choices=CHANNELS)
    visit_starts_at = models.DateTimeField()
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=120, blank=True)
    body = models.TextField()
    link = models.ForeignKey("storage.PatientLink", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=STATUSES, default="pending")
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "kc_outreach_message"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "kind", "lead_hours", "channel", "visit_starts_at"], name="kc_outreach_once"
            ),
        ]


class SmsOutbox(models.Model):
    """Where the default SMS backend puts a text (like Django's file e-mail backend)."""

    to = models.CharField(max_length=30)
    body = models.CharField(max_length=480)
    at = models.DateTimeField()

    class Meta:
        db_table = "kc_sms_outbox"
        ordering = ["-at", "-id"]


class PatientLink(models.Model):
    """A single-use, expiring link to a questionnaire. Only the SHA-256 of the token is
    stored; the URL carries the token and nothing about the patient."""

    PURPOSES = [("previsit", "questionnaires before a visit"), ("checkin", "next-day check-in")]
    token_digest = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey("storage.Visit", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=10, choices=PURPOSES)
    instruments = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_patient_link"


class CheckIn(models.Model):
    """The patient's answers the day after an infusion: how they feel and what side effects
    they noticed."""

    MOODS = [
        (-2, "much worse"),
        (-1, "a little worse"),
        (0, "about the same"),
        (1, "a little better"),
        (2, "much better"),
    ]
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey("storage.Visit", on_delete=models.PROTECT, related_name="+")
    mood = models.SmallIntegerField(choices=MOODS)
    effects = models.JSONField(default=list)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "kc_check_in"
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(mood__gte=-2, mood__lte=2), name="kc_check_in_mood_range"),
        ]


class VisitRequest(models.Model):
    """A patient's request to cancel or move a visit; the front desk acts on it."""

    KINDS = [("cancel", "cancel"), ("reschedule", "reschedule")]
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey("storage.Visit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=KINDS)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "kc_visit_request"
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit"], condition=models.Q(handled_at__isnull=True), name="kc_visit_request_one_open"
            ),
        ]
