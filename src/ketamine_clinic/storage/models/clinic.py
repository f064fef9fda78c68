from __future__ import annotations

from datetime import time

from django.db import models


class ClinicSettings(models.Model):
    """The clinic's own settings (one row). Thresholds of clinical rules join it later.

    ``idle_timeout_minutes``: default from ``KC_IDLE_TIMEOUT_MINUTES`` (15); allowed 1-240.
    """

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    clinic_name = models.CharField(max_length=120, default="Ketamine Clinic")
    idle_timeout_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    #: The number patients call (crisis, after-care and reminder pages show it).
    clinic_phone = models.CharField(max_length=30, blank=True, default="")
    rule_overrides = models.JSONField(
        default=dict, blank=True, help_text="clinical thresholds that differ from the cited defaults"
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    care_team_only = models.BooleanField(
        default=False, help_text="clinicians open only the charts of patients whose care team they are on"
    )
    require_two_factor = models.BooleanField(
        default=False, help_text="staff must confirm a TOTP authenticator before using the clinic"
    )

    #: A change of clinical thresholds proposed (by the admin) and waiting for the medical director.
    pending_rules = models.JSONField(null=True, blank=True)
    pending_reason = models.CharField(max_length=300, blank=True)
    pending_by = models.ForeignKey("storage.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pending_at = models.DateTimeField(null=True, blank=True)
    #: When the medical director confirmed the thresholds in force (UNCONFIRMED defaults included).
    rules_confirmed_at = models.DateTimeField(null=True, blank=True)
    rules_confirmed_by = models.ForeignKey(
        "storage.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: When visits are booked (domain.hours.ClinicHours): opening and closing time, open
    #: weekdays as digits (0 = Monday), closure dates as [{"date": ISO, "reason": text}].
    opens_at = models.TimeField(default=time(8, 0))
    closes_at = models.TimeField(default=time(17, 0))
    open_days = models.CharField(max_length=7, default="01234")
    closures = models.JSONField(default=list, blank=True)
    #: Roles that may verify another clinician's order (never the signer), within scope of practice.
    verifier_roles = models.CharField(max_length=60, default="crna,rn")

    class Meta:
        db_table = "kc_clinic_settings"


class FormToken(models.Model):
    """A form's one-time token, claimed by its first submission: a double click or a replay
    of the same page's form records once."""

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey("storage.User", null=True, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "kc_form_token"
