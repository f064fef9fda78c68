"""The background-job worker: Django tasks in the clinic's database.

``run_worker`` is what ``kclinic worker`` (and the worker ``kclinic serve`` starts) runs;
``run_due_jobs`` runs every job that is due once and returns, for tests and for
``kclinic worker --batch``. Jobs are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``
(django-tasks-db), so several workers on one PostgreSQL never run a job twice.

Every job leaves a result row. ``prune_jobs`` (a daily job each worker makes sure of when
it starts: ``ensure_job_pruning``) deletes finished ones after ``KEEP_SUCCEEDED``, failed
ones after ``KEEP_FAILED``: a network's workers run a few hundred jobs a day (sweeps,
session checks, alert escalations), and the rows were never deleted.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import task

__all__ = [
    "KEEP_FAILED",
    "KEEP_SUCCEEDED",
    "PRUNE_EVERY",
    "ensure_job_pruning",
    "ensure_waiting",
    "prune_job_results",
    "prune_jobs",
    "recent_jobs",
    "run_due_jobs",
    "run_worker",
]

#: How long a job's result row is kept for the admin's jobs page: a failed job longer, its
#: error explains a reminder or an alert page that did not go out.
KEEP_SUCCEEDED = timedelta(days=30)
KEEP_FAILED = timedelta(days=180)
PRUNE_EVERY = timedelta(days=1)


def _worker(*, batch: bool, interval: float, worker_id: str | None = None) -> Any:
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=["*"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=not batch,
        max_tasks=None,
        worker_id=(worker_id or f"{socket.gethostname()}-kclinic")[:64],
        excluded_queue_names=[],
    )


def run_due_jobs(worker_id: str | None = None) -> int:
    """Run every job that is due now, then return how many ran.

    The same claim as the long-running worker (lock with SKIP LOCKED, mark claimed, commit,
    run), without its connection recycling, so it also runs inside a caller's transaction.
    """
    from django_tasks_db.models import DBTaskResult

    worker = _worker(batch=True, interval=0, worker_id=worker_id)
    ran = 0
    while True:
        with transaction.atomic():
            row = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if row is not None:
                row.claim(worker.worker_id)
        if row is None:
            return ran
        worker.run_task(row)
        ran += 1


def run_worker(*, interval: float = 1.0, worker_id: str | None = None) -> None:
    """Run jobs as they fall due until interrupted (SIGINT/SIGTERM end it after the job)."""
    worker = _worker(batch=False, interval=interval, worker_id=worker_id)
    worker.configure_signals()
    try:
        worker.run()
    finally:
        worker.reset_signals()


def recent_jobs(limit: int = 100) -> QuerySet[Any]:
    """The latest jobs with their status, newest first, for the admin's jobs page."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.order_by("-enqueued_at")[:limit]


def prune_job_results(now: datetime | None = None) -> int:
    """Delete the result rows of jobs that succeeded more than ``KEEP_SUCCEEDED`` ago or
    failed more than ``KEEP_FAILED`` ago; jobs waiting or running are never touched.
    Returns how many rows were deleted."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    old = DBTaskResult.objects.finished().filter(
        Q(status="SUCCESSFUL", finished_at__lte=now - KEEP_SUCCEEDED)
        | Q(status="FAILED", finished_at__lte=now - KEEP_FAILED)
    )
    deleted, _ = old.delete()
    return int(deleted)


@task()
def prune_jobs() -> int:
    """The worker's job: prune now, then enqueue the next prune a day later."""
    deleted = prune_job_results()
    prune_jobs.using(run_after=timezone.now() + PRUNE_EVERY).enqueue()
    return deleted


def ensure_waiting(job: Any) -> bool:
    """Enqueue ``job`` (a task that enqueues its own next run) unless one is already waiting
    or running, as each worker does when it starts; ``True`` when it enqueued one. Two
    workers starting at the same moment can both enqueue one: two chains."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=job.module_path, status__in=["READY", "RUNNING"]).exists()
    if not waiting:
        job.enqueue()
    return not waiting


def ensure_job_pruning() -> bool:
    """The daily prune, enqueued unless waiting (``ensure_waiting``; two chains only prune
    twice)."""
    return ensure_waiting(prune_jobs)
