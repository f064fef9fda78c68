"""``{% ledger_card session %}``: the session's controlled-substance card (draw, waste, tie)."""

from __future__ import annotations

from typing import Any

from django import template

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import ledger
from ketamine_clinic.web.templatetags.kc import model_choices

register = template.Library()


@register.inclusion_tag("ledger/_session_card.html", takes_context=True)
def ledger_card(context: Any, session: Any) -> dict[str, Any]:
    from ketamine_clinic.web.views.ledger import session_forms

    user = context["request"].user
    summary = ledger.session_ledger(session)
    # drawing ends when the dose ends; waste is offered while some drawn mg may be wasted
    # (before the dose has ended, only a surplus over the ordered dose: ledger.wastable_mg)
    may_draw = ledger.may(user, Action.DRAW_STOCK) and session.status in ledger.DOSE_PENDING
    may_waste = ledger.may(user, Action.WASTE_STOCK) and session.status != "discharged" and summary.wastable_mg > 0
    forms = session_forms(session, user) if may_draw or may_waste else {}
    # the draw form's lots, read once: whether there is any, and the options it renders
    lots = model_choices(forms["draw_form"].fields["lot"]) if may_draw else []
    return {
        "has_lots": bool(lots),
        "session": session,
        "summary": summary,
        "csrf_token": context.get("csrf_token"),
        "may_draw": may_draw,
        "may_waste": may_waste,
        **forms,
    }
