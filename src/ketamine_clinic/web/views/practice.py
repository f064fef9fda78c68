"""The admin's page for what superbills print and when patients are reminded."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketamine_clinic.domain.policy import Action, Role
from ketamine_clinic.services import documents
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.storage.models import User
from ketamine_clinic.web.permissions import actor, requires


class PracticeForm(forms.Form):
    address = forms.CharField(max_length=200, required=False, help_text="printed on superbills and documents")
    npi = forms.CharField(label="Group NPI", max_length=12, required=False, help_text="10 digits")
    tax_id = forms.CharField(label="Tax ID (EIN)", max_length=12, required=False, help_text="9 digits")
    place_of_service = forms.CharField(max_length=2, initial="11", help_text="11 = office")
    sender_name = forms.CharField(
        max_length=60, required=False, help_text="name reminders are signed with; blank: the clinic's name"
    )
    reminder_hours_before = forms.CharField(
        label="Reminder times (hours before a visit)", max_length=20, help_text="one to three, e.g. 48, 2"
    )
    previsit_hours_before = forms.IntegerField(
        label="Send the questionnaire link (hours before)", min_value=2, max_value=168
    )
    checkin_hour_next_day = forms.IntegerField(label="Next-day check-in at (hour)", min_value=7, max_value=20)
    checkin_valid_hours = forms.IntegerField(label="Check-in link valid for (hours)", min_value=4, max_value=96)
    email_enabled = forms.BooleanField(label="Send e-mail", required=False)
    sms_enabled = forms.BooleanField(label="Send text messages", required=False)

    def clean_reminder_hours_before(self) -> list[int]:
        raw = [p.strip() for p in self.cleaned_data["reminder_hours_before"].split(",") if p.strip()]
        if not raw or not all(p.isdigit() for p in raw):
            raise forms.ValidationError("whole hours separated by commas, e.g. 48, 2")
        return [int(p) for p in raw]


def _prescribers() -> list[User]:
    return list(User.objects.filter(role=Role.PRESCRIBER, is_active=True).order_by("last_name", "username"))


@requires(Action.MANAGE_SETTINGS, phi=False)
def practice(request: HttpRequest) -> HttpResponse:
    row = documents.practice_settings()
    initial: dict[str, Any] = {f: getattr(row, f) for f in PracticeForm.base_fields if f != "reminder_hours_before"} | {
        "reminder_hours_before": ", ".join(str(h) for h in row.reminder_hours_before)
    }
    form = PracticeForm(request.POST or None, initial=initial)
    prescribers = _prescribers()
    npis = {str(p.pk): request.POST.get(f"npi_{p.pk}", row.prescriber_npis.get(str(p.pk), "")) for p in prescribers}
    if request.method == "POST" and form.is_valid():
        try:
            documents.do_update_practice_settings(
                {**form.cleaned_data, "prescriber_npis": npis}, acting_user=actor(request)
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Practice settings saved.")
            return redirect("admin-practice")
    return render(
        request,
        "admin/practice.html",
        {"form": form, "prescribers": [(p, npis[str(p.pk)]) for p in prescribers]},
        status=422 if form.errors else 200,
    )
