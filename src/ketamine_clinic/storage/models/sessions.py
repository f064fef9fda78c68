"""Infusion sessions and what happens in them. Entries are never edited: a correction
is a new row whose ``amends`` points at the row it corrects."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class InfusionSession(models.Model):
    STATUSES = [
        ("checklist", "pre-infusion checklist"),
        ("ready", "ready to start"),
        ("running", "infusing"),
        ("paused", "paused"),
        ("observing", "observing"),
        ("discharged", "discharged"),
        ("closed", "closed without discharge"),
    ]
    #: Statuses of a session that is still open (the patient is, or may be, in the chair).
    OPEN_STATUSES = ("checklist", "ready", "running", "paused", "observing")
    visit = models.OneToOneField("storage.Visit", on_delete=models.PROTECT, related_name="session")
    order = models.ForeignKey("storage.Order", on_delete=models.PROTECT, related_name="sessions")
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="sessions")
    status = models.CharField(max_length=20, choices=STATUSES, default="checklist")
    checklist = models.JSONField(default=dict)
    checklist_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    discharge = models.JSONField(default=dict)
    administered_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    close_reason = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_infusion_session"
        # the Today dashboard finds the sessions still open wherever they were opened from
        indexes = [
            models.Index(
                fields=["status"],
                condition=models.Q(status__in=["checklist", "ready", "running", "paused", "observing"]),
                name="kc_session_open",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=~models.Q(status__in=["discharged", "closed"]),
                name="kc_session_one_open_per_patient",
            ),
        ]


class _Entry(models.Model):
    session = models.ForeignKey(InfusionSession, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    amends = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="amended_by")
    amend_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["amends"], condition=models.Q(amends__isnull=False), name="%(class)s_one_amendment_each"
            ),
        ]


class PumpEvent(_Entry):
    KINDS = [
        ("start", "start"),
        ("rate", "rate change"),
        ("pause", "pause"),
        ("resume", "resume"),
        ("stop", "stop"),
        ("device", "nasal device given"),
    ]
    kind = models.CharField(max_length=10, choices=KINDS)
    rate_ml_per_h = models.DecimalField(max_digits=6, decimal_places=1)
    #: Why the pump stopped, when it stopped before the ordered dose had run in.
    note = models.CharField(max_length=300, blank=True)

    class Meta(_Entry.Meta):
        db_table = "kc_pump_event"


class VitalSign(_Entry):
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    heart_rate_bpm = models.PositiveSmallIntegerField()
    spo2_percent = models.PositiveSmallIntegerField()
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    alerts = models.JSONField(default=list)

    class Meta(_Entry.Meta):
        db_table = "kc_vital_sign"


class SideEffect(_Entry):
    SEVERITIES = [("mild", "mild"), ("moderate", "moderate"), ("severe", "severe")]
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=SEVERITIES)
    note = models.CharField(max_length=300, blank=True)

    class Meta(_Entry.Meta):
        db_table = "kc_side_effect"


class SessionNote(_Entry):
    text = models.TextField()

    class Meta(_Entry.Meta):
        db_table = "kc_session_note"
