"""The demo clinic loaded by ``make run``: staff in every role, chairs, and about forty
patients at every stage (intake, induction under way, decision due, maintenance,
referred to an alternative, not eligible), with plausible PHQ-9 trajectories, side
effects, today's sessions and one open suicide-risk alert.

Everything goes through the same services a clinic uses, so the demo's audit trail
verifies like a real one. Generation is seeded: the same day gives the same clinic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import (
    alerts,
    checklist,
    courses,
    intake,
    ledger,
    measures,
    orders,
    protocols,
    rems,
    schedule,
    sessions,
)
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Course, InfusionSession, Patient, StockLot, User, Visit

__all__ = ["DEMO_PASSWORD", "DEMO_STAFF", "demo_logins", "load_demo"]

DEMO_PASSWORD = "clinic-demo-2026"

#: username, role, first, last, credentials
DEMO_STAFF: tuple[tuple[str, str, str, str, str], ...] = (
    ("admin", "admin", "Alex", "Morgan", ""),
    ("dr.rivera", "prescriber", "Elena", "Rivera", "MD"),
    ("np.okafor", "prescriber", "Chidi", "Okafor", "PMHNP-BC"),
    ("crna.hughes", "crna", "Sam", "Hughes", "CRNA"),
    ("rn.chen", "rn", "Mei", "Chen", "RN"),
    ("desk.patel", "front_desk", "Priya", "Patel", ""),
    ("patient.jordan", "patient", "Jordan", "Ellis", ""),
)

CHAIRS = ("Chair 1", "Chair 2", "Chair 3", "Chair 4", "Chair 5", "Chair 6")

GIVEN = [
    "Aisha",
    "Marcus",
    "Grace",
    "Tomás",
    "Lena",
    "Owen",
    "Priya",
    "Caleb",
    "Nora",
    "Diego",
    "Hana",
    "Malik",
    "Ruth",
    "Felix",
    "Ines",
    "Jonah",
    "Maya",
    "Theo",
    "Sofia",
    "Andre",
    "Leah",
    "Omar",
    "Clara",
    "Rafael",
    "Zoe",
    "Isaac",
    "Mira",
    "Hugo",
    "Elise",
    "Kofi",
    "Vera",
    "Amir",
    "Lucia",
    "Bram",
    "Esme",
    "Ravi",
    "Tess",
    "Nikolai",
    "Ada",
    "Silas",
]
FAMILY = [
    "Karimi",
    "Bell",
    "Whitfield",
    "Ortega",
    "Novak",
    "Reyes",
    "Lindqvist",
    "Abara",
    "Fischer",
    "Moreau",
    "Tanaka",
    "Hughes",
    "Petrov",
    "Okoye",
    "Lambert",
    "Castillo",
    "Brennan",
    "Sato",
    "Varga",
    "Mendes",
    "Kowalski",
    "Haddad",
    "Quinn",
    "Sorensen",
    "Duarte",
    "Nakamura",
    "Ferreira",
    "Adeyemi",
    "Holt",
    "Ibrahim",
    "Marsh",
    "Costa",
    "Weber",
    "Yilmaz",
    "Dalton",
    "Shah",
    "Keller",
    "Romero",
    "Nilsson",
    "Bianchi",
]

# stage -> how many patients
STAGES: tuple[tuple[str, int], ...] = (
    ("induction", 12),
    ("new", 4),
    ("screened", 3),
    ("not_eligible", 2),
    ("decision_due", 5),
    ("maintenance", 9),
    ("referred", 4),
    ("esketamine", 2),
)


@dataclass
class _Staff:
    prescriber: User
    prescriber2: User
    crna: User
    rn: User
    desk: User


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, password) for the demo accounts present in this database."""
    names = [row[0] for row in DEMO_STAFF]
    present = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    return [(u, role, DEMO_PASSWORD) for u, role, *_ in DEMO_STAFF if u in present]


