"""web.views.oncall: the on-call rota and the jobs page."""

from __future__ import annotations

from ketamine_clinic.storage.models import OnCallShift


def test_a_shift_that_ends_before_it_starts_is_refused_on_the_page(client, admin, prescriber) -> None:
    client.force_login(admin)
    response = client.post(
        "/on-call/",
        {"prescriber": prescriber.pk, "starts_at": "2026-11-30T20:00", "ends_at": "2026-11-30T08:00"},
    )
    assert response.status_code in (200, 422) and "ends after it starts" in response.content.decode()
    assert not OnCallShift.objects.exists()


def test_the_jobs_page_is_for_the_admin_only(client, admin, nurse) -> None:
    client.force_login(admin)
    assert client.get("/admin-area/jobs/").status_code == 200
    client.force_login(nurse)
    assert client.get("/admin-area/jobs/").status_code in (302, 403)
