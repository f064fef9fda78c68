"""A multi-year clinic network for the scale benchmarks: ``kclinic demo --patients N``.

The demo clinic (``clinic``) goes through the services one write at a time, which is right
for forty patients and far too slow for ten thousand. This module writes the same kinds of
rows in bulk, shaped like the services write them: patients registered over ``years`` years,
intake and eligibility, one IV course each (six induction infusions, then maintenance
boosters every 3-5 weeks for responders until they stop, a referral for non-responders),
every past session with its order, checklist, pump start and stop, ten vital-sign readings,
side effects and discharge, a PHQ-9 before every visit, vital-sign alerts acknowledged at
the chair, and the audit rows real use would have written (chart views included). Today's
and future visits are booked, so the front desk's week and the Today dashboard carry the
network's load.

Rows are plain dicts inserted with COPY on PostgreSQL (executemany on SQLite); ids are
reserved up front, so the generator must not run while the clinic is in use. The audit rows
are sealed by ``services.audit.seal_history`` (the same hash, MAC and subject digest as
``record``, lane 1) and inserted in the same transaction as the rows they describe, so
``kclinic audit verify`` checks the whole network. Generation is seeded.

Not generated for network patients: the controlled-substance ledger's draws and wastes,
suicide-risk pathways, nasal courses, amendments (the demo clinic has each).
See docs/decisions/0030-scale-network-generator.md.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from ketamine_clinic.domain.chairside import CHECKLIST
from ketamine_clinic.domain.instruments import score
from ketamine_clinic.services import audit, schedule
from ketamine_clinic.storage.models import (
    Alert,
    Assessment,
    AuditEvent,
    Chair,
    Course,
    CourseDecision,
    EligibilityDecision,
    EventType,
    InfusionSession,
    Intake,
    Order,
    Patient,
    PumpEvent,
    SideEffect,
    User,
    Visit,
    VitalSign,
)

__all__ = ["NETWORK_CHAIRS", "NetworkReport", "load_network"]

#: Chairs across the network's sites; four infusion slots a day each.
NETWORK_CHAIRS = 40
SLOTS = (time(8, 0), time(10, 30), time(13, 0), time(15, 30))
INDUCTION_DAYS = (0, 2, 4, 7, 9, 11)
CHUNK = 500  # patients per transaction
DOSE_MG_PER_KG = Decimal("0.50")
_EFFECTS = ("drowsiness_dreamlike", "drowsiness_dreamlike", "visual_disturbance", "nausea_vomiting", "confusion")
_DISCHARGE = {
    "aldrete": [2] * 5,
    "padss": [2] * 5,
    "escort_present": True,
    "dissociation_resolved": True,
    "aftercare_given": True,
    "reasons": [],
}


@dataclass(frozen=True)
class NetworkReport:
    patients: int
    courses: int
    visits: int
    sessions: int
    vitals: int
    assessments: int
    audit_rows: int


Row = dict[str, Any]


class _Table:
    """Rows of one model as ``{attname: value}``, ids reserved from the table's maximum."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        # every column the caller leaves out gets what Django would save (a new column added
        # later, e.g. a blank CharField, needs no change here)
        self.defaults = {f.attname: f.get_default() for f in self.fields if not f.primary_key}
        self.rows: list[Row] = []
        self.next_id = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1

    def add(self, **values: Any) -> Row:
        row = {**self.defaults, **values, "id": self.next_id}
        self.next_id += 1
        self.rows.append(row)
        return row

    def digest(self, row: Row) -> str:
        return audit.values_digest(self.model, row)

    def write(self) -> None:
        if not self.rows:
            return
        table = self.model._meta.db_table
        names = [f.attname for f in self.fields]
        columns = [f.column for f in self.fields]
        adapt = [_adapter(f) for f in self.fields]
        values = ([a(row.get(n)) for a, n in zip(adapt, names, strict=True)] for row in self.rows)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                quoted = ", ".join(f'"{c}"' for c in columns)
                with cursor.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for record in values:
                        copy.write_row(record)
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM \"{table}\"))", [table]
                )
            else:
                marks = ", ".join(["%s"] * len(columns))
                quoted = ", ".join(f'"{c}"' for c in columns)
                cursor.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', list(values))
        self.rows = []


