"""Time the main pages: server time per request (Django's test client in-process, so no
network), 95th percentile against the 200 ms budget, and the number of queries each page
runs; ``cpu p95`` is this process's CPU time per request (the web side's own cost, which
a machine shared with other jobs does not inflate; PostgreSQL's work is in its own process
and not in it). ``--label`` names the database (``demo``, ``network``); ``--json`` writes the rows for
``compare_pages.py``, which prints two sizes side by side.

The pages are opened on the patient with the longest history, that patient's latest
session and course, and the oldest page of the audit trail (a keyset cursor near its start:
what OFFSET made slowest)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketamine_clinic.web.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, Min  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from ketamine_clinic.storage.models import AuditEvent, Course, InfusionSession, Patient, User  # noqa: E402

BUDGET_MS = 200.0


def _pages() -> dict[str, list[tuple[str, str]]]:
    patient = Patient.objects.filter(courses__isnull=False).annotate(n=Count("visits")).order_by("-n", "id").first()
    assert patient is not None, "load the demo clinic first"
    course = Course.objects.filter(patient=patient).order_by("-planned_at").first()
    session = InfusionSession.objects.filter(patient=patient).order_by("-opened_at").first()
    live = InfusionSession.objects.filter(status__in=InfusionSession.OPEN_STATUSES).order_by("id").first()
    oldest = (AuditEvent.objects.aggregate(first=Min("id"))["first"] or 0) + 60
    return {
        "prescriber": [
            ("Today dashboard", "/clinic/"),
            ("patient list", "/clinic/patients/"),
            ("patient search", "/clinic/patients/?q=Bell"),
            ("chart, longest history", f"/clinic/patients/{patient.pk}/"),
            ("induction decision", f"/clinic/courses/{course.pk}/decision/"),
            ("session, longest history", f"/clinic/sessions/{session.pk}/"),
            *([("session in the chair", f"/clinic/sessions/{live.pk}/")] if live else []),
            ("alerts", "/clinic/alerts/"),
        ],
        "front_desk": [("desk week", "/desk/")],
        "patient": [("patient home", "/me/")],
        "admin": [
            ("admin home", "/admin-area/"),
            ("audit trail, newest", "/admin-area/audit/"),
            ("audit trail, oldest page", f"/admin-area/audit/?before={oldest}"),
            ("audit trail, one patient", f"/admin-area/audit/?patient={patient.mrn}"),
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("repeats", nargs="?", type=int, default=30)
    parser.add_argument("--label", default=connection.vendor)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    client = Client(HTTP_HOST="127.0.0.1")
    patients = Patient.objects.count()
    print(f"{args.label}: {patients} patients, {AuditEvent.objects.count()} audit rows ({connection.vendor})")
    print(f"{'page':<28}{'p50 ms':>9}{'p95 ms':>9}{'cpu p95':>9}{'queries':>9}{'p95/budget':>12}")
    rows, worst = [], 0.0
    for role, pages in _pages().items():
        client.force_login(User.objects.filter(role=role, is_active=True).order_by("id").first())
        for name, url in pages:
            client.get(url)  # warm caches and templates
            times, cpu = [], []
            for _ in range(args.repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            p50, p95 = statistics.median(times), statistics.quantiles(times, n=20)[18]
            cpu95 = statistics.quantiles(cpu, n=20)[18]
            worst = max(worst, p95 / BUDGET_MS)
            row = {"page": name, "url": url, "p50": p50, "p95": p95, "cpu95": cpu95, "queries": len(queries)}
            rows.append(row)
            print(f"{name:<28}{p50:>9.1f}{p95:>9.1f}{cpu95:>9.1f}{len(queries):>9}{p95 / BUDGET_MS:>12.2f}")
    print(f"worst p95 / 200 ms budget: {worst:.2f} ({'within' if worst <= 1 else 'OVER'} budget)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"label": args.label, "patients": patients, "rows": rows}, out)
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