def load_demo(at: datetime | None = None, *, patients: int | None = None) -> bool:
    """Load the demo clinic unless it is there already. Returns whether it loaded."""
    now = at or timezone.now()
    if User.objects.filter(username=DEMO_STAFF[0][0]).exists():
        return False
    rng = random.Random(20261124)
    with transaction.atomic():
        users = {
            username: do_create_user(
                username,
                role,
                DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                credentials=cred,
                email=f"{username}@demo-clinic.invalid" if role != "patient" else "",
                acting_user=None,
            )
            for username, role, first, last, cred in DEMO_STAFF
        }
        _on_call(users["dr.rivera"], users["np.okafor"], users["admin"], now)
        staff = _Staff(
            users["dr.rivera"],
            users["np.okafor"],
            users["crna.hughes"],
            users["rn.chen"],
            users["desk.patel"],
        )
        for name in CHAIRS:
            schedule.do_create_chair(name, acting_user=None)
        _stock_ledger(staff, now)
        plan = [stage for stage, count in STAGES for _ in range(count)]
        if patients is not None:
            plan = plan[:patients]
        for index, stage in enumerate(plan):
            person = _register(index, rng, now, users["patient.jordan"] if index == 0 else None)
            today_slot = index if stage == "induction" and index < 4 else None
            _advance(person, stage, rng, now, staff, suicide_alert=(index == 1), today_slot=today_slot)
        _count_ledger(staff, now)
    return True


def _on_call(director: User, aprn: User, admin: User, now: datetime) -> None:
    """Dr Rivera is the medical director; the APRN is on call this week, so the demo's open
    suicide-risk alert leaves its message for her in the outbox."""
    from ketamine_clinic.services.notifications import do_add_on_call_shift

    director.is_medical_director = True
    director.save(update_fields=["is_medical_director"])
    from ketamine_clinic.services.clinic import do_confirm_clinic_rules

    do_confirm_clinic_rules(
        reason="Demo clinic: the cited defaults reviewed and confirmed for this demonstration.", acting_user=director
    )
    start = now - timedelta(days=1)
    do_add_on_call_shift(aprn, starts_at=start, ends_at=start + timedelta(days=7), at=now, acting_user=admin)


#: (product kind, name, NDC, mg/mL, mL, lot, days before now received, days from now to expiry, units)
#: NDC product codes from the clinic's reference [S75][S40]; package codes are illustrative.
_VIAL = "Ketamine HCl injection 50 mg/mL (10 mL multi-dose vial)"
DEMO_LOTS: tuple[tuple[str, str, str, int, int, str, int, int, int], ...] = (
    ("ketamine_vial", _VIAL, "0409-2051-05", 50, 10, "HK4021", 100, -6, 12),
    ("ketamine_vial", _VIAL, "0409-2051-05", 50, 10, "HK5187", 40, 400, 20),
    ("esketamine_device", "Spravato (esketamine) 28 mg nasal spray", "50458-028-02", 0, 0, "SP23K07", 100, 300, 60),
)


def _stock_ledger(s: _Staff, now: datetime) -> None:
    """The controlled-substance stock: the registrant's details, a safe, three lots and the
    initial inventory of the first day ([S80][S81]); the older ketamine lot has since expired."""
    ledger.do_update_ledger_settings(
        roles={},
        count_times=["opening", "closing"],
        registrant_name="Ketamine Clinic demo (Elena Rivera, MD)",
        registrant_address="100 Example Street, Springfield",
        dea_number="AB1234563",
        acting_user=User.objects.get(username="admin"),
    )
    safe = ledger.do_add_location("Double-locked safe, medication room", acting_user=s.prescriber)
    first = max(row[6] for row in DEMO_LOTS)
    for kind, name, ndc, conc, volume, lot_number, ago, expires_in, quantity in DEMO_LOTS:
        at = now - timedelta(days=ago)
        lot = ledger.do_receive_stock(
            product_kind=kind,
            product_name=name,
            ndc=ndc,
            concentration_mg_per_ml=conc,
            volume_ml=volume,
            quantity=quantity,
            lot_number=lot_number,
            expiry=timezone.localdate(now) + timedelta(days=expires_in),
            supplier="Cardinal Health",
            invoice_ref=f"INV-{lot_number}",
            order_form_ref="CSOS 2026-" + lot_number[-3:],
            location=safe,
            at=at,
            acting_user=s.prescriber,
        )
        if ago == first:  # the initial inventory of the day the clinic began (21 CFR 1304.11(b))
            ledger.do_record_counts(
                {lot.pk: lot.received_mg}, count_kind="initial", at=at + timedelta(minutes=10), acting_user=s.prescriber
            )


