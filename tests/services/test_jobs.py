"""services.jobs: due jobs run once, later ones wait."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from ketamine_clinic.services import jobs, session_jobs


def test_a_job_runs_when_due_and_only_once(running_session) -> None:
    due = session_jobs.end_of_clinic_day(running_session.opened_at)
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        jobs.run_due_jobs()  # what is due before closing (the dose-reached check)
        assert jobs.run_due_jobs() == 0
        assert not running_session.patient.alerts.filter(kind=session_jobs.SESSION_OPEN).exists()
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert jobs.run_due_jobs() >= 1
        assert jobs.run_due_jobs() == 0
    assert running_session.patient.alerts.filter(kind=session_jobs.SESSION_OPEN).count() == 1


def _finished(status: str, finished_at):  # type: ignore[no-untyped-def]
    from django_tasks_db.models import DBTaskResult

    row = DBTaskResult.objects.get(pk=jobs.prune_jobs.enqueue().id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        status=status, started_at=finished_at, finished_at=finished_at, task_path="tests.finished"
    )
    return str(row.pk)


def test_the_prune_deletes_old_finished_job_results_and_keeps_the_rest(db) -> None:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    old_ok = _finished("SUCCESSFUL", now - jobs.KEEP_SUCCEEDED - timedelta(minutes=1))
    new_ok = _finished("SUCCESSFUL", now - jobs.KEEP_SUCCEEDED + timedelta(minutes=1))
    failed = _finished("FAILED", now - jobs.KEEP_SUCCEEDED - timedelta(days=1))  # failures are kept longer
    old_failed = _finished("FAILED", now - jobs.KEEP_FAILED - timedelta(minutes=1))
    waiting = str(jobs.prune_jobs.using(run_after=now + timedelta(days=1)).enqueue().id)
    assert jobs.prune_job_results(now) == 2
    left = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
    assert {new_ok, failed, waiting} <= left and not {old_ok, old_failed} & left


def test_the_worker_prunes_daily_and_one_chain_however_many_workers_start(db) -> None:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    start = timezone.now()
    old = _finished("SUCCESSFUL", start - jobs.KEEP_SUCCEEDED - timedelta(days=1))
    assert jobs.ensure_job_pruning() is True
    assert jobs.ensure_job_pruning() is False
    assert jobs.run_due_jobs() == 1 and not DBTaskResult.objects.filter(pk=old).exists()
    with time_machine.travel(start + jobs.PRUNE_EVERY + timedelta(minutes=1), tick=False):
        assert jobs.run_due_jobs() == 1  # the next day's prune, which enqueued the one after
    assert DBTaskResult.objects.filter(task_path__endswith=".prune_jobs", status="READY").count() == 1
