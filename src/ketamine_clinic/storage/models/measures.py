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

    class Meta:
        db_table = "kc_alert"
        ordering = ["-raised_at", "-id"]
