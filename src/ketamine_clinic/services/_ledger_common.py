"""Helpers shared by the ledger's services: the clinic's ledger settings, who may act, and
the one place that writes an entry and the lot's new balance (under the caller's row lock)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models.signals import post_save
from django.utils import timezone

from ketamine_clinic.domain import ledger as rules
from ketamine_clinic.domain.ledger import LedgerError
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import clinic
from ketamine_clinic.services._common import require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import LedgerEntry, LedgerSettings, StockLot, User

__all__ = [
    "allowed_roles",
    "count_kinds",
    "invalid",
    "ledger_settings",
    "lock_lot",
    "may",
    "require_ledger",
    "text",
    "write_entry",
]

ZERO = Decimal("0")


def ledger_settings() -> LedgerSettings:
    """The ledger's settings row, read once per request (``clinic.per_request``)."""
    return clinic.per_request("ledger", lambda: LedgerSettings.objects.filter(singleton=1).first() or LedgerSettings())


post_save.connect(clinic.forget_cached, sender=LedgerSettings, dispatch_uid="kc_ledger_settings_forget")


def allowed_roles(action: Action) -> tuple[str, ...]:
    """The roles the clinic lets perform a ledger ``action`` (default: all scope allows)."""
    configured = ledger_settings().roles or {}
    return tuple(configured.get(action.value, rules.DEFAULT_LEDGER_ROLES[action.value]))


def may(user: User, action: Action) -> bool:
    """Whether ``user`` may perform ledger ``action``: scope of practice and the clinic's choice."""
    return bool(user.is_active and can(user.role, action) and user.role in allowed_roles(action))


def require_ledger(user: User, action: Action, message: str) -> None:
    require(user, action, message)
    if user.role not in allowed_roles(action):
        raise NotAllowed(message + " (the clinic's ledger settings)")


def count_kinds() -> dict[str, str]:
    """The count kinds the clinic uses: its chosen times plus the initial and biennial inventories."""
    times = ledger_settings().count_times or list(rules.DEFAULT_COUNT_TIMES)
    return {k: rules.COUNT_KINDS[k] for k in [*times, "initial", "biennial"] if k in rules.COUNT_KINDS}


def invalid(exc: LedgerError) -> InvalidInput:
    return InvalidInput(str(exc), field=exc.field)


def text(value: str, field: str, low: int, high: int) -> str:
    value = (value or "").strip()
    if not low <= len(value) <= high:
        raise InvalidInput(f"{field.replace('_', ' ')} must be {low} to {high} characters", field=field)
    return value


def write_entry(
    lot: StockLot, kind: str, amount: Decimal, delta: Decimal, *, at: datetime, by: User, **kw: Any
) -> LedgerEntry:
    """Write one entry and the lot's new balance; the caller holds the lot's row lock."""
    lot.balance_mg = lot.balance_mg + delta
    if lot.balance_mg < 0:
        raise Conflict(f"This would leave lot {lot.lot_number} below zero.", field="mg")
    lot.save(update_fields=["balance_mg"])
    return LedgerEntry.objects.create(
        lot=lot,
        kind=kind,
        mg=amount,
        stock_delta_mg=delta,
        balance_after_mg=lot.balance_mg,
        at=at,
        recorded_by=by,
        recorded_at=timezone.now(),
        **kw,
    )


def lock_lot(lot: StockLot) -> StockLot:
    return StockLot.objects.select_for_update().get(pk=lot.pk)
