"""The audit trail verified on the task worker, not in a page request.

Walking a network's trail (two million events and more) takes minutes; the audit page's
"Verify" button queues one verification (a second press while one is queued or running
queues nothing), the worker runs ``audit.verify_chain`` and keeps the report, and the page
shows the last report with when it ran and how long it took. ``kclinic audit verify`` still
verifies in the foreground."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services._common import require
from ketamine_clinic.services.audit import ChainReport, verify_chain
from ketamine_clinic.storage.models import ReadModel, User

__all__ = ["VERIFICATION_KEY", "Verification", "do_request_verification", "last_verification", "run_verification"]

VERIFICATION_KEY = "audit-verification"
#: A queued verification that has not reported after this long (a worker stopped mid-run)
#: may be queued again.
STALE_AFTER = timedelta(hours=2)


class Verification:
    """The last verification's report (``None`` before the first) and whether one is queued."""

    def __init__(self, row: ReadModel | None) -> None:
        self.report: dict[str, Any] | None = row.data if row is not None and row.computed_at else None
        self.finished_at: datetime | None = row.computed_at if row is not None else None
        self.queued_at: datetime | None = row.refresh_queued_at if row is not None else None

    @property
    def pending(self) -> bool:
        """Queued and not yet reported, and not so long ago that the run must have died."""
        return self.queued_at is not None and self.queued_at >= timezone.now() - STALE_AFTER


def last_verification() -> Verification:
    return Verification(ReadModel.objects.filter(key=VERIFICATION_KEY).first())


def do_request_verification(*, acting_user: User, at: datetime) -> bool:
    """Queue one verification of the whole trail; ``False`` when one is already queued or
    running (queued less than ``STALE_AFTER`` ago)."""
    require(acting_user, Action.VIEW_AUDIT, "Only an administrator or auditor verifies the audit trail.")
    with transaction.atomic():
        ReadModel.objects.get_or_create(key=VERIFICATION_KEY, defaults={"data": {}})
        queued = ReadModel.objects.filter(key=VERIFICATION_KEY).filter(
            Q(refresh_queued_at__isnull=True) | Q(refresh_queued_at__lt=at - STALE_AFTER)
        )
        if not queued.update(refresh_queued_at=at):
            return False
        transaction.on_commit(run_verification.enqueue)
    return True


@task()
def run_verification() -> dict[str, Any]:
    """Verify the whole trail and keep the report (JSON) with its duration."""
    started = time.perf_counter()
    try:
        report = verify_chain()
    except Exception as exc:  # noqa: BLE001 - an unreadable checkpoint must not leave the last green report
        report = ChainReport(False, 0, reason=f"the verification could not finish: {type(exc).__name__}: {exc}"[:300])
    data: dict[str, Any] = {
        **asdict(report),
        "problems": list(report.problems),
        "warnings": list(report.warnings),
        "seconds": round(time.perf_counter() - started, 1),
    }
    ReadModel.objects.update_or_create(
        key=VERIFICATION_KEY, defaults={"data": data, "computed_at": timezone.now(), "refresh_queued_at": None}
    )
    return data
