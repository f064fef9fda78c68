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
