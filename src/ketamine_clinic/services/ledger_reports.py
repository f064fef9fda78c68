"""Reading the controlled-substance ledger: balances, reconciliation and the reports
(dispensing log, inventory, DEA Form 106 draft). Reports that name patients are loaded
through ``access_*`` functions, which audit the read like a chart view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ketamine_clinic.domain import ledger as rules
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import NotFound
from ketamine_clinic.services.ledger import ledger_settings, session_ledger
from ketamine_clinic.storage.models import (
    EventType,
    InfusionSession,
    LedgerEntry,
    StockDiscrepancy,
    StockLot,
    User,
)

__all__ = [
    "DispensingRow",
    "LotCheck",
    "Reconciliation",
    "access_dispensing_log",
    "access_inventory",
    "access_loss_report",
    "finished_form",
    "lot_rows",
    "reconcile",
]

_ZERO = Decimal("0")


def stock_quantity(lot: StockLot, amount_mg: Decimal) -> str:
    """``amount_mg`` of ``lot`` as containers plus the opened volume ([S80])."""
    return rules.stock_quantity(
        amount_mg,
        unit_mg=lot.unit_mg,
        concentration_mg_per_ml=lot.concentration_mg_per_ml,
        unit=rules.PRODUCTS[lot.product_kind].unit,
    )


def finished_form(lot: StockLot) -> str:
    """The finished form as an inventory names it ([S80]): strength and container."""
    if lot.product_kind == "esketamine_device":
        return f"{lot.unit_mg} mg nasal spray device"
    return f"{lot.concentration_mg_per_ml} mg/mL, {lot.volume_ml} mL vial ({lot.unit_mg} mg)"


@dataclass
class LotCheck:
    lot: StockLot
    entries_mg: Decimal
    last_count: LedgerEntry | None
    open_discrepancies: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def units(self) -> Decimal:
        return rules.units_of(self.lot.balance_mg, self.lot.unit_mg)

    @property
    def quantity(self) -> str:
        return stock_quantity(self.lot, self.lot.balance_mg)


@dataclass
class Reconciliation:
    lots: list[LotCheck]
    untied_sessions: list[tuple[InfusionSession, rules.Tie]]

    @property
    def discrepancies(self) -> int:
        return sum(1 for c in self.lots if c.problems) + len(self.untied_sessions)


def lot_rows(*, include_empty: bool = False) -> list[LotCheck]:
    """Every lot with its running balance, last count and open discrepancies ([S81])."""
    lots = StockLot.objects.select_related("location").order_by("product_kind", "expiry", "id")
    if not include_empty:
        lots = lots.exclude(balance_mg=0)
    sums = dict(
        LedgerEntry.objects.values_list("lot").annotate(total=Sum("stock_delta_mg")).values_list("lot", "total")
    )
    counts: dict[int, LedgerEntry] = {}
    for entry in LedgerEntry.objects.filter(kind="count").order_by("at", "id"):
        counts[entry.lot_id] = entry
    open_by_lot: dict[int, int] = {}
    for lot_id in StockDiscrepancy.objects.filter(status="open").values_list("lot_id", flat=True):
        open_by_lot[lot_id] = open_by_lot.get(lot_id, 0) + 1
    tenth = Decimal("0.1")
    return [
        LotCheck(lot, Decimal(sums.get(lot.pk) or 0).quantize(tenth), counts.get(lot.pk), open_by_lot.get(lot.pk, 0))
        for lot in lots
    ]


def reconcile(on: date | None = None) -> Reconciliation:
    """Check every lot and every closed session ([S80][S81]):

    * the stored balance equals the sum of the lot's entries, and the last entry's
      balance-after equals it;
    * no count discrepancy is left open;
    * every discharged session of a product kept in the ledger has drawn = given + wasted.

    Expired stock still on hand is a note, not a discrepancy.
    """
    today = on or timezone.localdate()
    checks = lot_rows(include_empty=True)
    for check in checks:
        lot = check.lot
        if check.entries_mg != lot.balance_mg:
            check.problems.append(f"balance {lot.balance_mg} mg but its entries sum to {check.entries_mg} mg")
        last = LedgerEntry.objects.filter(lot=lot).order_by("-id").first()  # balance-after is in recording order
        if last is not None and last.balance_after_mg != lot.balance_mg:
            check.problems.append(f"the last entry says {last.balance_after_mg} mg, the lot {lot.balance_mg} mg")
        if check.open_discrepancies:
            check.problems.append(f"{check.open_discrepancies} count discrepancy(ies) not resolved")
        if lot.expiry < today and lot.balance_mg > 0:
            check.notes.append("expired stock on hand: quarantine it for destruction")
    untied = []
    kinds = set(StockLot.objects.values_list("product_kind", flat=True))
    routes = [r for r, k in (("iv", "ketamine_vial"), ("nasal", "esketamine_device")) if k in kinds]
    first = {
        kind: StockLot.objects.filter(product_kind=kind)
        .order_by("received_at")
        .values_list("received_at", flat=True)[0]
        for kind in kinds
    }
    closed = InfusionSession.objects.filter(status="discharged", order__route__in=routes).select_related("order")
    for session in closed.order_by("discharged_at"):
        kind = "ketamine_vial" if session.order.route == "iv" else "esketamine_device"
        if session.discharged_at and session.discharged_at < first[kind]:
            continue  # closed before the clinic kept this product in the ledger
        tie = session_ledger(session).tie
        if not tie.tied:
            untied.append((session, tie))
    return Reconciliation(checks, untied)


@dataclass(frozen=True)
class DispensingRow:
    entry: LedgerEntry
    units: Decimal
    signed_mg: Decimal

    @property
    def quantity(self) -> str:
        """Volume drawn or wasted (vials) or devices ([S81])."""
        lot = self.entry.lot
        unit = rules.PRODUCTS[lot.product_kind].unit
        text = rules.dispensed_quantity(
            self.entry.mg, unit_mg=lot.unit_mg, concentration_mg_per_ml=lot.concentration_mg_per_ml, unit=unit
        )
        return f"-{text}" if self.signed_mg < 0 else text


def _audit_read(actor: User, report: str, filters: dict[str, Any]) -> None:
    with transaction.atomic():
        audit.record(EventType.LEDGER_REPORT_VIEWED, actor=actor, new={"report": report, **filters})


def _may_read(actor: User) -> None:
    if not actor.is_active or not can(actor.role, Action.VIEW_LEDGER):
        raise NotFound("Not found.")


def access_dispensing_log(
    actor: User,
    *,
    since: date | None = None,
    until: date | None = None,
    patient_id: int | None = None,
    lot_id: int | None = None,
) -> list[DispensingRow]:
    """Every draw, waste and correction to them, by date, patient and lot: the dispenser's
    record of what was administered, to whom, by whom, witnessed by whom ([S81]). Audited."""
    _may_read(actor)
    rows = LedgerEntry.objects.filter(kind__in=["draw", "waste", "correction"], session__isnull=False)
    if since:
        rows = rows.filter(at__date__gte=since)
    if until:
        rows = rows.filter(at__date__lte=until)
    if patient_id:
        rows = rows.filter(patient_id=patient_id)
    if lot_id:
        rows = rows.filter(lot_id=lot_id)
    found = list(rows.select_related("lot", "patient", "recorded_by", "witness", "corrects").order_by("at", "id"))
    _audit_read(actor, "dispensing_log", {"since": since, "until": until, "patient": patient_id, "lot": lot_id})
    out = []
    for e in found:
        sign = Decimal("-1") if e.kind == "correction" else Decimal("1")
        out.append(DispensingRow(e, rules.units_of(e.mg, e.lot.unit_mg), sign * e.mg))
    return out


@dataclass(frozen=True)
class InventoryLine:
    lot: StockLot
    form: str
    counted_mg: Decimal
    units: Decimal
    at: datetime
    by: User

    @property
    def quantity(self) -> str:
        return stock_quantity(self.lot, self.counted_mg)


@dataclass(frozen=True)
class Inventory:
    kind: str
    taken_on: date | None
    timing: str
    lines: list[InventoryLine]
    next_due: date | None


def access_inventory(actor: User, *, kind: str = "biennial") -> Inventory:
    """The latest biennial inventory, or the clinic's first (initial) one: each lot's finished
    form and count, when it was taken (opening or close of business) and when the next is
    due ([S80]: 21 CFR 1304.11(b), (c)). Audited."""
    _may_read(actor)
    counts = LedgerEntry.objects.filter(kind="count", count_kind=kind)
    anchor = counts.order_by("at", "id").first() if kind == "initial" else counts.order_by("-at", "-id").first()
    lines: list[InventoryLine] = []
    taken_on, timing = None, ""
    if anchor is not None:
        taken_on = timezone.localdate(anchor.at)
        timing = "opening of business" if timezone.localtime(anchor.at).hour < 12 else "close of business"
        same_day = [e for e in counts.select_related("lot", "recorded_by") if timezone.localdate(e.at) == taken_on]
        for e in sorted(same_day, key=lambda e: (e.lot.product_kind, e.lot.expiry, e.lot_id)):
            units = rules.units_of(e.mg, e.lot.unit_mg)
            lines.append(InventoryLine(e.lot, finished_form(e.lot), e.mg, units, e.at, e.recorded_by))
    last_biennial = LedgerEntry.objects.filter(kind="count", count_kind="biennial").order_by("-at").first()
    first = StockLot.objects.order_by("received_at").values_list("received_at", flat=True).first()
    next_due = rules.biennial_due(
        timezone.localdate(last_biennial.at) if last_biennial else None, timezone.localdate(first) if first else None
    )
    _audit_read(actor, f"{kind}_inventory", {"taken_on": taken_on})
    return Inventory(kind, taken_on, timing, lines, next_due)


@dataclass(frozen=True)
class LossReport:
    discrepancy: StockDiscrepancy
    fields: list[tuple[str, str, str]]
    substances: list[dict[str, str]]


def access_loss_report(actor: User, discrepancy_id: int) -> LossReport:
    """A draft of DEA Form 106 for a discrepancy resolved as loss or theft ([S82]): the
    fields the ledger knows are filled, the others are left for the registrant. Audited."""
    _may_read(actor)
    found = StockDiscrepancy.objects.select_related("lot", "resolved_by").filter(pk=discrepancy_id).first()
    if found is None or found.resolution not in rules.LOSS_RESOLUTIONS:
        raise NotFound("Not found.")
    settings_row = ledger_settings()
    lost = -found.difference_mg
    known = {
        "registrant_name": settings_row.registrant_name,
        "registrant_address": settings_row.registrant_address,
        "dea_number": settings_row.dea_number,
        "date_of_loss": timezone.localdate(found.raised_at).isoformat(),
        "principal_business": "Practitioner (ketamine infusion clinic)",
        "losses_24_months": str(
            StockDiscrepancy.objects.filter(
                resolution__in=rules.LOSS_RESOLUTIONS, raised_at__gte=found.raised_at - timedelta(days=730)
            ).count()
        ),
        "type_of_loss": rules.RESOLUTIONS[found.resolution].split(":")[0] + f" ({found.reason})",
    }
    fields = [(key, label, known.get(key, "")) for key, label in rules.FORM_106_FIELDS]
    lot = found.lot
    substances = [
        {
            "trade_name": lot.product_name,
            "ndc": lot.ndc,
            "strength_form": finished_form(lot),
            "lot": lot.lot_number,
            "quantity_mg": str(lost),
            "quantity_units": rules.dispensed_quantity(
                lost,
                unit_mg=lot.unit_mg,
                concentration_mg_per_ml=lot.concentration_mg_per_ml,
                unit=rules.PRODUCTS[lot.product_kind].unit,
            ),
        }
    ]
    _audit_read(actor, "dea_form_106_draft", {"discrepancy": found.pk})
    return LossReport(found, fields, substances)
