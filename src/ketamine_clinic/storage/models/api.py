"""Bearer tokens of the JSON and FHIR API, and bulk-export jobs with their NDJSON files.

A token is stored only as its SHA-256 digest (docs/decisions/0025-api-tokens-and-problem-details.md);
the token itself is shown once, when it is created."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=80, blank=True, help_text="what the token is for, e.g. 'registry export'")
    prefix = models.CharField(max_length=16, unique=True, help_text="the token's first characters, to name it")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token; the token is not kept")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    #: The rate limit's current one-minute window and the requests counted in it.
    window_started_at = models.DateTimeField(null=True, blank=True)
    window_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "kc_api_token"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("created_at")), name="kc_token_expires")
        ]


class ExportJob(models.Model):
    """A FHIR bulk ``$export`` request: run by the background worker, polled by the client."""

    STATUSES = [("queued", "queued"), ("running", "running"), ("done", "done"), ("failed", "failed")]
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    level = models.CharField(max_length=10, choices=[("system", "system"), ("patient", "patient")])
    types = models.JSONField(default=list, help_text="resource types asked for; empty means all")
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default="queued")
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    patient_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "kc_export_job"
        ordering = ["-requested_at", "-id"]


class ExportFile(models.Model):
    """One NDJSON file of an export: every resource of one type, one per line."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    count = models.PositiveIntegerField()
    ndjson = models.TextField()

    class Meta:
        db_table = "kc_export_file"
        ordering = ["resource_type", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "resource_type"], name="kc_export_file_once_per_type")]
