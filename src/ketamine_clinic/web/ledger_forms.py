"""Forms of the controlled-substance ledger: parse at the edge, the services check the rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from ketamine_clinic.domain.ledger import LEDGER_ACTIONS, PRODUCTS, RESOLUTIONS
from ketamine_clinic.domain.policy import ROLES, can
from ketamine_clinic.storage.models import StockLot, StorageLocation, User
from ketamine_clinic.web.labels import ROLE_LABELS

_DATE = forms.DateInput(attrs={"type": "date"})


def lot_label(lot: StockLot) -> str:
    return f"{lot.lot_number} · exp {lot.expiry:%Y-%m-%d} · {lot.balance_mg} mg left"


class LotChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return lot_label(obj)


class ReceiveForm(forms.Form):
    product_kind = forms.ChoiceField(label="Product", choices=[(k, p.label) for k, p in PRODUCTS.items()])
    product_name = forms.CharField(max_length=120, help_text="As on the label, e.g. Ketamine HCl injection 50 mg/mL")
    ndc = forms.CharField(label="NDC", max_length=20, help_text="e.g. 0409-2051-05")
    concentration_mg_per_ml = forms.DecimalField(
        label="Strength (mg/mL as base)", required=False, min_value=0, max_digits=6, decimal_places=1,
        help_text="Vials only; devices are 28 mg each.",
    )  # fmt: skip
    volume_ml = forms.DecimalField(
        label="Volume per vial (mL)", required=False, min_value=0, max_digits=6, decimal_places=1
    )
    quantity = forms.IntegerField(label="Quantity (vials or devices)", min_value=1, max_value=1000)
    lot_number = forms.CharField(max_length=40)
    expiry = forms.DateField(widget=_DATE)
    supplier = forms.CharField(max_length=120)
    invoice_ref = forms.CharField(label="Invoice reference", max_length=60)
    order_form_ref = forms.CharField(
        label="Order form reference", max_length=60, required=False, help_text="CSOS or DEA-222 number, if any."
    )
    location = forms.ModelChoiceField(label="Storage location", queryset=StorageLocation.objects.none(), required=False)
    new_location = forms.CharField(
        label="…or a new storage location", max_length=80, required=False, help_text="e.g. Double-locked safe, room 2"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = StorageLocation.objects.filter(active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("location") and not (data.get("new_location") or "").strip():
            self.add_error("location", "choose a storage location or name a new one")
        return data


class DrawForm(forms.Form):
    lot = LotChoiceField(queryset=StockLot.objects.none(), empty_label=None)
    amount = forms.DecimalField(label="Amount drawn (mg)", min_value=Decimal("0.1"), max_digits=8, decimal_places=1)

    def __init__(self, *args: Any, lots: Any, devices: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots  # type: ignore[attr-defined]
        if devices:
            self.fields["amount"] = forms.IntegerField(label="Devices drawn (28 mg each)", min_value=1, max_value=6)


class WasteForm(forms.Form):
    lot = LotChoiceField(queryset=StockLot.objects.none(), empty_label=None)
    mg = forms.DecimalField(label="Amount wasted (mg)", min_value=Decimal("0.1"), max_digits=8, decimal_places=1)
    witness = forms.ModelChoiceField(label="Witness", queryset=User.objects.none())
    witness_password = forms.CharField(
        label="Witness's password",
        # never the browser's saved password of the person logged in
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="The witness types their own password.",
    )
    reason = forms.CharField(max_length=300, required=False, help_text="e.g. residual in the syringe")

    def __init__(self, *args: Any, lots: Any, witnesses: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = lots  # type: ignore[attr-defined]
        self.fields["witness"].queryset = witnesses  # type: ignore[attr-defined]
        self.fields["witness"].label_from_instance = lambda u: u.display_name  # type: ignore[attr-defined]


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=list(RESOLUTIONS.items()), widget=forms.RadioSelect)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), min_length=10, max_length=500,
        help_text="What was found and done (10–500 characters).",
    )  # fmt: skip


class CorrectForm(forms.Form):
    reason = forms.CharField(max_length=300, min_length=5, help_text="Why the entry is wrong (5–300 characters).")
    replacement_lot = LotChoiceField(
        queryset=StockLot.objects.none(),
        required=False,
        label="Record it on this lot instead",
        help_text="For a draw or waste put on the wrong lot; leave empty to only reverse the entry.",
    )

    def __init__(self, *args: Any, lots: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["replacement_lot"].queryset = lots  # type: ignore[attr-defined]


class DispensingFilterForm(forms.Form):
    since = forms.DateField(required=False, label="From", widget=_DATE)
    until = forms.DateField(required=False, label="Until", widget=_DATE)
    patient = forms.CharField(required=False, label="Patient MRN", max_length=20)
    lot = LotChoiceField(queryset=StockLot.objects.none(), required=False, empty_label="Any lot")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].queryset = StockLot.objects.order_by("-received_at")  # type: ignore[attr-defined]


class LedgerSettingsForm(forms.Form):
    count_times = forms.MultipleChoiceField(
        choices=[("opening", "Opening"), ("closing", "Closing"), ("shift", "Shift change")],
        widget=forms.CheckboxSelectMultiple,
        help_text="When the clinic counts its stock, besides the initial and biennial inventories.",
    )
    registrant_name = forms.CharField(max_length=120, required=False, label="Registrant (for DEA Form 106)")
    registrant_address = forms.CharField(max_length=250, required=False, label="Registrant address")
    dea_number = forms.CharField(max_length=20, required=False, label="DEA registration number")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for action in LEDGER_ACTIONS:
            allowed = [(r.value, ROLE_LABELS[r.value]) for r in ROLES if can(r, action)]
            self.fields[f"roles_{action.value}"] = forms.MultipleChoiceField(
                label=action.value.replace("_", " ").capitalize(),
                choices=allowed,
                widget=forms.CheckboxSelectMultiple,
            )
