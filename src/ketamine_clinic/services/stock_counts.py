"""Counts of controlled stock and the discrepancies they raise ([S80][S81]).

A count never changes a balance: a count further from the record than an opened vial's
estimate allows raises a discrepancy, and only a prescriber's resolution (with a reason)
adjusts the balance, through an adjustment entry. Both lock the lot row first.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from ketamine_clinic.domain import ledger as rules
from ketamine_clinic.domain.ledger import LedgerError
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import audit, clinic
from ketamine_clinic.services._ledger_common import count_kinds, invalid, lock_lot, require_ledger, text, write_entry
from ketamine_clinic.services.clinic import clinic_rules
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.storage.models import EventType, LedgerEntry, StockDiscrepancy, StockLot, User

__all__ = ["do_record_counts", "do_resolve_discrepancy", "open_discrepancy_count"]

ZERO = Decimal("0")


def open_discrepancy_count() -> int:
    """Count discrepancies no prescriber has resolved yet ([S80][S83]). Every staff page
    shows it on the ledger's menu item, so a server process reuses the count for a few
    seconds (``clinic.recent``): a discrepancy raised or resolved through this process is
    counted at once, through another within ``clinic.CACHE_SECONDS``."""
    return int(clinic.recent(_OPEN_KEY, lambda: StockDiscrepancy.objects.filter(status="open").count()))


_OPEN_KEY = "ledger:open_discrepancies"

clinic.forget_when_saved(_OPEN_KEY, StockDiscrepancy)


def do_record_counts(counts: dict[int, Any], *, count_kind: str, at: datetime, acting_user: User) -> list[LedgerEntry]:
    """Record a count of each lot in ``counts`` (lot id -> counted mg) in one transaction.
    A count further from the running balance than an opened vial's estimate allows (half the
    clinic's volume step; zero for devices) raises a discrepancy a prescriber must resolve
    ([S80][S81]); the balance itself changes only through that resolution."""
    require_ledger(acting_user, Action.COUNT_STOCK, "Your role may not count controlled substances.")
    if count_kind not in count_kinds():
        raise InvalidInput(f"count must be one of: {', '.join(count_kinds().values())}", field="count_kind")
    if not counts:
        raise InvalidInput("count at least one lot", field="counts")
    try:
        clean = {int(k): rules.mg(v, field=f"lot_{k}") for k, v in counts.items()}
    except LedgerError as exc:
        raise invalid(exc) from None
    for key, value in clean.items():
        if value < 0:
            raise InvalidInput("a count cannot be negative", field=f"lot_{key}")
    step = Decimal(str(clinic_rules().count_volume_step_ml))
    written = []
    with transaction.atomic():
        for lot in StockLot.objects.select_for_update().filter(pk__in=clean).order_by("pk"):
            counted = clean[lot.pk]
            entry = write_entry(lot, "count", counted, ZERO, at=at, by=acting_user, count_kind=count_kind)
            audit.record(
                EventType.STOCK_COUNTED,
                actor=acting_user,
                subject=entry,
                at=at,
                new={"lot": lot.lot_number, "kind": count_kind, "counted_mg": counted, "balance_mg": lot.balance_mg},
            )
            tolerance = rules.count_tolerance_mg(
                concentration_mg_per_ml=lot.concentration_mg_per_ml, volume_step_ml=step
            )
            if rules.is_discrepancy(expected_mg=lot.balance_mg, counted_mg=counted, tolerance_mg=tolerance):
                found = StockDiscrepancy.objects.create(
                    lot=lot, count_entry=entry, expected_mg=lot.balance_mg, counted_mg=counted, raised_at=at
                )
                audit.record(
                    EventType.STOCK_DISCREPANCY_RAISED,
                    actor=acting_user,
                    subject=found,
                    at=at,
                    new={"lot": lot.lot_number, "expected_mg": lot.balance_mg, "counted_mg": counted},
                )
            written.append(entry)
        if len(written) != len(clean):
            raise InvalidInput("a counted lot does not exist", field="counts")
    return written


def do_resolve_discrepancy(
    discrepancy: StockDiscrepancy, *, resolution: str, reason: str, at: datetime, acting_user: User
) -> StockDiscrepancy:
    """A prescriber resolves a count discrepancy with a reason ([S80][S82]). A recount that
    matched leaves the balance; a record error, loss or theft sets it to the count through an
    adjustment entry (loss and theft then need DEA Form 106: see the loss report)."""
    require_ledger(acting_user, Action.RESOLVE_DISCREPANCY, "Only a prescriber resolves a count discrepancy.")
    if resolution not in rules.RESOLUTIONS:
        raise InvalidInput("choose how the discrepancy was resolved", field="resolution")
    reason = text(reason, "reason", 10, 500)
    with transaction.atomic():
        found = StockDiscrepancy.objects.select_for_update().get(pk=discrepancy.pk)
        if found.status != "open":
            raise Conflict("This discrepancy is already resolved.", field="resolution")
        difference = found.counted_mg - found.expected_mg
        if resolution in rules.LOSS_RESOLUTIONS and difference > 0:
            raise InvalidInput("the count is above the record: that is not a loss", field="resolution")
        if resolution != "count_error":
            lot = lock_lot(found.lot)
            found.adjustment = write_entry(
                lot, "adjustment", abs(difference), difference, at=at, by=acting_user, reason=reason[:300]
            )
        found.status, found.resolution, found.reason = "resolved", resolution, reason
        found.resolved_by, found.resolved_at = acting_user, at
        found.save()
        audit.record(
            EventType.STOCK_DISCREPANCY_RESOLVED,
            actor=acting_user,
            subject=found,
            at=at,
            new={"resolution": resolution, "reason": reason, "difference_mg": difference},
        )
    return found
