"""The demo clinic loaded by ``make run``: staff in every role and sample patients.

Everything goes through the same services a clinic uses, so the audit trail of a demo
database verifies like a real one.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import User

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

_PATIENTS: tuple[tuple[str, str, str, date, str], ...] = (
    ("KC-1001", "Jordan", "Ellis", date(1984, 3, 12), "female"),
    ("KC-1002", "Marcus", "Bell", date(1976, 7, 2), "male"),
    ("KC-1003", "Aisha", "Karimi", date(1991, 11, 23), "female"),
    ("KC-1004", "Tomás", "Ortega", date(1969, 1, 30), "male"),
    ("KC-1005", "Grace", "Whitfield", date(2001, 5, 17), "female"),
)


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, password) for the demo accounts present in this database."""
    names = [row[0] for row in DEMO_STAFF]
    present = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    return [(u, role, DEMO_PASSWORD) for u, role, *_ in DEMO_STAFF if u in present]


def load_demo(at: datetime | None = None) -> bool:
    """Load the demo clinic unless it is there already. Returns whether it loaded."""
    at = at or timezone.now()
    if User.objects.filter(username=DEMO_STAFF[0][0]).exists():
        return False
    with transaction.atomic():
        users = {
            username: do_create_user(
                username,
                role,
                DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                credentials=cred,
                acting_user=None,
            )
            for username, role, first, last, cred in DEMO_STAFF
        }
        for mrn, given, family, born, sex in _PATIENTS:
            do_create_patient(
                mrn=mrn,
                given_name=given,
                family_name=family,
                birth_date=born,
                sex=sex,
                at=at,
                user=users["patient.jordan"] if mrn == "KC-1001" else None,
                acting_user=None,
            )
    return True
