"""Racing draws on PostgreSQL: threads with their own connections draw from one lot at
once; the row lock serialises them and the balance never goes below zero. A second race
skips the service's check and shows the database constraint refusing a negative balance."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from ketamine_clinic.services import ledger
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import InfusionSession, LedgerEntry, StockLot
from tests.conftest import MONDAY

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(work):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(work())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_racing_draws_never_drive_a_balance_negative(running_session, prescriber, nurse) -> None:
    location = ledger.do_add_location("Safe", acting_user=prescriber)
    lot = ledger.do_receive_stock(
        product_kind="ketamine_vial", product_name="Ketamine 50 mg/mL", ndc="0409-2051-05", lot_number="RACE",
        expiry=date(2027, 12, 31), quantity=1, supplier="Supplier", invoice_ref="INV", location=location,
        concentration_mg_per_ml=50, volume_ml=10, at=MONDAY - timedelta(days=1), acting_user=prescriber,
    )  # fmt: skip
    assert connection.vendor == "postgresql"

    def draw() -> str:
        session = InfusionSession.objects.get(pk=running_session.pk)
        ledger.do_draw_stock(session, StockLot.objects.get(pk=lot.pk), mg=150, at=MONDAY, acting_user=nurse)
        return "drawn"

    outcomes = _race(draw)
    assert outcomes.count("drawn") == 3, outcomes  # 3 x 150 mg of 500 mg
    assert outcomes.count(InvalidInput.__name__) == THREADS - 3, outcomes
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("50.0")
    balances = list(LedgerEntry.objects.filter(lot=lot, kind="draw").values_list("balance_after_mg", flat=True))
    assert sorted(balances, reverse=True) == [Decimal("350.0"), Decimal("200.0"), Decimal("50.0")]


def test_the_database_refuses_a_negative_balance_when_writers_skip_the_check(prescriber) -> None:
    location = ledger.do_add_location("Safe", acting_user=prescriber)
    lot = ledger.do_receive_stock(
        product_kind="ketamine_vial", product_name="Ketamine 50 mg/mL", ndc="0409-2051-05", lot_number="RACE2",
        expiry=date(2027, 12, 31), quantity=1, supplier="Supplier", invoice_ref="INV", location=location,
        concentration_mg_per_ml=50, volume_ml=10, at=MONDAY, acting_user=prescriber,
    )  # fmt: skip

    def blind_draw() -> str:
        with transaction.atomic():
            StockLot.objects.filter(pk=lot.pk).update(balance_mg=F("balance_mg") - 150)
        return "drawn"

    outcomes = _race(blind_draw)
    assert outcomes.count("drawn") == 3 and outcomes.count(IntegrityError.__name__) == THREADS - 3, outcomes
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("50.0")
