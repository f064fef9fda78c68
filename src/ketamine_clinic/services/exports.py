"""Bulk FHIR export jobs: requested, run by the background worker, downloaded by the
requester only. The FHIR mapping lives in ``api.fhir``; these are the writes.

Errors: ``InvalidInput`` naming the parameter (``_type``, ``_since``, ``_outputFormat``),
``NotFound`` for a job that is missing or someone else's (the same answer), ``Conflict``
for a file asked of an export that is not done."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotFound
from ketamine_clinic.storage.models import EventType, ExportFile, ExportJob, User

__all__ = [
    "OUTPUT_FORMATS",
    "do_download",
    "do_fail_export",
    "do_finish_export",
    "do_request_export",
    "do_start_export",
    "job_for",
]

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")


def do_request_export(
    user: User, *, level: str, types: list[str], since: str, output_format: str, known_types: Iterable[str]
) -> ExportJob:
    """A queued export of the records ``user`` may see; the caller enqueues the job."""
    known = tuple(known_types)
    unknown = [t for t in types if t not in known]
    if unknown:
        raise InvalidInput(f"_type must be among {', '.join(known)}; not {', '.join(unknown)}", field="_type")
    if output_format not in OUTPUT_FORMATS:
        raise InvalidInput("_outputFormat must be application/fhir+ndjson", field="_outputFormat")
    since_at: datetime | None = None
    if since:
        try:
            since_at = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("_since must be an ISO date-time, e.g. 2026-01-31T00:00:00Z", field="_since") from None
        if since_at.tzinfo is None:
            raise InvalidInput("_since must carry a time zone, e.g. ...Z", field="_since")
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=user,
            requested_at=timezone.now(),
            level=level,
            types=list(dict.fromkeys(types)),
            since=since_at,
        )
        audit.record(EventType.BULK_EXPORT_REQUESTED, actor=user, subject=job, new={"level": level, "types": job.types})
    return job


def do_start_export(job: ExportJob) -> bool:
    """Claim a queued job for running; ``False`` when another worker has it or it is done."""
    with transaction.atomic():
        updated = ExportJob.objects.filter(pk=job.pk, status="queued").update(status="running")
    job.refresh_from_db()
    return updated == 1


def do_finish_export(job: ExportJob, files: dict[str, tuple[int, str]], *, patient_ids: list[int]) -> ExportJob:
    """Store each type's NDJSON and mark the job done, with one audit row naming the patients."""
    with transaction.atomic():
        for kind, (count, ndjson) in files.items():
            ExportFile.objects.create(job=job, resource_type=kind, count=count, ndjson=ndjson)
        job.status, job.finished_at, job.patient_count = "done", timezone.now(), len(patient_ids)
        job.save(update_fields=["status", "finished_at", "patient_count"])
        audit.record(
            EventType.BULK_EXPORT_COMPLETED,
            actor=None,
            subject=job,
            new={
                "requested_by": job.requested_by.username,
                "patient_count": len(patient_ids),
                "patient_ids": patient_ids[:200],
                "counts": {k: v[0] for k, v in files.items()},
            },
        )
    return job


def do_fail_export(job: ExportJob, error: str) -> None:
    ExportJob.objects.filter(pk=job.pk).update(status="failed", error=error[:300], finished_at=timezone.now())


def job_for(user: User, job_id: int) -> ExportJob:
    """The export ``job_id`` if ``user`` asked for it; ``NotFound`` otherwise."""
    job = ExportJob.objects.filter(pk=job_id, requested_by=user).first()
    if job is None:
        raise NotFound("No such export.")
    return job


def do_download(job: ExportJob, kind: str, *, acting_user: User) -> str:
    """One file of a finished export; each download is audited."""
    if job.status != "done":
        raise Conflict(f"Export {job.pk} is {job.status}; poll its status until it is done.", field="job")
    row = ExportFile.objects.filter(job=job, resource_type=kind).first()
    if row is None:
        raise NotFound(f"Export {job.pk} has no {kind} file.", field="type")
    with transaction.atomic():
        audit.record(
            EventType.BULK_EXPORT_DOWNLOADED, actor=acting_user, subject=job, new={"type": kind, "count": row.count}
        )
    return row.ndjson