def _draw_for(session: InfusionSession, s: _Staff, at: datetime, *, round_up: bool) -> None:
    """Draw the ordered dose from the first lot in date that holds it (devices for esketamine;
    for IV, a quarter of sessions draw up to the next 5 mg and waste the rest) [S81]."""
    order = session.order
    kind = "esketamine_device" if order.route == "nasal" else "ketamine_vial"
    amount = Decimal(order.dose_mg)
    if round_up:
        amount = (amount / 5).to_integral_value(rounding="ROUND_CEILING") * 5
    lot = (
        StockLot.objects.filter(product_kind=kind, expiry__gte=timezone.localdate(at), balance_mg__gte=amount)
        .order_by("expiry", "id")
        .first()
    )
    if lot is not None:
        by = s.crna if kind == "esketamine_device" else s.rn
        ledger.do_draw_stock(session, lot, mg=amount, at=at, acting_user=by)


def _waste_residual(session: InfusionSession, s: _Staff, at: datetime) -> None:
    """Waste what was drawn and not given, the RN wasting and the CRNA witnessing [S83]."""
    session.refresh_from_db()
    summary = ledger.session_ledger(session)
    residual = summary.tie.residual_mg
    for lot_id, drawn in summary.drawn_by_lot().items():
        amount = min(residual, drawn)
        if amount > 0:
            ledger.do_waste_stock(
                session,
                StockLot.objects.get(pk=lot_id),
                mg=amount,
                witness=s.crna,
                witness_password=DEMO_PASSWORD,
                reason="residual in the syringe after the infusion",
                at=at,
                acting_user=s.rn,
            )
            residual -= amount


def _count_ledger(s: _Staff, now: datetime) -> None:
    """Today's count by the RN finds 5 mg (0.1 mL) short on the open ketamine lot; the
    prescriber resolves it as a loss with a reason (a DEA Form 106 draft follows [S82]),
    and a recount of every lot matches the record [S80]."""
    when = "opening" if timezone.localtime(now).hour < 12 else "closing"
    lots = list(StockLot.objects.filter(balance_mg__gt=0).order_by("expiry", "id"))
    open_lot = next(
        (lot for lot in lots if lot.product_kind == "ketamine_vial" and lot.expiry >= timezone.localdate(now)), None
    )
    if open_lot is not None and open_lot.balance_mg >= 5:
        at = now - timedelta(minutes=2)  # after every demo draw, all of which are at or before now
        ledger.do_record_counts({open_lot.pk: open_lot.balance_mg - 5}, count_kind=when, at=at, acting_user=s.rn)
        found = open_lot.discrepancies.get(status="open")
        ledger.do_resolve_discrepancy(
            found,
            resolution="loss",
            reason="The CRNA saw 0.1 mL leak from a cracked stopper while drawing; vial quarantined.",
            at=at + timedelta(minutes=1),
            acting_user=s.prescriber,
        )
    counts = {lot.pk: StockLot.objects.get(pk=lot.pk).balance_mg for lot in lots}
    ledger.do_record_counts(counts, count_kind=when, at=now, acting_user=s.crna)


def _register(index: int, rng: random.Random, now: datetime, user: User | None) -> Patient:
    given, family = ("Jordan", "Ellis") if user else (GIVEN[index % len(GIVEN)], FAMILY[index % len(FAMILY)])
    born = date(now.year - rng.randint(22, 68), rng.randint(1, 12), rng.randint(1, 28))
    return do_create_patient(
        mrn=f"KC-{1001 + index}",
        given_name=given,
        family_name=family,
        birth_date=born,
        sex=rng.choice(["female", "male", "female", "other"] if index % 9 == 0 else ["female", "male"]),
        phone=f"555-01{index:02d}",
        at=now - timedelta(days=90),
        user=user,
        acting_user=None,
    )


