"""The medical director's review of clinical thresholds: approve or decline a proposal,
and confirm the thresholds in force (UNCONFIRMED defaults included) before clinical use."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.domain.settings import SETTINGS
from ketamine_clinic.services import clinic
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.storage.models import ClinicSettings
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.SIGN_ORDER)
def review(request: HttpRequest) -> HttpResponse:
    who = actor(request)
    if not clinic.is_medical_director(who):
        return render(request, "403.html", {"action": "review clinical thresholds (the medical director)"}, status=403)
    error = ""
    if request.method == "POST":
        op, reason = request.POST.get("op", ""), request.POST.get("reason", "")
        try:
            if op in {"approve", "decline"}:
                clinic.do_decide_rule_proposal(approve=op == "approve", reason=reason, acting_user=who)
                messages.success(
                    request, "Proposal approved and in force." if op == "approve" else "Proposal declined."
                )
            else:
                clinic.do_confirm_clinic_rules(reason=reason, acting_user=who)
                messages.success(request, "Clinical thresholds confirmed for clinical use.")
        except ServiceError as exc:
            error = exc.message
        else:
            return redirect("settings-review")
    row = ClinicSettings.objects.filter(singleton=1).first() or ClinicSettings()
    current = {**{k: s.default for k, s in SETTINGS.items()}, **(row.rule_overrides or {})}
    proposed = {**{k: s.default for k, s in SETTINGS.items()}, **(row.pending_rules or {})}
    changes = [
        {"name": k, "now": current[k], "proposed": proposed[k], "unit": SETTINGS[k].unit}
        for k in SETTINGS
        if row.pending_rules is not None and float(current[k]) != float(proposed[k])
    ]
    unconfirmed = [{"name": k, "value": current[k], "spec": s} for k, s in SETTINGS.items() if "UNCONFIRMED" in s.note]
    return render(
        request,
        "admin/settings_review.html",
        {"row": row, "changes": changes, "unconfirmed": unconfirmed, "error": error},
    )
