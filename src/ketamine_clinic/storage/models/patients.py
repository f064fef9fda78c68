from __future__ import annotations

from django.conf import settings
from django.db import models


class Patient(models.Model):
    """A person treated by the clinic. Loaded only through ``services.access``."""

    mrn = models.CharField("medical record number", max_length=20, unique=True)
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    birth_date = models.DateField()
    sex = models.CharField(max_length=10, choices=[("female", "female"), ("male", "male"), ("other", "other")])
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patient_record",
    )
    created_at = models.DateTimeField()
    #: "merged" when this was a duplicate registration merged into ``merged_into``; the
    #: record stays (amended, never destroyed) but no list or search shows it.
    status = models.CharField(max_length=10, choices=[("active", "active"), ("merged", "merged")], default="active")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_duplicates"
    )
    merged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_patient"
        ordering = ["family_name", "given_name"]
        indexes = [models.Index(fields=["family_name", "given_name"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status="active", merged_into__isnull=True, merged_at__isnull=True)
                    | models.Q(status="merged", merged_into__isnull=False, merged_at__isnull=False)
                ),
                name="kc_patient_merged_names_its_record",
            ),
            models.CheckConstraint(
                condition=~models.Q(merged_into=models.F("id")), name="kc_patient_not_merged_into_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class CareTeamMember(models.Model):
    """A clinician on a patient's care team. Used only when the clinic restricts charts to
    care teams (``ClinicSettings.care_team_only``; docs/decisions/0011-least-privilege.md)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_teams")
    added_at = models.DateTimeField()

    class Meta:
        db_table = "kc_care_team_member"
        constraints = [models.UniqueConstraint(fields=["patient", "user"], name="kc_care_team_once")]
