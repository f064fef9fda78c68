"""Infusion orders: signed by a prescriber, verified by a second clinician."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Order(models.Model):
    visit = models.ForeignKey("storage.Visit", on_delete=models.PROTECT, related_name="orders")
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="orders")
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    dose_mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=1)
    duration_min = models.PositiveSmallIntegerField()
    concentration_mg_per_ml = models.DecimalField(max_digits=5, decimal_places=2)
    volume_ml = models.DecimalField(max_digits=6, decimal_places=1)
    rate_ml_per_h = models.DecimalField(max_digits=6, decimal_places=1)
    titration_note = models.CharField(max_length=300, blank=True)
    route = models.CharField(max_length=10, choices=[("iv", "IV infusion"), ("nasal", "nasal spray")], default="iv")
    devices = models.PositiveSmallIntegerField(null=True, blank=True, help_text="esketamine: 28 mg devices")
    weight_basis = models.CharField(
        max_length=10,
        choices=[
            ("actual", "actual body weight"),
            ("ideal", "ideal body weight"),
            ("adjusted", "adjusted body weight"),
        ],
        default="actual",
    )
    dosing_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    ideal_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    adjusted_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    warnings_confirmed = models.JSONField(
        default=list, blank=True, help_text="soft warnings the prescriber confirmed when signing"
    )
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "kc_order"
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True) | ~models.Q(verified_by=models.F("signed_by")),
                name="kc_order_verifier_is_not_signer",
            ),
            models.UniqueConstraint(
                fields=["visit"], condition=models.Q(cancelled_reason=""), name="kc_order_one_live_per_visit"
            ),
            models.CheckConstraint(
                condition=models.Q(dose_mg__gt=0, dose_mg__lte=1000)
                & models.Q(rate_ml_per_h__gte=0)
                & models.Q(weight_kg__gte=0, weight_kg__lte=400),
                name="kc_order_dose_rate_weight_in_range",
            ),
        ]
