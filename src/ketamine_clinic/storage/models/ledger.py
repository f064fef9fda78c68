"""The controlled-substance ledger: storage locations, lots with a running balance, and
append-only entries (receipt, draw, waste, count, adjustment, correction).

The database keeps the invariants a race could break: a lot's balance and every entry's
balance-after are never negative, waste always names a witness who is not the person
wasting, and an entry is corrected at most once. Entries are never updated or deleted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class StorageLocation(models.Model):
    name = models.CharField(max_length=80, unique=True)
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "kc_storage_location"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StockLot(models.Model):
    KINDS = [("ketamine_vial", "ketamine vial (IV)"), ("esketamine_device", "esketamine nasal device")]
    product_kind = models.CharField(max_length=20, choices=KINDS)
    product_name = models.CharField(max_length=120)
    ndc = models.CharField("NDC", max_length=20)
    concentration_mg_per_ml = models.DecimalField(max_digits=6, decimal_places=1, help_text="as base; 0 for devices")
    volume_ml = models.DecimalField(max_digits=6, decimal_places=1, help_text="per vial; 0 for devices")
    unit_mg = models.DecimalField(max_digits=8, decimal_places=1, help_text="mg of base per vial or device")
    lot_number = models.CharField(max_length=40)
    expiry = models.DateField()
    supplier = models.CharField(max_length=120)
    invoice_ref = models.CharField(max_length=60)
    order_form_ref = models.CharField(max_length=60, blank=True)
    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="lots")
    quantity_received = models.PositiveIntegerField()
    received_mg = models.DecimalField(max_digits=10, decimal_places=1)
    balance_mg = models.DecimalField(max_digits=10, decimal_places=1)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "kc_stock_lot"
        ordering = ["expiry", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_mg__gte=0), name="kc_lot_balance_not_negative"),
            models.CheckConstraint(condition=Q(unit_mg__gt=0), name="kc_lot_unit_positive"),
            models.UniqueConstraint(fields=["ndc", "lot_number"], name="kc_lot_ndc_lot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.product_name} lot {self.lot_number} (exp {self.expiry:%Y-%m-%d})"


class LedgerEntry(models.Model):
    KINDS = [
        ("receipt", "receipt"),
        ("draw", "draw"),
        ("waste", "waste"),
        ("count", "count"),
        ("adjustment", "adjustment"),
        ("correction", "correction"),
    ]
    lot = models.ForeignKey(StockLot, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=KINDS)
    mg = models.DecimalField(max_digits=10, decimal_places=1, help_text="the amount of the event")
    stock_delta_mg = models.DecimalField(max_digits=10, decimal_places=1, help_text="its effect on the balance")
    balance_after_mg = models.DecimalField(max_digits=10, decimal_places=1)
    at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    session = models.ForeignKey(
        "storage.InfusionSession", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    patient = models.ForeignKey("storage.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    count_kind = models.CharField(max_length=12, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    corrects = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="correction")

    class Meta:
        db_table = "kc_ledger_entry"
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after_mg__gte=0), name="kc_entry_balance_not_negative"),
            models.CheckConstraint(condition=Q(mg__gte=0), name="kc_entry_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(kind="waste") | (Q(witness__isnull=False) & ~Q(witness=F("recorded_by"))),
                name="kc_waste_has_a_second_witness",
            ),
            models.CheckConstraint(
                condition=~Q(kind="correction") | Q(corrects__isnull=False), name="kc_correction_links_its_entry"
            ),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: a recorded entry is never changed (a correction is a new entry)."""
        if not self._state.adding:
            raise RuntimeError("ledger entries are append-only; record a correction instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("ledger entries are append-only; record a correction instead")


class StockDiscrepancy(models.Model):
    STATUSES = [("open", "open"), ("resolved", "resolved")]
    lot = models.ForeignKey(StockLot, on_delete=models.PROTECT, related_name="discrepancies")
    count_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="discrepancy")
    expected_mg = models.DecimalField(max_digits=10, decimal_places=1)
    counted_mg = models.DecimalField(max_digits=10, decimal_places=1)
    raised_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=STATUSES, default="open")
    resolution = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    adjustment = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="resolves"
    )

    class Meta:
        db_table = "kc_stock_discrepancy"
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (Q(resolved_by__isnull=False) & ~Q(reason="") & ~Q(resolution="")),
                name="kc_discrepancy_resolved_with_reason",
            ),
        ]

    @property
    def difference_mg(self) -> Any:
        return self.counted_mg - self.expected_mg


class LedgerSettings(models.Model):
    """The clinic's ledger choices (one row): roles per action within scope of practice,
    the count times, and the registrant's details for DEA Form 106."""

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    roles = models.JSONField(default=dict, blank=True)
    count_times = models.JSONField(default=list, blank=True)
    registrant_name = models.CharField(max_length=120, blank=True)
    registrant_address = models.CharField(max_length=250, blank=True)
    dea_number = models.CharField("DEA registration number", max_length=20, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "kc_ledger_settings"
