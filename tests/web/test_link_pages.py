"""The pages a questionnaire link opens, without logging in."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from ketamine_clinic.services import outreach
from ketamine_clinic.storage.models import Assessment, AuditEvent, EventType, SmsOutbox
from tests.services.test_outreach import _first_visit, _token, reachable  # noqa: F401 - fixture

ANSWERS = {f"phq9-item_{i}": "1" for i in range(1, 9)} | {"phq9-item_9": "0"}


def _link(course):  # type: ignore[no-untyped-def]
    visit = _first_visit(course)
    with time_machine.travel(visit.starts_at - timedelta(hours=40), tick=False):
        outreach.sweep()
    return visit, _token(SmsOutbox.objects.filter(body__contains="/q/").get().body)


def test_the_link_opens_the_phq9_without_a_login_or_a_name_and_works_once(client, reachable, patient) -> None:  # noqa: F811
    visit, token = _link(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=3), tick=False):
        page = client.get(f"/q/{token}/")
        assert page.status_code == 200 and b"Before your appointment" in page.content
        assert patient.family_name.encode() not in page.content and patient.mrn.encode() not in page.content
        done = client.post(f"/q/{token}/", ANSWERS)
        assert done.status_code == 200 and b"Thank you" in done.content
        assert Assessment.objects.get(visit=visit).total == 8
        again = client.get(f"/q/{token}/")
    assert again.status_code == 410 and b"already used" in again.content
    assert AuditEvent.objects.filter(event_type=EventType.PATIENT_LINK_USED, patient=patient).count() == 1


def test_a_missing_answer_is_named_and_nothing_is_saved(client, reachable) -> None:  # noqa: F811
    visit, token = _link(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=3), tick=False):
        answers = {k: v for k, v in ANSWERS.items() if k != "phq9-item_4"}
        page = client.post(f"/q/{token}/", answers)
    assert page.status_code == 422 and b"item 4" in page.content
    assert not Assessment.objects.filter(visit=visit).exists()


def test_item_nine_on_the_link_shows_the_crisis_page(client, reachable) -> None:  # noqa: F811
    visit, token = _link(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=3), tick=False):
        page = client.post(f"/q/{token}/", {**ANSWERS, "phq9-item_9": "2"})
    assert page.status_code == 200 and b"988" in page.content and b"Help is available" in page.content


def test_an_unknown_or_expired_link_says_so(client, reachable) -> None:  # noqa: F811
    visit, token = _link(reachable)
    assert client.get("/q/not-a-real-token-at-all/").status_code == 404
    with time_machine.travel(visit.starts_at + timedelta(minutes=1), tick=False):
        page = client.get(f"/q/{token}/")
    assert page.status_code == 410 and b"expired" in page.content