def _phq9(total: int, rng: random.Random, item9: int = 0) -> list[int]:
    """Nine item scores (0-3) summing to ``total`` with item 9 fixed."""
    total = max(item9, min(total, 24 + item9))
    items = [0] * 8
    remaining = total - item9
    while remaining > 0:
        k = rng.randrange(8)
        if items[k] < 3:
            items[k] += 1
            remaining -= 1
    return [*items, item9]


def _advance(
    patient: Patient,
    stage: str,
    rng: random.Random,
    now: datetime,
    s: _Staff,
    *,
    suicide_alert: bool,
    today_slot: int | None = None,
) -> None:
    if stage == "new":
        return
    prescriber = s.prescriber if rng.random() < 0.6 else s.prescriber2
    baseline = rng.randint(16, 25)
    excluded = stage == "not_eligible"
    start = now - timedelta(
        days={
            "screened": 3,
            "not_eligible": 10,
            "induction": rng.randint(3, 12),
            "decision_due": rng.randint(16, 20),
            "maintenance": rng.randint(40, 80),
            "referred": rng.randint(30, 50),
            "esketamine": rng.randint(8, 12),
        }[stage]
    )
    measures.do_record_assessment(patient, "phq9", _phq9(baseline, rng), at=start - timedelta(days=2), acting_user=s.rn)
    height_cm = rng.randint(155, 192)
    row = intake.do_record_intake(
        patient,
        diagnoses=["trd"] + (["ptsd"] if rng.random() < 0.2 else []),
        failed_trials=[
            {"drug": d, "weeks": rng.randint(6, 12), "adequate": True}
            for d in rng.sample(
                [
                    "sertraline",
                    "escitalopram",
                    "bupropion",
                    "venlafaxine",
                    "mirtazapine",
                    "duloxetine",
                ],
                2 + (rng.random() < 0.4),
            )
        ],
        contraindications={"psychosis_active": excluded} if excluded else {},
        weight_kg=Decimal(str(round(rng.uniform(19, 34) * (height_cm / 100) ** 2, 1))),
        height_cm=Decimal(str(height_cm)),
        vitals={
            "systolic_mmhg": rng.randint(108, 134),
            "diastolic_mmhg": rng.randint(66, 84),
            "heart_rate_bpm": rng.randint(60, 86),
            "spo2_percent": rng.randint(96, 99),
            "respiratory_rate": rng.randint(12, 16),
        },
        pregnant=False,
        consent_given=True,
        at=start - timedelta(days=2),
        acting_user=s.rn,
    )
    if stage == "screened":
        return
    decision = "not_eligible" if row.screen_status == "not_eligible" else "eligible"
    intake.do_decide_eligibility(
        row,
        decision=decision,
        note=""
        if decision == row.screen_status
        else "Reviewed with the patient; benefits outweigh the relative risks.",
        at=start - timedelta(days=1),
        acting_user=prescriber,
    )
    if decision != "eligible":
        return
    if stage == "esketamine":
        course = courses.do_plan_course(
            patient,
            protocol="esketamine_trd",
            start_date=timezone.localdate(start),
            start_time=time(9 + rng.randint(0, 3), 0),
            baseline_score=baseline,
            accept_other_times=True,  # a busy demo day: the nearest free time
            at=start - timedelta(days=1),
            acting_user=prescriber,
        )
        _run_nasal_course(course, patient, baseline, rng, now, s, prescriber)
        return
    start_day, start_time = timezone.localdate(start), time(8 + rng.randint(0, 5), 0)
    if today_slot is not None:
        start_day, start_time = _start_with_visit_today(now, today_slot)
    course = courses.do_plan_course(
        patient,
        protocol="iv_racemic_depression",
        start_date=start_day,
        start_time=start_time,
        baseline_score=baseline,
        accept_other_times=True,  # a busy demo day: the nearest free time
        at=start - timedelta(days=1),
        acting_user=prescriber,
    )
    responder = stage in {"maintenance"} or (stage in {"induction", "decision_due"} and rng.random() < 0.65)
    _run_course(course, patient, baseline, responder, rng, now, s, prescriber, False)
    if suicide_alert:
        answers = _phq9(max(8, baseline - 6), rng, item9=1)
        measures.do_record_assessment(
            patient, "phq9", answers, at=now - timedelta(minutes=35), acting_user=patient.user or s.rn
        )
    if stage in {"maintenance", "referred"} and courses.decision_due(course):
        suggestion_decision = "maintenance" if stage == "maintenance" else "refer"
        last = course.visits.filter(status="done").order_by("-starts_at").first()
        at = (last.ends_at if last else now) + timedelta(days=1)
        suggested = courses.evaluate_induction(course)
        courses.do_decide_induction(
            course,
            decision=suggestion_decision,
            override_reason=""
            if suggested.decision == suggestion_decision
            else "Discussed with the patient; see note.",
            next_visit_weeks=suggested.interval_weeks or 3 if suggestion_decision == "maintenance" else None,
            at=at,
            acting_user=prescriber,
        )


