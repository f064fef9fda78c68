"""The pre-procedure record (allergies, medications, ASA class, airway, fasting, escort,
ICD-10-CM diagnoses) and on-screen consent signatures. Both are append-only: a change to
the record is a new version that amends the last; a signature is never edited."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PreProcedureRecord(models.Model):
    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="pre_procedure_records")
    at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amends = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="amended_by")
    #: "No known drug allergies" is stated, never assumed from an empty list.
    no_known_allergies = models.BooleanField(default=False)
    #: [{"substance": ..., "reaction": ...}]
    allergies = models.JSONField(default=list)
    #: [{"name": ..., "dose": ..., "classes": [...]}]
    medications = models.JSONField(default=list)
    asa_class = models.PositiveSmallIntegerField()
    airway_note = models.CharField(max_length=300, blank=True)
    npo_solids_since = models.DateTimeField(null=True, blank=True)
    npo_clear_since = models.DateTimeField(null=True, blank=True)
    escort_name = models.CharField(max_length=120)
    escort_phone = models.CharField(max_length=30)
    #: ICD-10-CM codes
    diagnoses = models.JSONField(default=list)

    class Meta:
        db_table = "kc_pre_procedure_record"
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(asa_class__gte=1, asa_class__lte=4), name="kc_preproc_asa_1_to_4"
            ),
        ]


class ConsentSignature(models.Model):
    """A patient's on-screen signature of one consent document version; the text signed is
    kept with its SHA-256, so the record shows exactly what was agreed to."""

    patient = models.ForeignKey("storage.Patient", on_delete=models.PROTECT, related_name="consent_signatures")
    document_code = models.CharField(max_length=40)
    version = models.CharField(max_length=20)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    signed_name = models.CharField(max_length=120)
    signed_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    witnessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "kc_consent_signature"
        ordering = ["signed_at", "id"]
