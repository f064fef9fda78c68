"""``kclinic ledger reconcile``: each lot's balance; exit 1 on any discrepancy."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    ledger = sub.add_parser("ledger", help="the controlled-substance ledger")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    reconcile = ledger_sub.add_parser(
        "reconcile", help="print each lot's balance; exit 1 on any discrepancy (balances, open counts, untied sessions)"
    )
    reconcile.set_defaults(func=_reconcile, needs_django=True)


def _reconcile(args: argparse.Namespace) -> int:
    from ketamine_clinic.services.ledger_reports import reconcile

    report = reconcile()
    print(f"{'lot':<12} {'product':<44} {'NDC':<14} {'expiry':<10} {'balance mg':>11}  {'on hand':<22}  status")
    for check in report.lots:
        lot = check.lot
        status = "; ".join(check.problems) or "ok"
        if check.notes:
            status += " (" + "; ".join(check.notes) + ")"
        print(
            f"{lot.lot_number:<12} {lot.product_name[:44]:<44} {lot.ndc:<14} {lot.expiry:%Y-%m-%d} "
            f"{lot.balance_mg:>11}  {check.quantity:<22}  {status}"
        )
    for session, tie in report.untied_sessions:
        print(f"session #{session.pk} ({session.patient.mrn}): {tie.message()}")
    if not report.lots:
        print("No lots received yet.")
    print(f"{report.discrepancies} discrepancies across {len(report.lots)} lots.")
    return 1 if report.discrepancies else 0
