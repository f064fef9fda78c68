"""Read models: aggregates the pages show, computed by the task worker instead of from all of
history on every request (docs/decisions/0031-read-models-keyset-pages-and-indexes.md)."""

from __future__ import annotations

from django.db import models


class ReadModel(models.Model):
    """One precomputed aggregate (``key``, e.g. ``outcomes-summary``) as JSON, with when it was
    computed and when a refresh was last queued (so one busy page queues one refresh)."""

    key = models.CharField(max_length=60, primary_key=True)
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(null=True, blank=True)
    refresh_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_read_model"
