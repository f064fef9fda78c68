"""``{% pre_procedure_card patient %}``: the pre-procedure record at a glance, with links to
the record and the consent (chart and chair-side pages)."""

from __future__ import annotations

from typing import Any

from django import template

from ketamine_clinic.services import preprocedure

register = template.Library()


@register.inclusion_tag("clinical/_pre_procedure_summary.html")
def pre_procedure_card(patient: Any, links: bool = True) -> dict[str, Any]:
    return {"summary": preprocedure.summary(patient), "patient": patient, "links": links}
