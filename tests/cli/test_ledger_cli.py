"""``kclinic ledger reconcile`` on the demo clinic and on a broken ledger."""

from __future__ import annotations

from decimal import Decimal

from ketamine_clinic.cli.main import main
from ketamine_clinic.demo import load_demo
from ketamine_clinic.services import ledger
from ketamine_clinic.services.ledger_reports import reconcile
from ketamine_clinic.storage.models import InfusionSession, LedgerEntry, StockDiscrepancy, StockLot


def test_every_demo_session_ties_to_a_lot_and_the_demo_reconciles(db, capsys) -> None:
    assert load_demo() is True
    sessions = InfusionSession.objects.all()
    assert sessions.filter(status="discharged").count() > 100
    for session in sessions:
        summary = ledger.session_ledger(session)
        assert summary.tie.drawn_mg > 0, session.pk  # every dose (even one still running) comes from a lot
        if session.status == "discharged":
            assert summary.tie.tied, (session.pk, summary.tie.message())
    assert LedgerEntry.objects.filter(kind="waste").count() > 10
    assert LedgerEntry.objects.filter(kind="draw", lot__product_kind="esketamine_device").exists()
    assert StockDiscrepancy.objects.filter(status="resolved", resolution="loss").count() == 1
    report = reconcile()
    assert report.discrepancies == 0, ([(c.lot.lot_number, c.problems) for c in report.lots], report.untied_sessions)
    assert main(["ledger", "reconcile"]) == 0
    out = capsys.readouterr().out
    assert "0 discrepancies across 3 lots." in out and "HK5187" in out
    assert "expired stock on hand" in out  # the older lot: a note, not a discrepancy


def test_reconcile_exits_1_naming_the_lot_when_a_balance_is_wrong(db, prescriber, capsys) -> None:
    from tests.services.test_ledger import receive

    lot = receive(prescriber)
    assert main(["ledger", "reconcile"]) == 0
    StockLot.objects.filter(pk=lot.pk).update(balance_mg=Decimal("1999.0"))
    assert main(["ledger", "reconcile"]) == 1
    out = capsys.readouterr().out
    assert "K-100" in out and "entries sum to 2000.0 mg" in out and "1 discrepancies across 1 lots." in out
