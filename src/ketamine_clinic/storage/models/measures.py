"""Scored questionnaires and ratings, and the alerts they raise."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Assessment(models.Model):
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="assessments")
    visit = models.ForeignKey(
        "storage.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="assessments"
    )
    session = models.ForeignKey(
        "storage.InfusionSession", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instrument = models.CharField(max_length=20)
    answers = models.JSONField()
    total = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=40)
    flags = models.JSONField(default=list)
    at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "kc_assessment"
        ordering = ["at", "id"]


class Alert(models.Model):
    SEVERITIES = [("notify", "notify"), ("pause", "pause"), ("stop", "stop"), ("urgent", "urgent")]
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=30)
    severity = models.CharField(max_length=10, choices=SEVERITIES)
    message = models.CharField(max_length=300)
    source = models.CharField(max_length=40, blank=True)
    assessment = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    vital = models.ForeignKey("storage.VitalSign", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement = models.TextField(blank=True)
    #: Every answer that raised or joined this alert: {at, assessment_id, severity, code, message, source}.
    findings = models.JSONField(default=list)
    #: Urgent suicide-risk alerts: the on-call prescriber must take the alert by then.
    ack_deadline_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_alert"
        ordering = ["-raised_at", "-id"]
        # the Today dashboard and the alerts page read the open ones only
        indexes = [
            models.Index(fields=["-raised_at"], condition=models.Q(acknowledged_at__isnull=True), name="kc_alert_open")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(kind="suicide_risk", acknowledged_at__isnull=True),
                name="kc_alert_one_open_suicide_risk_per_patient",
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=["notify", "pause", "stop", "urgent"]),
                name="kc_alert_severity_known",
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return (
            self.is_open
            and self.claimed_at is None
            and self.ack_deadline_at is not None
            and self.ack_deadline_at <= timezone.now()
        )


class SuicideRiskAssessment(models.Model):
    """A prescriber's structured assessment that closes an urgent suicide-risk alert [S65]."""

    RISK_LEVELS = [("low", "Low"), ("moderate", "Moderate"), ("high", "High")]
    DISPOSITIONS = [
        ("treat_today", "Safe to treat today"),
        ("defer", "Defer today's treatment; follow up"),
        ("emergency", "Emergency evaluation or hospitalisation"),
    ]
    alert = models.OneToOneField(Alert, on_delete=models.PROTECT, related_name="assessment_record")
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="risk_assessments")
    cssrs = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="+")
    risk_level = models.CharField(max_length=10, choices=RISK_LEVELS)
    safety_plan_reviewed = models.BooleanField()
    disposition = models.CharField(max_length=20, choices=DISPOSITIONS)
    note = models.TextField()
    assessed_at = models.DateTimeField(help_text="The clinical time of the assessment.")
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(help_text="When it was entered (server time).")

    class Meta:
        db_table = "kc_suicide_risk_assessment"
        ordering = ["-assessed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(disposition__in=["treat_today", "defer", "emergency"]),
                name="kc_risk_assessment_disposition_known",
            ),
        ]


class OnCallShift(models.Model):
    """Who answers urgent alerts when: the clinic's on-call rota."""

    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="on_call_shifts")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        db_table = "kc_on_call_shift"
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="kc_on_call_ends_after_start"
            )
        ]


class Notification(models.Model):
    """One message about an alert to one person; unique so two workers never send it twice."""

    KINDS = [
        ("urgent", "urgent alert"),
        ("escalation", "escalation past the deadline"),
        ("chairside", "pause or stop alert at the chair"),
    ]
    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=20, choices=KINDS)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(max_length=254)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "kc_notification"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "kind", "recipient"], name="kc_notification_once_per_person")
        ]
