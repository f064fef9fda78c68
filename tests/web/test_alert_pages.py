"""The suicide-risk pathway over HTTP: who sees what, who closes, where it goes next."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ketamine_clinic.services import measures
from ketamine_clinic.storage.models import Alert, OnCallShift, SuicideRiskAssessment


def _urgent(patient, who):  # type: ignore[no-untyped-def]
    measures.do_record_assessment(patient, "phq9", [0] * 8 + [2], at=timezone.now(), acting_user=who)
    return Alert.objects.get(patient=patient, kind="suicide_risk")


def test_an_rn_sees_the_alert_but_cannot_close_it(client, nurse, patient) -> None:
    alert = _urgent(patient, nurse)
    client.force_login(nurse)
    text = client.get(f"/clinic/alerts/{alert.pk}/").content.decode()
    assert "Only a prescriber" in text and "No dose can be started" in text
    assert 'value="assess"' not in text and 'value="acknowledge"' not in text
    response = client.post(f"/clinic/alerts/{alert.pk}/", {"action": "acknowledge", "note": "ok. patient fine now"})
    assert response.status_code == 200 and "closed only by a prescriber" in response.content.decode()
    response = client.post(f"/clinic/alerts/{alert.pk}/", {"action": "claim"})
    assert "Only a prescriber" in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None


def test_front_desk_and_admin_cannot_open_an_alert(client, front_desk, admin, nurse, patient) -> None:
    alert = _urgent(patient, nurse)
    for person in (front_desk, admin):
        client.force_login(person)
        assert client.get(f"/clinic/alerts/{alert.pk}/").status_code == 403
        assert client.post(f"/clinic/alerts/{alert.pk}/", {"action": "claim"}).status_code == 403


def test_a_prescriber_takes_records_cssrs_and_closes_with_an_assessment(client, prescriber, nurse, patient) -> None:
    alert = _urgent(patient, nurse)
    client.force_login(prescriber)
    assert client.post(f"/clinic/alerts/{alert.pk}/", {"action": "claim"}).status_code == 302
    cssrs = {"action": "cssrs", "item_1": "0", "item_2": "0", "item_6": "0"}
    assert client.post(f"/clinic/alerts/{alert.pk}/", cssrs).status_code == 302
    page = client.get(f"/clinic/alerts/{alert.pk}/").content.decode()
    assert "Choose today&#x27;s C-SSRS" in page and "checked" not in page  # nothing pre-selected
    form = {
        "action": "assess",
        "cssrs": str(patient.assessments.get(instrument="cssrs_screen").pk),
        "risk_level": "low",
        "safety_plan_reviewed": "yes",
        "disposition": "treat_today",
        "assessed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "note": "Denies intent and plan; protective factors; safety plan reviewed.",
        "next": "https://evil.example/",
    }
    missing = client.post(f"/clinic/alerts/{alert.pk}/", {**form, "risk_level": ""})
    assert missing.status_code == 200 and "Risk level" in missing.content.decode()
    response = client.post(f"/clinic/alerts/{alert.pk}/", form)
    assert response.status_code == 302 and response["Location"] == "/clinic/alerts/"
    record = SuicideRiskAssessment.objects.get(alert=alert)
    assert (record.assessed_by, record.disposition, record.safety_plan_reviewed) == (prescriber, "treat_today", True)
    chart = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "Suicide-risk alerts and assessments" in chart and "Safe to treat today" in chart


def test_a_notify_alert_is_acknowledged_with_a_note_and_a_safe_next(client, nurse, patient) -> None:
    measures.do_record_assessment(
        patient, "cssrs_screen", [1, 0, None, None, None, 0, None], at=timezone.now(), acting_user=nurse
    )
    alert = Alert.objects.get(patient=patient)
    client.force_login(nurse)
    short = client.post(f"/clinic/alerts/{alert.pk}/", {"action": "acknowledge", "note": "ok."})
    assert short.status_code == 200
    response = client.post(
        f"/clinic/alerts/{alert.pk}/",
        {"action": "acknowledge", "note": "Talked with patient; passive wish only.", "next": "/clinic/"},
    )
    assert response.status_code == 302 and response["Location"] == "/clinic/"


def test_the_dashboard_marks_an_overdue_urgent_alert(client, prescriber, nurse, patient) -> None:
    alert = _urgent(patient, nurse)
    Alert.objects.filter(pk=alert.pk).update(ack_deadline_at=timezone.now() - timedelta(minutes=1))
    client.force_login(prescriber)
    text = client.get("/clinic/").content.decode()
    assert "overdue" in text and f"/clinic/alerts/{alert.pk}/" in text


def test_the_on_call_rota_takes_a_shift(client, admin, prescriber) -> None:
    prescriber.email = "p1@clinic.test"
    prescriber.save()
    client.force_login(admin)
    start = timezone.localtime()
    response = client.post(
        "/on-call/",
        {
            "prescriber": prescriber.pk,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302 and OnCallShift.objects.get().prescriber == prescriber
    backwards = client.post(
        "/on-call/",
        {
            "prescriber": prescriber.pk,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert backwards.status_code == 200 and "ends after it starts" in backwards.content.decode()


def test_an_incomplete_phq9_with_item_9_still_raises_the_alert_and_shows_help(client, patient_user, patient) -> None:
    client.force_login(patient_user)
    response = client.post("/me/questionnaires/phq9/", {"item_9": "2"})
    text = response.content.decode()
    assert response.status_code == 200 and "988" in text and "complete the questionnaire" in text
    alert = Alert.objects.get(patient=patient, kind="suicide_risk")
    assert alert.severity == "urgent" and "not complete" in alert.message
    assert not patient.assessments.filter(instrument="phq9").exists()
    response = client.post("/me/questionnaires/phq9/", {"item_1": "1"})
    assert "988" not in response.content.decode() and "item 2" in response.content.decode()