def _run_nasal_course(
    course: Course, patient: Patient, baseline: int, rng: random.Random, now: datetime, s: _Staff, prescriber: User
) -> None:
    """Past esketamine visits: PHQ-9, a nasal order (56 mg first, then 84 mg), devices 5 minutes
    apart, blood pressure before and 40 minutes after, discharge after the 2-hour observation;
    the REMS: the setting certified, the patient enrolled, a prescriber on site, the lot, and
    the monitoring forms older than three days submitted."""
    if rems.certification() is None:
        rems.do_certify_site(
            certification_id="SPR-DEMO-0001",
            setting_name="Ketamine Clinic (demo)",
            authorized_representative="Dr. Rivera",
            certified_on=timezone.localdate(now) - timedelta(days=400),
            at=now - timedelta(days=400),
            acting_user=None,
        )
    first_at = course.visits.order_by("starts_at").first()
    rems.do_enrol_patient(
        patient,
        rems_patient_id=f"DEMO-{patient.mrn}",
        enrolled_on=timezone.localdate(first_at.starts_at if first_at else now) - timedelta(days=2),
        at=(first_at.starts_at if first_at else now) - timedelta(days=2),
        acting_user=prescriber,
    )
    for n, visit in enumerate(course.visits.order_by("starts_at"), start=1):
        t = visit.starts_at
        if t + timedelta(hours=3) > now:
            orders.do_sign_nasal_order(
                visit, dose_mg=56 if n == 1 else 84, at=t - timedelta(days=1), acting_user=prescriber
            )
            break
        score = max(3, round(baseline * (1 - 0.08 * n * rng.uniform(0.8, 1.2))))
        measures.do_record_assessment(
            patient, "phq9", _phq9(score, rng), at=t - timedelta(minutes=20), acting_user=s.rn, visit=visit
        )
        order = orders.do_sign_nasal_order(
            visit, dose_mg=56 if n == 1 else 84, at=t - timedelta(days=1), acting_user=prescriber
        )
        orders.do_verify_order(order, at=t - timedelta(hours=20), acting_user=s.rn)
        session = sessions.do_open_session(visit, at=t, acting_user=s.rn)
        _draw_for(session, s, t + timedelta(minutes=1), round_up=False)
        base = intake.baseline_vitals(patient)
        sessions.do_complete_checklist(
            session,
            items={name: True for name, _ in chairside.CHECKLIST},
            vitals=base,
            at=t + timedelta(minutes=2),
            acting_user=s.rn,
        )
        rems.do_record_on_site(
            session,
            prescriber=prescriber,
            pulse_oximetry=True,
            lot_number="SP23K07",
            lot_expiry=timezone.localdate(now) + timedelta(days=300),
            at=t + timedelta(minutes=3),
            acting_user=s.crna,
        )
        for k in range(order.devices or 0):
            sessions.do_give_nasal_device(session, at=t + timedelta(minutes=5 + 5 * k), acting_user=s.crna)
        raised = {**base, "systolic_mmhg": int(base["systolic_mmhg"] or 120) + rng.randint(4, 12)}
        sessions.do_record_vitals(session, raised, at=t + timedelta(minutes=50), acting_user=s.rn)
        sessions.do_record_vitals(session, base, at=t + timedelta(minutes=140), acting_user=s.rn)
        sessions.do_discharge(
            session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=t + timedelta(minutes=150),
            acting_user=s.rn,
        )
        if t < now - timedelta(days=3):
            rems.do_save_form_answers(
                session,
                sedation=rng.random() < 0.5,
                dissociation=rng.random() < 0.6,
                respiratory_depression=False,
                ready_to_leave_min=rng.choice([90, 100, 110, 120]),
                serious_adverse_events="",
                at=t + timedelta(minutes=160),
                acting_user=s.rn,
            )
            rems.do_mark_form_submitted(
                session, reference=f"FAX-{session.pk:05d}", at=t + timedelta(days=1), acting_user=s.rn
            )


