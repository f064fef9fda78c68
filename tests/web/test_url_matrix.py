"""The role x page matrix for every URL of the site, spelled out apart from the code.

A new URL fails ``test_every_url_is_in_the_matrix`` until it is added here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import get_resolver

from ketamine_clinic.domain.policy import ROLES
from ketamine_clinic.services import alerts, sessions
from tests.conftest import MONDAY
from tests.services.test_ledger import receive

STAFF = {"prescriber", "crna", "rn"}
BEDSIDE = {"crna", "rn"}
EVERYONE = {r.value for r in ROLES}
PUBLIC = {"login", "logout", "password-reset", "password-reset-confirm", "home", "patient-link"}

# url name -> (method, roles that may use it)
MATRIX: dict[str, tuple[str, set[str]]] = {
    "password-change": ("get", EVERYONE),
    "two-factor-verify": ("get", EVERYONE),
    "two-factor-setup": ("get", EVERYONE),
    "clinic-home": ("get", STAFF),
    "patient-list": ("get", STAFF),
    "patient-chart": ("get", STAFF),
    "intake-new": ("get", {"prescriber", "rn"}),
    "intake-detail": ("get", STAFF),
    "weight-update": ("get", STAFF),
    "rems-enrol": ("get", {"prescriber", "rn"}),
    "session-rems": ("get", STAFF),
    "session-rems-pdf": ("get", STAFF),
    "admin-rems": ("get", {"admin"}),
    "course-new": ("get", {"prescriber"}),
    "induction-decision": ("get", STAFF),
    "order-new": ("get", {"prescriber"}),
    "session-open": ("post", BEDSIDE),
    "order-verify": ("get", BEDSIDE),
    "session": ("get", STAFF),
    "session-checklist": ("post", BEDSIDE),
    "session-pump": ("post", BEDSIDE),
    "session-device": ("post", BEDSIDE),
    "session-prn": ("post", STAFF),
    "pre-procedure": ("get", STAFF),
    "consent-sign": ("get", STAFF),
    "session-vitals": ("post", BEDSIDE),
    "session-amend-vitals": ("get", BEDSIDE),
    "session-side-effect": ("post", STAFF),
    "session-assessment": ("post", STAFF),
    "session-note": ("post", STAFF),
    "session-amend-note": ("get", STAFF),
    "session-discharge": ("post", BEDSIDE),
    "alert-list": ("get", STAFF),
    "alert": ("get", STAFF),
    "desk-home": ("get", {"front_desk"}),
    "patient-new": ("get", {"front_desk"}),
    "desk-booster": ("get", {"front_desk"}),
    "desk-visit": ("get", {"front_desk"}),
    "desk-visit-action": ("get", {"front_desk"}),
    "desk-waitlist": ("get", {"front_desk"}),
    "clinic-week": ("get", STAFF),
    "admin-hours": ("get", {"admin"}),
    "search": ("get", STAFF | {"front_desk"}),
    "tasks": ("get", STAFF | {"front_desk"}),
    "desk-patient": ("get", {"front_desk"}),
    "patient-merge": ("get", {"front_desk", "admin"}),
    "me-home": ("get", {"patient"}),
    "me-questionnaire": ("get", {"patient"}),
    "admin-home": ("get", {"admin"}),
    "admin-users": ("get", {"admin"}),
    "admin-user-edit": ("get", {"admin"}),
    "admin-settings": ("get", {"admin"}),
    "admin-care-teams": ("get", {"admin"}),
    "admin-audit": ("get", {"admin", "auditor"}),
    "admin-jobs": ("get", {"admin"}),
    "settings-review": ("get", set()),
    "patient-rating": ("post", STAFF),
    "order-cancel": ("post", {"prescriber"}),
    "course-end": ("post", {"prescriber"}),
    "admin-chairs": ("get", {"admin"}),  # the medical director only (a flagged prescriber): test_governance.py
    "on-call": ("get", {"admin", "prescriber"}),
    "visit-today": ("get", {"prescriber"}),
    "session-close": ("post", BEDSIDE),
    "session-aftercare": ("get", STAFF),
    "ledger-home": ("get", STAFF),
    "ledger-receive": ("get", {"prescriber"}),
    "ledger-count": ("get", STAFF),
    "ledger-lot": ("get", STAFF),
    "ledger-correct": ("get", STAFF),
    "ledger-discrepancy": ("get", STAFF),
    "ledger-dispensing": ("get", STAFF),
    "ledger-dispensing-csv": ("get", STAFF),
    "ledger-dispensing-pdf": ("get", STAFF),
    "ledger-inventory": ("get", STAFF),
    "ledger-inventory-csv": ("get", STAFF),
    "ledger-inventory-pdf": ("get", STAFF),
    "ledger-loss": ("get", STAFF),
    "loss-csv": ("get", STAFF),
    "loss-pdf": ("get", STAFF),
    "session-ledger-draw": ("post", BEDSIDE),
    "session-ledger-waste": ("post", BEDSIDE),
    "admin-ledger-settings": ("get", {"admin"}),
    "session-record-pdf": ("get", STAFF),
    "progress-pdf": ("get", STAFF),
    "superbill-pdf": ("get", STAFF),
    "admin-practice": ("get", {"admin"}),
    "reports-outcomes": ("get", STAFF | {"front_desk"}),
    "reports-outcomes-csv": ("get", STAFF | {"front_desk"}),
    "reports-outcomes-pdf": ("get", STAFF | {"front_desk"}),
    "reports-recall": ("get", STAFF | {"front_desk"}),
    "aftercare-pdf": ("get", STAFF),
    "admin-tokens": ("get", {"admin"}),
    "me-appointments": ("get", {"patient"}),
    "me-plan": ("get", {"patient"}),
    "me-aftercare": ("get", {"patient"}),
    "me-learn": ("get", {"patient"}),
    "me-learn-page": ("get", {"patient"}),
    "desk-requests": ("get", {"front_desk"}),
}


def test_every_url_is_in_the_matrix() -> None:
    names = {p.name for p in get_resolver().url_patterns if getattr(p, "name", None)}
    assert names == set(MATRIX) | PUBLIC


@pytest.fixture
def ledger_lot(prescriber):  # type: ignore[no-untyped-def]
    return receive(prescriber, expiry=MONDAY.date() + timedelta(days=3650))


@pytest.fixture
def ledger_loss(ledger_lot, nurse, prescriber):  # type: ignore[no-untyped-def]
    from ketamine_clinic.services import ledger
    from ketamine_clinic.storage.models import StockDiscrepancy

    ledger.do_record_counts({ledger_lot.pk: "1995"}, count_kind="closing", at=MONDAY, acting_user=nurse)
    return ledger.do_resolve_discrepancy(
        StockDiscrepancy.objects.get(),
        resolution="theft",
        reason="Vial missing from the safe after the weekend",
        at=MONDAY,
        acting_user=prescriber,
    )


@pytest.fixture
def nasal_session(stranger, prescriber, nurse, chairs):  # type: ignore[no-untyped-def]
    """An esketamine session of another patient, for the REMS pages."""
    from ketamine_clinic.services import courses, intake, orders
    from tests.conftest import VITALS
    from tests.support.rems import rems_on_site, rems_ready

    row = intake.do_record_intake(
        stranger,
        diagnoses=["trd"],
        failed_trials=[{"adequate": True}, {"adequate": True}],
        contraindications={},
        weight_kg="80",
        height_cm="180",
        vitals=VITALS,
        pregnant=False,
        consent_given=True,
        at=MONDAY - timedelta(days=8),
        acting_user=nurse,
    )
    intake.do_decide_eligibility(
        row, decision="eligible", note="", at=MONDAY - timedelta(days=8), acting_user=prescriber
    )
    course = courses.do_plan_course(
        stranger,
        protocol="esketamine_trd",
        start_date=(MONDAY + timedelta(days=1)).date(),
        at=MONDAY - timedelta(days=8),
        acting_user=prescriber,
    )
    rems_ready(stranger, prescriber, MONDAY)
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_nasal_order(visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    rems_on_site(session, prescriber, visit.starts_at)
    return session


@pytest.fixture
def urls(
    course, verified_order, running_session, recorded_intake, nurse, personas, ledger_lot, ledger_loss, nasal_session
):  # type: ignore[no-untyped-def]
    from ketamine_clinic.storage.models import LedgerEntry

    with transaction.atomic():
        alert = alerts.raise_alert(
            course.patient, kind="vital_sign", severity="urgent", message="BP", source="S30", at=MONDAY, actor=None
        )
    note = sessions.do_sign_note(running_session, "Tolerated well.", at=MONDAY, acting_user=nurse)
    visit = course.visits.order_by("starts_at")[1]
    vital = running_session.checklist["pre_dose_vital_id"]
    sid, pid = running_session.pk, course.patient_id
    lot, loss = ledger_lot, ledger_loss
    receipt = LedgerEntry.objects.get(lot=lot, kind="receipt")
    return {
        "password-change": "/account/password/",
        "two-factor-verify": "/account/two-factor/",
        "two-factor-setup": "/account/two-factor/setup/",
        "clinic-home": "/clinic/",
        "patient-list": "/clinic/patients/",
        "patient-chart": f"/clinic/patients/{pid}/",
        "intake-new": f"/clinic/patients/{pid}/intake/",
        "intake-detail": f"/clinic/patients/{pid}/intake/{recorded_intake.pk}/",
        "weight-update": f"/clinic/patients/{pid}/weight/",
        "rems-enrol": f"/clinic/patients/{pid}/rems/",
        "session-rems": f"/clinic/sessions/{nasal_session.pk}/rems/",
        "session-rems-pdf": f"/clinic/sessions/{nasal_session.pk}/rems.pdf",
        "admin-rems": "/admin-area/rems/",
        "course-new": f"/clinic/patients/{pid}/course/",
        "induction-decision": f"/clinic/courses/{course.pk}/decision/",
        "order-new": f"/clinic/visits/{visit.pk}/order/",
        "session-open": f"/clinic/visits/{visit.pk}/session/",
        "order-verify": f"/clinic/orders/{verified_order.pk}/verify/",
        "session": f"/clinic/sessions/{sid}/",
        "session-checklist": f"/clinic/sessions/{sid}/checklist/",
        "session-pump": f"/clinic/sessions/{sid}/pump/",
        "session-device": f"/clinic/sessions/{sid}/device/",
        "session-prn": f"/clinic/sessions/{sid}/prn/",
        "pre-procedure": f"/clinic/patients/{pid}/pre-procedure/",
        "consent-sign": f"/clinic/patients/{pid}/consent/",
        "session-vitals": f"/clinic/sessions/{sid}/vitals/",
        "session-amend-vitals": f"/clinic/sessions/{sid}/vitals/{vital}/amend/",
        "session-side-effect": f"/clinic/sessions/{sid}/side-effects/",
        "session-assessment": f"/clinic/sessions/{sid}/assessment/",
        "session-note": f"/clinic/sessions/{sid}/notes/",
        "session-amend-note": f"/clinic/sessions/{sid}/notes/{note.pk}/amend/",
        "session-discharge": f"/clinic/sessions/{sid}/discharge/",
        "alert-list": "/clinic/alerts/",
        "alert": f"/clinic/alerts/{alert.pk}/",
        "desk-home": "/desk/",
        "patient-new": "/desk/patients/new/",
        "desk-booster": "/desk/boosters/",
        "desk-visit": f"/desk/visits/{visit.pk}/",
        "desk-visit-action": f"/desk/visits/{visit.pk}/arrival/",
        "desk-waitlist": "/desk/waitlist/",
        "clinic-week": "/clinic/week/",
        "admin-hours": "/admin-area/hours/",
        "search": f"/search/?q={course.patient.family_name}",
        "tasks": "/tasks/",
        "desk-patient": f"/desk/patients/{pid}/",
        "patient-merge": f"/desk/patients/merge/?keep={pid}",
        "me-home": "/me/",
        "me-questionnaire": "/me/questionnaires/phq9/",
        "admin-home": "/admin-area/",
        "admin-users": "/admin-area/users/",
        "admin-user-edit": f"/admin-area/users/{nurse.pk}/",
        "admin-settings": "/admin-area/settings/",
        "admin-care-teams": "/admin-area/care-teams/",
        "admin-audit": "/admin-area/audit/",
        "admin-jobs": "/admin-area/jobs/",
        "settings-review": "/clinic/settings/review/",
        "patient-rating": f"/clinic/patients/{pid}/ratings/",
        "order-cancel": f"/clinic/orders/{verified_order.pk}/cancel/",
        "course-end": f"/clinic/courses/{course.pk}/end/",
        "admin-chairs": "/admin-area/chairs/",
        "on-call": "/on-call/",
        "visit-today": f"/clinic/visits/{visit.pk}/today/",
        "session-close": f"/clinic/sessions/{sid}/close/",
        "session-aftercare": f"/clinic/sessions/{sid}/aftercare/",
        "ledger-home": "/clinic/ledger/",
        "ledger-receive": "/clinic/ledger/receive/",
        "ledger-count": "/clinic/ledger/count/",
        "ledger-lot": f"/clinic/ledger/lots/{lot.pk}/",
        "ledger-correct": f"/clinic/ledger/entries/{receipt.pk}/correct/",
        "ledger-discrepancy": f"/clinic/ledger/discrepancies/{loss.pk}/",
        "ledger-dispensing": "/clinic/ledger/reports/dispensing/",
        "ledger-dispensing-csv": "/clinic/ledger/reports/dispensing.csv",
        "ledger-dispensing-pdf": "/clinic/ledger/reports/dispensing.pdf",
        "ledger-inventory": "/clinic/ledger/reports/inventory/",
        "ledger-inventory-csv": "/clinic/ledger/reports/inventory.csv",
        "ledger-inventory-pdf": "/clinic/ledger/reports/inventory.pdf",
        "ledger-loss": f"/clinic/ledger/reports/loss/{loss.pk}/",
        "loss-csv": f"/clinic/ledger/reports/loss/{loss.pk}.csv",
        "loss-pdf": f"/clinic/ledger/reports/loss/{loss.pk}.pdf",
        "session-ledger-draw": f"/clinic/sessions/{sid}/ledger/draw/",
        "session-ledger-waste": f"/clinic/sessions/{sid}/ledger/waste/",
        "admin-ledger-settings": "/admin-area/ledger/",
        "session-record-pdf": f"/clinic/sessions/{sid}/record.pdf",
        "progress-pdf": f"/clinic/patients/{pid}/progress.pdf",
        "superbill-pdf": f"/clinic/visits/{running_session.visit_id}/superbill.pdf",
        "aftercare-pdf": f"/clinic/sessions/{sid}/aftercare.pdf",
        "admin-practice": "/admin-area/practice/",
        "reports-outcomes": "/clinic/reports/",
        "reports-outcomes-csv": "/clinic/reports/outcomes.csv",
        "reports-outcomes-pdf": "/clinic/reports/outcomes.pdf",
        "reports-recall": "/clinic/reports/recall/",
        "admin-tokens": "/admin-area/tokens/",
        "me-appointments": "/me/appointments/",
        "me-plan": "/me/plan/",
        "me-aftercare": "/me/aftercare/",
        "me-learn": "/me/learn/",
        "me-learn-page": "/me/learn/side-effects/",
        "desk-requests": "/desk/requests/",
    }


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_every_url_opens_for_its_roles_only(client, personas, urls, role) -> None:
    client.force_login(personas[role])
    for name, (method, roles) in MATRIX.items():
        response = getattr(client, method)(urls[name])
        if role in roles:
            assert response.status_code in (200, 302, 422), (name, role, response.status_code)
        else:
            assert response.status_code == 403, (name, role, response.status_code)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_visitors_are_sent_to_log_in(client, urls, name) -> None:
    method, _ = MATRIX[name]
    response = getattr(client, method)(urls[name])
    assert response.status_code == 302 and response["Location"].startswith("/login/"), name
