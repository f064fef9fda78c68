"""Forms of the body-weight update and the esketamine REMS workflow."""

from __future__ import annotations

from django import forms

__all__ = [
    "RemsAnswersForm",
    "RemsCertificationForm",
    "RemsEnrolmentForm",
    "RemsOnSiteForm",
    "RemsSubmitForm",
    "WeightUpdateForm",
]


class WeightUpdateForm(forms.Form):
    VITALS = ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "spo2_percent", "respiratory_rate")

    weight = forms.DecimalField(label="Weight", min_value=1, max_value=600, decimal_places=1)
    weight_unit = forms.ChoiceField(label="Weight unit", choices=[("kg", "kg"), ("lb", "lb")], initial="kg")
    height_cm = forms.DecimalField(label="Height (cm)", min_value=100, max_value=230, decimal_places=1, required=False)
    confirm_weight = forms.BooleanField(
        required=False,
        label="I have re-checked this weight",
        help_text="Needed only when the weight is far from the previous one or the BMI is unusual.",
    )
    systolic_mmhg = forms.IntegerField(label="Systolic (mmHg)", min_value=50, max_value=260, required=False)
    diastolic_mmhg = forms.IntegerField(label="Diastolic (mmHg)", min_value=20, max_value=180, required=False)
    heart_rate_bpm = forms.IntegerField(label="Heart rate (/min)", min_value=20, max_value=220, required=False)
    spo2_percent = forms.IntegerField(label="SpO₂ (%)", min_value=50, max_value=100, required=False)
    respiratory_rate = forms.IntegerField(label="Resp. rate (/min)", min_value=4, max_value=60, required=False)


class RemsCertificationForm(forms.Form):
    certification_id = forms.CharField(max_length=40, label="REMS certification id")
    setting_name = forms.CharField(max_length=120, label="Healthcare setting name")
    authorized_representative = forms.CharField(max_length=120, label="Authorized representative")
    certified_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Certified on")


class RemsEnrolmentForm(forms.Form):
    rems_patient_id = forms.CharField(max_length=40, label="REMS patient id")
    enrolled_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Enrolled on")


class _PrescriberChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: object) -> str:
        return str(getattr(obj, "display_name", obj))


class RemsOnSiteForm(forms.Form):
    prescriber = _PrescriberChoice(queryset=None, required=False, label="Prescriber on site", empty_label="Choose")
    pulse_oximetry = forms.BooleanField(required=False, label="Pulse oximeter on the patient")
    lot_number = forms.CharField(required=False, max_length=40, label="Device lot number")
    lot_expiry = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Lot expiry")

    def __init__(self, *args: object, **kwargs: object) -> None:
        from ketamine_clinic.storage.models import User

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["prescriber"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role="prescriber", is_active=True
        ).order_by("last_name", "first_name")


YES_NO = [("yes", "Yes"), ("no", "No")]


class RemsAnswersForm(forms.Form):
    sedation = forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, label="Sedation")
    dissociation = forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, label="Dissociation")
    respiratory_depression = forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, label="Respiratory depression")
    ready_to_leave_min = forms.IntegerField(
        min_value=0,
        max_value=600,
        label="Ready to leave (minutes after the first device)",
        help_text="When the patient would have been ready to leave had there been no 2-hour minimum.",
    )
    serious_adverse_events = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Serious adverse events",
        help_text="Leave empty for none.",
    )


class RemsSubmitForm(forms.Form):
    reference = forms.CharField(
        max_length=60,
        label="Submission reference",
        help_text="The confirmation number of the online or fax submission.",
    )