def _start_with_visit_today(now: datetime, slot: int) -> tuple[date, time]:
    """A course start that puts an infusion on today (when the clinic is open today), at a
    time around now so the chair-side pages have something running: slot 0 started 25
    minutes ago, slot 1 ninety minutes ago, slot 2 starts in an hour, slot 3 in two."""
    today = timezone.localdate(now)
    local = timezone.localtime(now)
    offset = (-25, -90, 60, 120)[slot % 4]
    minutes = min(max(local.hour * 60 + local.minute + offset, 8 * 60), 14 * 60 + 30)
    minutes -= minutes % 5
    at = time(minutes // 60, minutes % 60)
    for back in (2, 4, 5, 7, 9, 11, 3, 6, 8, 10, 1, 0):
        start = today - timedelta(days=back)
        if any(v.date == today for v in protocols.plan_visits("iv_racemic_depression", start).visits):
            return start, at
    return today - timedelta(days=5), at


def _run_course(
    course: Course,
    patient: Patient,
    baseline: int,
    responder: bool,
    rng: random.Random,
    now: datetime,
    s: _Staff,
    prescriber: User,
    suicide_alert: bool,
) -> None:
    visits = list(course.visits.order_by("starts_at"))
    for n, visit in enumerate(visits, start=1):
        if visit.starts_at.date() > now.date():
            if n == 1 or visits[n - 2].starts_at.date() < now.date():
                _order(visit, course, prescriber, s, visit.starts_at - timedelta(days=1))
            break
        drop = ((0.13 if baseline % 3 == 0 else 0.09) if responder else 0.025) * n
        score = max(2, round(baseline * (1 - drop * rng.uniform(0.8, 1.2))))
        item9 = 1 if suicide_alert and visit.starts_at.date() == now.date() else 0
        pre = min(visit.starts_at, now) - timedelta(minutes=20)
        measures.do_record_assessment(
            patient,
            "phq9",
            _phq9(score, rng, item9),
            at=pre,
            acting_user=patient.user or s.rn,
            visit=visit,
        )
        order = _order(visit, course, prescriber, s, pre - timedelta(hours=20))
        if visit.starts_at > now:
            break
        today = visit.starts_at.date() == now.date()
        # a morning session has been discharged by the afternoon; a recent one is still in the chair
        live = today and visit.starts_at + timedelta(minutes=140) > now
        _session(visit, order, rng, now if live else visit.ends_at + timedelta(hours=1), s, live=live)
        if today:
            break


def _order(visit: Visit, course: Course, prescriber: User, s: _Staff, at: datetime):  # type: ignore[no-untyped-def]
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=course.dose_mg_per_kg,
        duration_min=40,
        concentration_mg_per_ml=Decimal("1.0"),
        at=at,
        acting_user=prescriber,
    )
    return orders.do_verify_order(order, at=at + timedelta(minutes=30), acting_user=s.rn)


