"""The audit write path under concurrency: USERS threads (default 16), each with its own
database connection, append audit rows as page views do (``access_patient_by_id`` plus
``do_record_page_view`` in one request's worth of work: one transaction, one chained row,
its checkpoint after commit). Prints p50/p95/p99 latency per write and the throughput,
then verifies the chain (no fork, every MAC) and fails if p95 exceeds the 200 ms budget.

Run on PostgreSQL (the serialising case): see ``benchmarks/web/run_audit``.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from datetime import date

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketamine_clinic.web.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from ketamine_clinic.services import access  # noqa: E402
from ketamine_clinic.services.accounts import do_create_user  # noqa: E402
from ketamine_clinic.services.audit import verify_chain  # noqa: E402
from ketamine_clinic.services.patients import do_create_patient  # noqa: E402
from ketamine_clinic.storage.models import Patient, User  # noqa: E402

BUDGET_MS = 200.0
USERS = int(os.environ.get("BENCH_USERS", "16"))
WRITES = int(os.environ.get("BENCH_WRITES", "60"))


def _setup() -> tuple[list[User], list[Patient]]:
    call_command("migrate", "--noinput", "-v", "0")
    users = [
        User.objects.filter(username=f"bench{i}").first()
        or do_create_user(f"bench{i}", "rn", "bench-password-long-enough", acting_user=None)
        for i in range(USERS)
    ]
    patients = [
        Patient.objects.filter(mrn=f"B-{i:04d}").first()
        or do_create_patient(
            mrn=f"B-{i:04d}",
            given_name="Bench",
            family_name=f"Patient{i}",
            birth_date=date(1980, 1, 1),
            sex="female",
            at=django.utils.timezone.now(),
            acting_user=None,
        )
        for i in range(USERS)
    ]
    return users, patients


def _user_loop(user: User, patient: Patient, times: list[float], barrier: threading.Barrier) -> None:
    barrier.wait()
    try:
        for _ in range(WRITES):
            start = time.perf_counter()
            with access.page_view() as reads:
                access.access_patient_by_id(user, patient.pk)
            access.do_record_page_view(user, reads, page="patient-chart")
            times.append((time.perf_counter() - start) * 1000)
    finally:
        connection.close()


def main() -> int:
    import django.utils.timezone  # noqa: F401

    users, patients = _setup()
    print(f"database: {connection.vendor}; {USERS} concurrent users x {WRITES} audited page views")
    times: list[float] = []
    barrier = threading.Barrier(USERS)
    threads = [threading.Thread(target=_user_loop, args=(users[i], patients[i], times, barrier)) for i in range(USERS)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    cuts = statistics.quantiles(times, n=100)
    p50, p95, p99 = statistics.median(times), cuts[94], cuts[98]
    print(f"writes {len(times)}  p50 {p50:.1f} ms  p95 {p95:.1f} ms  p99 {p99:.1f} ms  max {max(times):.1f} ms")
    print(f"throughput {len(times) / wall:.0f} audited writes/s over {wall:.1f} s")
    report = verify_chain()
    print(f"chain after the run: ok={report.ok} events={report.checked} problems={list(report.problems)[:3]}")
    ok = report.ok and p95 < BUDGET_MS and len(times) == USERS * WRITES
    print("PASS" if ok else "FAIL", f"(p95 budget {BUDGET_MS:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
