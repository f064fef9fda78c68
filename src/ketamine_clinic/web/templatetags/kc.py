from __future__ import annotations

from typing import Any

from django import template

from ketamine_clinic.web.labels import audit_values, label, setting_label

register = template.Library()


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key, key)


@register.filter
def split_words(value: str) -> list[str]:
    return value.split()


@register.filter
def field(form: Any, name: str) -> Any:
    return form[name]


@register.filter
def humanize_code(value: str) -> str:
    """The human label of a stored code (``web.labels.label``)."""
    return label(value)


@register.filter
def labels(values: Any) -> str:
    """A list of codes as their labels, comma-separated."""
    return ", ".join(label(v) for v in values or ())


@register.filter
def setting_name(name: str) -> str:
    return setting_label(name)


@register.filter
def audit_text(values: Any) -> str:
    return audit_values(values)


@register.inclusion_tag("_patient_banner.html", takes_context=True)
def patient_banner(context: Any, patient: Any) -> dict[str, Any]:
    """The banner every patient page shows (``services.navigation.banner``)."""
    from django.utils import timezone

    from ketamine_clinic.services.navigation import banner

    return {"b": banner(patient, at=timezone.now()), "user": context.get("user")}
