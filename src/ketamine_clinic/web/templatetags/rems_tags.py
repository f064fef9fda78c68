"""``{% rems_panel session %}``: the REMS part of a nasal session (prescriber on site, pulse
oximetry, the devices' lot, the monitoring form's state)."""

from __future__ import annotations

from typing import Any

from django import template

from ketamine_clinic.domain.policy import Action, actions_for
from ketamine_clinic.services import rems

register = template.Library()


@register.inclusion_tag("sessions/_rems.html", takes_context=True)
def rems_panel(context: Any, session: Any) -> dict[str, Any]:
    from ketamine_clinic.web.clinical_forms import RemsOnSiteForm

    user = context["request"].user
    record = rems.session_record(session)
    return {
        "session": session,
        "record": record,
        "refusal": rems.device_refusal(session, at=session.opened_at)
        if session.status in {"checklist", "ready", "running"}
        else None,
        "on_site_form": RemsOnSiteForm(
            prefix="site",
            initial={"prescriber": record.prescriber_on_site_id, "pulse_oximetry": record.pulse_oximetry},
        ),
        "may_fill": bool({Action.RECORD_VITALS, Action.SIGN_ORDER} & set(actions_for(user.role))),
        "csrf_token": context.get("csrf_token"),
        "once_token": context.get("once_token"),
    }


@register.simple_tag
def rems_enrolment(patient: Any) -> Any:
    """The patient's REMS enrolment, or ``None``."""
    return rems.enrolment(patient)