def _adapter(f: models.Field[Any, Any]) -> Any:
    if isinstance(f, models.JSONField):
        return lambda v: None if v is None else json.dumps(v)
    if connection.vendor != "postgresql":
        if isinstance(f, models.DateTimeField):
            return lambda v: None if v is None else connection.ops.adapt_datetimefield_value(v)
        if isinstance(f, models.DateField):
            return lambda v: None if v is None else v.isoformat()
        if isinstance(f, models.DecimalField):
            return lambda v: None if v is None else str(v)
    return lambda v: v


@dataclass
class _Staff:
    prescribers: list[User]
    crna: User
    rn: User
    desk: User


class _Calendar:
    """Chair slots per day: every visit gets a free chair, bumped to the next open day."""

    def __init__(self, chairs: list[Chair]) -> None:
        self.chairs = [c.pk for c in chairs]
        self.used: dict[date, int] = {}

    def book(self, day: date, tz: Any) -> tuple[datetime, int]:
        capacity = len(self.chairs) * len(SLOTS)
        while day.weekday() == 6 or self.used.get(day, 0) >= capacity:
            day += timedelta(days=1)
        n = self.used.get(day, 0)
        self.used[day] = n + 1
        return datetime.combine(day, SLOTS[n // len(self.chairs)], tzinfo=tz), self.chairs[n % len(self.chairs)]


def _ensure_chairs() -> list[Chair]:
    names = [f"Network {n:02d}" for n in range(1, NETWORK_CHAIRS + 1)]
    present = set(Chair.objects.filter(name__in=names).values_list("name", flat=True))
    for name in names:
        if name not in present:
            schedule.do_create_chair(name, acting_user=None)
    return list(Chair.objects.filter(name__in=names).order_by("name"))


def _staff() -> _Staff:
    def one(role: str) -> User:
        user = User.objects.filter(role=role, is_active=True).order_by("id").first()
        if user is None:
            raise RuntimeError(f"the network needs a {role} account: load the demo clinic first")
        return user

    prescribers = list(User.objects.filter(role="prescriber", is_active=True).order_by("id"))
    return _Staff(prescribers or [one("prescriber")], one("crna"), one("rn"), one("front_desk"))


def load_network(patients: int, *, at: datetime | None = None, years: int = 3, seed: int = 18) -> NetworkReport:
    """Grow the network to ``patients`` patients (``KN-`` MRNs) with ``years`` of history up
    to ``at`` (now); patients already there are kept, so running it twice adds nothing."""
    now = at or timezone.now()
    rng = random.Random(seed)
    staff = _staff()
    calendar = _Calendar(_ensure_chairs())
    first = Patient.objects.filter(mrn__startswith="KN-").count()
    totals: dict[str, int] = {}
    for start in range(first, patients, CHUNK):
        with transaction.atomic():
            writer = _Writer(rng, now, staff, calendar)
            for n in range(start, min(patients, start + CHUNK)):
                writer.patient(n, years)
            for key, value in writer.write().items():
                totals[key] = totals.get(key, 0) + value
    if connection.vendor == "postgresql" and totals:
        # planner statistics for the bulk-loaded tables now, not whenever autovacuum gets to
        # them: until then PostgreSQL plans for a handful of rows (e.g. 9 maintenance courses
        # for 2,000) and picks sequential scans. VACUUM also sets the visibility map, as
        # autovacuum would, so index-only scans (the partial indexes of the Today board) do
        # not visit the table; it cannot run inside a transaction (a test's), ANALYZE can.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
    return NetworkReport(
        max(0, patients - first),
        totals.get("courses", 0),
        totals.get("visits", 0),
        totals.get("sessions", 0),
        totals.get("vitals", 0),
        totals.get("assessments", 0),
        totals.get("audit", 0),
    )


def _phq9(total: int, rng: random.Random) -> list[int]:
    items = [0] * 9
    remaining = max(0, min(total, 24))
    while remaining > 0:
        k = rng.randrange(8)  # item 9 stays 0: the suicide-risk pathway is the demo clinic's
        if items[k] < 3:
            items[k] += 1
            remaining -= 1
    return items


@dataclass
class _Person:
    row: Row
    registered: datetime
    baseline: int
    weight: Decimal
    responder: bool
    stops_at: datetime | None
    prescriber: User
    done: list[tuple[Row, int]] = field(default_factory=list)


class _Writer:
    """One chunk of patients: rows built in memory, then written table by table."""

    def __init__(self, rng: random.Random, now: datetime, staff: _Staff, calendar: _Calendar) -> None:
        self.rng, self.now, self.staff, self.calendar = rng, now, staff, calendar
        self.tz = timezone.get_current_timezone()
        self.t: dict[type[models.Model], _Table] = {
            m: _Table(m)
            for m in (
                Patient,
                Intake,
                EligibilityDecision,
                Course,
                CourseDecision,
                Visit,
                Order,
                InfusionSession,
                Assessment,
                VitalSign,
                PumpEvent,
                SideEffect,
                Alert,
            )
        }
        self.audit = _Table(AuditEvent)
        self.events: list[Row] = []

    def event(
        self,
        kind: EventType,
        at: datetime,
        actor: User | None,
        patient_id: int,
        model: type[models.Model],
        subject: Row,
        new: dict[str, Any] | None = None,
    ) -> None:
        watched = model in audit.WATCHED.values()
        self.events.append(
            {
                "occurred_at": at,
                "event_type": int(kind),
                "actor_id": actor.pk if actor else None,
                "actor_label": f"{actor.username} ({actor.role})" if actor else "system",
                "patient_id": patient_id,
                "subject_type": model.__name__,
                "subject_id": str(subject["id"]),
                "old_values": {},
                "new_values": new or {},
                "subject_digest": self.t[model].digest(subject) if watched else "",
            }
        )

    def assessment(self, patient_id: int, total: int, at: datetime, visit_id: int | None) -> None:
        answers = _phq9(total, self.rng)
        result = score("phq9", answers)
        row = self.t[Assessment].add(
            patient_id=patient_id,
            visit_id=visit_id,
            session_id=None,
            instrument="phq9",
            answers=answers,
            total=result.total,
            band=result.band,
            flags=list(result.flags),
            at=at,
            recorded_by_id=self.staff.rn.pk,
        )
        self.event(EventType.ASSESSMENT_RECORDED, at, self.staff.rn, patient_id, Assessment, row)

    # -- one patient's history ------------------------------------------------------------
    def patient(self, n: int, years: int) -> None:
        from ketamine_clinic.demo.clinic import FAMILY, GIVEN

        rng, s = self.rng, self.staff
        # a steady inflow, plus a few in the last three weeks so every stage is there at any size
        recent = n % 25 == 0
        registered = self.now - timedelta(days=rng.uniform(1, 21 if recent else years * 365))
        row = self.t[Patient].add(
            mrn=f"KN-{n + 1:06d}",
            given_name=GIVEN[n % len(GIVEN)],
            family_name=FAMILY[(n // len(GIVEN)) % len(FAMILY)],
            birth_date=date(self.now.year - rng.randint(22, 70), rng.randint(1, 12), rng.randint(1, 28)),
            sex=rng.choice(("female", "male")),
            phone=f"555-2{n % 10000:04d}",
            email="",
            user_id=None,
            created_at=registered,
        )
        pid = row["id"]
        self.event(EventType.PATIENT_CREATED, registered, s.desk, pid, Patient, row, {"mrn": row["mrn"]})
        person = _Person(
            row,
            registered,
            rng.randint(15, 25),
            Decimal(str(round(rng.uniform(50, 110), 1))),
            rng.random() < 0.6,
            registered + timedelta(days=rng.expovariate(1 / 300)) if rng.random() < 0.85 else None,
            rng.choice(s.prescribers),
        )
        eligible = recent or rng.random() > 0.07
        at = registered + timedelta(days=1)
        self.assessment(pid, person.baseline, at, None)
        intake = self.t[Intake].add(
            patient_id=pid,
            recorded_by_id=s.rn.pk,
            recorded_at=at,
            diagnoses=["trd"],
            failed_trials=[{"drug": d, "weeks": 8, "adequate": True} for d in ("sertraline", "bupropion")],
            contraindications={} if eligible else {"psychosis_active": True},
            weight_kg=person.weight,
            height_cm=Decimal(rng.randint(155, 192)),
            systolic_mmhg=rng.randint(108, 134),
            diastolic_mmhg=rng.randint(66, 84),
            heart_rate_bpm=rng.randint(60, 86),
            spo2_percent=rng.randint(96, 99),
            respiratory_rate=rng.randint(12, 16),
            pregnant=False,
            consent_given=True,
            screen_status="eligible" if eligible else "not_eligible",
            screen_reasons=[] if eligible else ["active psychosis"],
        )
        self.event(EventType.INTAKE_RECORDED, at, s.rn, pid, Intake, intake)
        decided = at + timedelta(hours=20)
        decision = self.t[EligibilityDecision].add(
            patient_id=pid,
            intake_id=intake["id"],
            decision=intake["screen_status"],
            note="",
            decided_by_id=person.prescriber.pk,
            decided_at=decided,
        )
        new = {"decision": decision["decision"], "screen": intake["screen_status"], "note": ""}
        self.event(EventType.ELIGIBILITY_DECIDED, decided, person.prescriber, pid, EligibilityDecision, decision, new)
        if eligible:
            self.course(person)

    def course(self, p: _Person) -> None:
        planned = p.registered + timedelta(days=2)
        course = self.t[Course].add(
            patient_id=p.row["id"],
            protocol="iv_racemic_depression",
            status="induction",
            dose_mg_per_kg=DOSE_MG_PER_KG,
            baseline_instrument="phq9",
            baseline_score=p.baseline,
            planned_by_id=p.prescriber.pk,
            planned_at=planned,
        )
        new = {"protocol": course["protocol"], "baseline": p.baseline}
        self.event(EventType.COURSE_PLANNED, planned, p.prescriber, p.row["id"], Course, course, new)
        course["status"] = self.visits(p, course)

    def visits(self, p: _Person, course: Row) -> str:
        """Six induction visits, the decision, then boosters while the patient stays; past
        visits are done (with a session), the next one is booked. Returns the course status."""
        start = timezone.localdate(course["planned_at"]) + timedelta(days=1)
        number = 0
        for offset in INDUCTION_DAYS:
            number += 1
            if not self.visit(p, course, start + timedelta(days=offset), number, "induction"):
                return "induction"
        decided = self.t[Visit].rows[-1]["starts_at"] + timedelta(days=1)
        if decided > self.now:
            return "induction"  # decision due: every induction visit done, no decision yet
        decision = "maintenance" if p.responder else "refer"
        weeks = self.rng.randint(3, 5)
        row = self.t[CourseDecision].add(
            course_id=course["id"],
            suggested=decision,
            suggested_reasons=[],
            decision=decision,
            override_reason="",
            next_visit_weeks=weeks if p.responder else None,
            decided_by_id=p.prescriber.pk,
            decided_at=decided,
        )
        new = {"decision": decision, "suggested": decision, "reason": ""}
        self.event(EventType.INDUCTION_DECIDED, decided, p.prescriber, p.row["id"], CourseDecision, row, new)
        if not p.responder:
            return "referred"
        day = timezone.localdate(decided) + timedelta(weeks=weeks)
        while True:
            if p.stops_at is not None and datetime.combine(day, time.min, tzinfo=self.tz) > p.stops_at:
                return "completed"
            number += 1
            if not self.visit(p, course, day, number, "maintenance"):
                return "maintenance"
            day += timedelta(weeks=weeks)

    def visit(self, p: _Person, course: Row, day: date, number: int, phase: str) -> bool:
        """Book one visit; a past one gets its session. Returns whether it was in the past."""
        starts, chair = self.calendar.book(day, self.tz)
        done = timezone.localdate(starts) < timezone.localdate(self.now)
        visit = self.t[Visit].add(
            course_id=course["id"],
            patient_id=p.row["id"],
            number=number,
            phase=phase,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=150),
            chair_id=chair,
            staff_id=None,
            status="done" if done else "scheduled",
            cancel_reason="",
        )
        if done:
            self.session(p, visit, number)
        return done

    def session(self, p: _Person, visit: Row, n: int) -> None:
        rng, s, pid, t0 = self.rng, self.staff, p.row["id"], visit["starts_at"]
        # the chair-side team opens the chart, the patient answers the PHQ-9, the order is ready
        self.event(
            EventType.CHART_VIEWED, t0 - timedelta(minutes=25), s.rn, pid, Patient, p.row, {"page": "patient-chart"}
        )
        drop = (0.1 if p.responder else 0.025) * min(n, 8)
        self.assessment(
            pid, max(2, round(p.baseline * (1 - drop * rng.uniform(0.8, 1.2)))), t0 - timedelta(minutes=20), visit["id"]
        )
        dose = (p.weight * DOSE_MG_PER_KG).quantize(Decimal("0.1"))
        rate = (dose * Decimal("1.5")).quantize(Decimal("0.1"))
        order = self.t[Order].add(
            visit_id=visit["id"],
            patient_id=pid,
            weight_kg=p.weight,
            dose_mg_per_kg=DOSE_MG_PER_KG,
            dose_mg=dose,
            duration_min=40,
            concentration_mg_per_ml=Decimal("1.00"),
            volume_ml=dose,
            rate_ml_per_h=rate,
            titration_note="",
            route="iv",
            devices=None,
            signed_by_id=p.prescriber.pk,
            signed_at=t0 - timedelta(hours=21),
            verified_by_id=s.rn.pk,
            verified_at=t0 - timedelta(hours=20),
            cancelled_reason="",
        )
        self.event(EventType.ORDER_SIGNED, order["signed_at"], p.prescriber, pid, Order, order, {"dose_mg": str(dose)})
        self.event(EventType.ORDER_VERIFIED, order["verified_at"], s.rn, pid, Order, order)
        start = t0 + timedelta(minutes=5)
        session = self.t[InfusionSession].add(
            visit_id=visit["id"],
            order_id=order["id"],
            patient_id=pid,
            status="discharged",
            checklist={name: True for name, _ in CHECKLIST},
            checklist_by_id=s.rn.pk,
            opened_at=t0,
            started_at=start,
            stopped_at=start + timedelta(minutes=40),
            discharged_at=t0 + timedelta(minutes=135),
            discharged_by_id=s.rn.pk,
            discharge=_DISCHARGE,
            administered_mg=dose,
            close_reason="",
            closed_at=None,
        )
        self.event(EventType.SESSION_OPENED, t0, s.rn, pid, InfusionSession, session)
        checked = t0 + timedelta(minutes=2)
        self.event(EventType.CHECKLIST_COMPLETED, checked, s.rn, pid, InfusionSession, session, session["checklist"])
        self.entries(pid, session, rate)
        discharged = session["discharged_at"]
        self.event(EventType.DISCHARGED, discharged, s.rn, pid, InfusionSession, session, _DISCHARGE)

    def entry(self, model: type[models.Model], session: Row, at: datetime, by: User, **values: Any) -> Row:
        return self.t[model].add(
            session_id=session["id"],
            at=at,
            recorded_by_id=by.pk,
            recorded_at=at,
            amends_id=None,
            amend_reason="",
            **values,
        )

    def entries(self, pid: int, session: Row, rate: Decimal) -> None:
        rng, s, t0 = self.rng, self.staff, session["opened_at"]
        base = (rng.randint(112, 130), rng.randint(68, 80), rng.randint(62, 82), rng.randint(96, 99))
        start = session["started_at"]
        times = [t0 + timedelta(minutes=2)] + [start + timedelta(minutes=10 * k) for k in range(1, 9)]
        times.append(start + timedelta(minutes=120))
        spike = rng.random() < 0.03
        self.pump(pid, session, "start", start, rate)
        for k, at in enumerate(times):
            rise = 0.0 if k in (0, 9) else (16 * min(k, 4) / 4 if k <= 4 else 16 * max(0, 8 - k) / 4)
            values = {
                "systolic_mmhg": int(base[0] + rise + rng.randint(-4, 6)) + (50 if spike and k == 3 else 0),
                "diastolic_mmhg": int(base[1] + rise * 0.6 + rng.randint(-3, 4)),
                "heart_rate_bpm": base[2] + rng.randint(-3, 8),
                "spo2_percent": base[3],
                "respiratory_rate": 14,
            }
            message = f"Systolic {values['systolic_mmhg']} mmHg: pause the infusion and recheck"
            found = [{"vital": "systolic_mmhg", "severity": "pause", "message": message}] if spike and k == 3 else []
            vital = self.entry(VitalSign, session, at, s.rn, alerts=found, **values)
            self.event(EventType.VITALS_RECORDED, at, s.rn, pid, VitalSign, vital, {**values, "amends": None})
            if found:
                self.vital_alert(pid, vital, message)
            if k == 4:
                self.pump(pid, session, "stop", start + timedelta(minutes=40), Decimal(0))
            if k == 2 and rng.random() < 0.45:
                code, severity = rng.choice(_EFFECTS), rng.choice(("mild", "mild", "moderate"))
                effect = self.entry(SideEffect, session, at, s.rn, code=code, severity=severity, note="")
                new = {"code": code, "severity": severity, "note": ""}
                self.event(EventType.SIDE_EFFECT_RECORDED, at, s.rn, pid, SideEffect, effect, new)

    def pump(self, pid: int, session: Row, kind: str, at: datetime, rate: Decimal) -> None:
        row = self.entry(PumpEvent, session, at, self.staff.crna, kind=kind, rate_ml_per_h=rate)
        new = {"kind": kind, "rate_ml_per_h": str(rate)}
        self.event(EventType.PUMP_EVENT, at, self.staff.crna, pid, PumpEvent, row, new)

    def vital_alert(self, pid: int, vital: Row, message: str) -> None:
        at, s = vital["at"], self.staff
        found = {"at": at.isoformat(), "severity": "pause", "message": message, "source": "S30"}
        note = "Rechecked at the chair; settling, patient comfortable."
        alert = self.t[Alert].add(
            patient_id=pid,
            kind="vital_sign",
            severity="pause",
            message=message,
            source="S30",
            assessment_id=None,
            vital_id=vital["id"],
            raised_at=at,
            acknowledged_by_id=s.crna.pk,
            acknowledged_at=at + timedelta(minutes=6),
            acknowledgement=note,
            findings=[found],
            ack_deadline_at=None,
            claimed_by_id=None,
            claimed_at=None,
            escalated_at=None,
        )
        new = {"kind": "vital_sign", "severity": "pause", "message": message}
        self.event(EventType.ALERT_RAISED, at, s.rn, pid, Alert, alert, new)
        self.event(EventType.ALERT_ACKNOWLEDGED, alert["acknowledged_at"], s.crna, pid, Alert, alert, {"note": note})

    def write(self) -> dict[str, int]:
        counts = {
            "courses": len(self.t[Course].rows),
            "visits": len(self.t[Visit].rows),
            "sessions": len(self.t[InfusionSession].rows),
            "vitals": len(self.t[VitalSign].rows),
            "assessments": len(self.t[Assessment].rows),
            "audit": len(self.events),
        }
        for table in self.t.values():  # dependency order
            table.write()
        self.events.sort(key=lambda e: e["occurred_at"])
        audit.seal_history(self.events)
        for event in self.events:
            self.audit.add(**event)
        self.audit.write()
        return counts
