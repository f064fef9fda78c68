"""Time the main pages with the demo clinic: server time per request (Django's test
client in-process, so no network), 95th percentile against the 200 ms budget, and the
number of queries each page runs."""

from __future__ import annotations

import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketamine_clinic.web.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from ketamine_clinic.storage.models import Course, InfusionSession, Patient, User  # noqa: E402

BUDGET_MS = 200.0
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 30


def main() -> int:
    client = Client(HTTP_HOST="127.0.0.1")
    patient = Patient.objects.filter(courses__isnull=False).first()
    course = Course.objects.first()
    session = InfusionSession.objects.order_by("-id").first()
    pages = {
        "prescriber": [
            "/clinic/",
            "/clinic/patients/",
            f"/clinic/patients/{patient.pk}/",
            f"/clinic/courses/{course.pk}/decision/",
            f"/clinic/sessions/{session.pk}/",
            "/clinic/alerts/",
        ],
        "front_desk": ["/desk/"],
        "patient": ["/me/"],
        "admin": ["/admin-area/audit/"],
    }
    print(f"{'page':<34}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}{'p95/budget':>12}")
    worst = 0.0
    for role, urls in pages.items():
        client.force_login(User.objects.filter(role=role).first())
        for url in urls:
            client.get(url)  # warm caches and templates
            times = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            p95 = statistics.quantiles(times, n=20)[18]
            worst = max(worst, p95 / BUDGET_MS)
            print(f"{url:<34}{statistics.median(times):>9.1f}{p95:>9.1f}{len(queries):>9}{p95 / BUDGET_MS:>12.2f}")
    print(f"worst p95 / 200 ms budget: {worst:.2f} ({'within' if worst <= 1 else 'OVER'} budget)")
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
