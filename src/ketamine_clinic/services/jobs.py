"""The background-job worker: Django tasks in the clinic's database.

``run_worker`` is what ``kclinic worker`` (and the worker ``kclinic serve`` starts) runs;
``run_due_jobs`` runs every job that is due once and returns, for tests and for
``kclinic worker --batch``. Jobs are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``
(django-tasks-db), so several workers on one PostgreSQL never run a job twice.
"""

from __future__ import annotations

import socket
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

__all__ = ["recent_jobs", "run_due_jobs", "run_worker"]


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