def _session(visit: Visit, order, rng: random.Random, until: datetime, s: _Staff, *, live: bool) -> None:  # type: ignore[no-untyped-def]
    t0 = visit.starts_at
    if until < t0 + timedelta(minutes=5):
        return
    nurse = s.rn
    session = sessions.do_open_session(visit, at=t0, acting_user=nurse)
    _draw_for(session, s, min(t0 + timedelta(minutes=1), until), round_up=rng.random() < 0.25)
    base = {
        "systolic_mmhg": rng.randint(112, 132),
        "diastolic_mmhg": rng.randint(68, 82),
        "heart_rate_bpm": rng.randint(62, 84),
        "spo2_percent": rng.randint(96, 99),
        "respiratory_rate": 14,
    }
    items = {name: True for name, _ in chairside.CHECKLIST}
    if checklist.todays_screen_problem(visit.patient, at=t0 + timedelta(minutes=2)):
        # today's PHQ-9 item 9 was positive: the nurse screens with the C-SSRS before dosing [S70]
        negative = [0, 0, None, None, None, 0, None]
        measures.do_record_assessment(
            visit.patient, "cssrs_screen", negative, at=t0 + timedelta(minutes=1), acting_user=nurse
        )
    sessions.do_complete_checklist(session, items=items, vitals=base, at=t0 + timedelta(minutes=2), acting_user=nurse)
    start = t0 + timedelta(minutes=5)
    sessions.do_record_pump_event(session, "start", rate_ml_per_h=order.rate_ml_per_h, at=start, acting_user=s.crna)
    for k in range(1, 9):
        at = start + timedelta(minutes=10 * k)
        if at > until:
            return
        rise = 16 * min(k, 4) / 4 if k <= 4 else 16 * max(0, 8 - k) / 4
        reading = {
            **base,
            "systolic_mmhg": int(base["systolic_mmhg"] + rise + rng.randint(-4, 6)),
            "diastolic_mmhg": int(base["diastolic_mmhg"] + rise * 0.6 + rng.randint(-3, 4)),
            "heart_rate_bpm": int(base["heart_rate_bpm"] + rng.randint(-3, 8)),
        }
        sessions.do_record_vitals(session, reading, at=at, acting_user=nurse)
        if k == 2 and rng.random() < 0.55:
            code = rng.choice(
                [
                    "drowsiness_dreamlike",
                    "drowsiness_dreamlike",
                    "visual_disturbance",
                    "nausea_vomiting",
                    "confusion",
                    "jerky_muscles",
                    "hypertension",
                ]
            )
            sessions.do_record_side_effect(
                session, code, rng.choice(["mild", "mild", "moderate"]), at=at, acting_user=nurse
            )
        if k == 4:
            if until < start + timedelta(minutes=40):
                return
            sessions.do_record_pump_event(
                session,
                "stop",
                rate_ml_per_h=None,
                at=start + timedelta(minutes=40),
                acting_user=s.crna,
            )
    if live:
        return
    baseline = intake.baseline_vitals(visit.patient)
    settled = {
        **baseline,
        "heart_rate_bpm": int(baseline["heart_rate_bpm"] or base["heart_rate_bpm"]) + rng.randint(-3, 5),
    }
    settled["respiratory_rate"] = settled.get("respiratory_rate") or 14
    settled["systolic_mmhg"] = int(settled["systolic_mmhg"] or base["systolic_mmhg"]) + rng.randint(-4, 6)
    sessions.do_record_vitals(session, settled, at=start + timedelta(minutes=120), acting_user=nurse)
    for alert in alerts.open_alerts(visit.patient).filter(kind="vital_sign"):
        alerts.do_acknowledge_alert(
            alert,
            note="Rechecked at the chair; settling toward baseline, patient comfortable.",
            at=start + timedelta(minutes=121),
            acting_user=s.crna,
        )
    _waste_residual(session, s, start + timedelta(minutes=125))
    sessions.do_discharge(
        session,
        padss=[2, 2, 2, 2, 2],
        dissociation_resolved=True,
        aftercare_given=True,
        aldrete=[2, 2, 2, 2, 2],
        escort_present=True,
        at=start + timedelta(minutes=130),
        acting_user=nurse,
    )
