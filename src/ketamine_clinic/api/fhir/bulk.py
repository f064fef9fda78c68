"""Bulk ``$export`` (FHIR Bulk Data Access): the background job that writes one NDJSON file
per resource type of every patient the requester may see, at the time the job runs.

``_since`` keeps resources whose clinical date is at or after it (the records carry no
last-updated time; Patient resources are always included)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django_tasks import task

from ketamine_clinic.api.fhir.mapping import RESOURCE_TYPES, patient_resources
from ketamine_clinic.api.fhir.search import DATE_PATH
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import access, exports
from ketamine_clinic.storage.models import ExportJob, User

__all__ = ["do_request_export", "job_for", "manifest", "run_export"]

job_for = exports.job_for
do_download = exports.do_download


def do_request_export(user: User, *, level: str, types: list[str], since: str, output_format: str) -> ExportJob:
    job = exports.do_request_export(
        user, level=level, types=types, since=since, output_format=output_format, known_types=RESOURCE_TYPES
    )
    run_export.enqueue(job.pk)  # the database backend: the job row commits with the request's
    return job


def _recent(kind: str, resource: dict[str, Any], since: datetime | None) -> bool:
    if since is None or kind not in DATE_PATH:
        return True
    node: Any = resource
    for key in DATE_PATH[kind]:
        node = node.get(key) if isinstance(node, dict) else None
    return node is not None and datetime.fromisoformat(str(node).replace("Z", "+00:00")) >= since


@task()
def run_export(job_id: int) -> int:
    """Write the export's files; returns the number of resources written."""
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if not exports.do_start_export(job):
        return 0
    try:
        types = job.types or list(RESOURCE_TYPES)
        lines: dict[str, list[str]] = {t: [] for t in types}
        patients = access.patient_queryset_for(job.requested_by, action=Action.VIEW_CHART).order_by("id")
        ids = []
        for patient in patients:
            ids.append(patient.pk)
            record = patient_resources(patient)
            for kind in types:
                lines[kind] += [json.dumps(r) for r in record[kind] if _recent(kind, r, job.since)]
        files = {k: (len(v), "\n".join(v) + "\n") for k, v in lines.items() if v}
        exports.do_finish_export(job, files, patient_ids=ids)
    except Exception as exc:
        exports.do_fail_export(job, f"{type(exc).__name__}: {exc}")
        raise
    return sum(count for count, _ in files.values())


def manifest(job: ExportJob, base: str) -> dict[str, Any]:
    """The completed export's manifest: one entry per NDJSON file, a token required to fetch."""
    return {
        "transactionTime": job.requested_at.isoformat(),
        "request": f"{base}$export" if job.level == "system" else f"{base}Patient/$export",
        "requiresAccessToken": True,
        "output": [
            {"type": f.resource_type, "url": f"{base}$export-file/{job.pk}/{f.resource_type}.ndjson", "count": f.count}
            for f in job.files.order_by("resource_type")
        ],
        "error": [],
    }
