"""Forms: parse at the edge, then hand plain values to services."""

from __future__ import annotations

from django import forms

from ketamine_clinic.domain.policy import ROLES
from ketamine_clinic.services.clinic import IDLE_TIMEOUT_RANGE
from ketamine_clinic.storage.models import Chair, EventType
from ketamine_clinic.web.context import ROLE_LABELS

ROLE_CHOICES = [(r.value, ROLE_LABELS[r.value]) for r in ROLES]


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    credentials = forms.CharField(
        max_length=40, required=False, help_text="e.g. MD, PMHNP-BC, CRNA, RN"
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    password = forms.CharField(
        widget=forms.PasswordInput, min_length=10, help_text="At least 10 characters."
    )


class UserUpdateForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    is_active = forms.BooleanField(required=False, label="Active")


class ClinicSettingsForm(forms.Form):
    clinic_name = forms.CharField(max_length=120)
    idle_timeout_minutes = forms.IntegerField(
        min_value=IDLE_TIMEOUT_RANGE[0],
        max_value=IDLE_TIMEOUT_RANGE[1],
        help_text=f"Log out after this many minutes without activity "
        f"({IDLE_TIMEOUT_RANGE[0]}–{IDLE_TIMEOUT_RANGE[1]}).",
    )


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, label="User name")
    patient = forms.CharField(required=False, label="Patient MRN")
    event_type = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Any event")] + [(c.value, c.label) for c in EventType],
    )
    since = forms.DateTimeField(
        required=False, label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class RescheduleVisitForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 900}))
    chair = forms.ModelChoiceField(queryset=Chair.objects.filter(active=True).order_by("name"))
    reason = forms.CharField(
        min_length=3, max_length=200, help_text="Why the visit moves (3–200 characters)."
    )


class CancelVisitForm(forms.Form):
    reason = forms.CharField(
        min_length=3, max_length=200, help_text="Why the visit is cancelled (3–200 characters)."
    )
