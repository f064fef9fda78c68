"""Intake, the eligibility screen's result, and the prescriber's decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Intake(models.Model):
    """One intake assessment. A later intake supersedes an earlier one; none is edited."""

    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="intakes")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    diagnoses = models.JSONField(default=list, help_text="codes: trd, mdsi, ptsd, chronic_pain")
    failed_trials = models.JSONField(default=list, help_text="[{drug, dose_mg, weeks, adequate}]")
    contraindications = models.JSONField(default=dict, help_text="question code -> answer")
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    weight_entered = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True, help_text="the number as typed, in weight_unit"
    )
    weight_unit = models.CharField(max_length=2, choices=[("kg", "kg"), ("lb", "lb")], default="kg")
    kind = models.CharField(
        max_length=10,
        choices=[("intake", "intake"), ("update", "weight and vitals update")],
        default="intake",
    )
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    heart_rate_bpm = models.PositiveSmallIntegerField()
    spo2_percent = models.PositiveSmallIntegerField()
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    pregnant = models.BooleanField(default=False)
    consent_given = models.BooleanField(default=False)
    screen_status = models.CharField(max_length=20)
    screen_reasons = models.JSONField(default=list)

    class Meta:
        db_table = "kc_intake"
        ordering = ["-recorded_at", "-id"]

    @property
    def weight_lb(self) -> float:
        """The weight in lb (1 lb = 0.45359237 kg) for display beside the kg."""
        return round(float(self.weight_kg) / 0.45359237, 1)

    @property
    def bmi(self) -> float | None:
        if not self.height_cm:
            return None
        metres = float(self.height_cm) / 100
        return round(float(self.weight_kg) / (metres * metres), 1)


class EligibilityDecision(models.Model):
    DECISIONS = [("eligible", "eligible"), ("not_eligible", "not eligible")]

    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="eligibility_decisions")
    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=20, choices=DECISIONS)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        db_table = "kc_eligibility_decision"
        ordering = ["-decided_at", "-id"]
