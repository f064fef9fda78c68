from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ketamine_clinic.services import measures
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


@lru_cache(maxsize=32)
def _rating_items_html(code: str) -> SafeString:
    """The items of one clinician-rated scale as labelled radio groups, built once per
    process: the four chair-side scales are about 280 options, and rendering them through
    template tags on every session and chart page was most of those pages' cost."""
    scale = measures.instrument_form(code)
    parts = []
    for n, item in enumerate(scale["items"], start=1):
        options = mark_safe(  # noqa: S308 - every part is format_html output
            "".join(
                format_html(
                    '<label class="option"><input type="radio" name="{}" value="{}"{}> {}</label>\n',
                    item["name"],
                    value,
                    SafeString(" required") if first else "",
                    str(value) if label_text == str(value) else f"{value} – {label_text}",
                )
                for first, (value, label_text) in ((i == 0, opt) for i, opt in enumerate(item["options"]))
            )
        )
        parts.append(
            format_html(
                '<fieldset class="q rating-item">\n<legend><span class="item-n">{}.</span> {}</legend>\n'
                '<div class="options">{}</div>\n</fieldset>\n',
                n,
                item["text"],
                options,
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - every part is format_html output


@register.simple_tag
def rating_items(scale: dict[str, Any]) -> SafeString:
    """``{% rating_items scale %}``: the scale's items (see ``_rating_items_html``)."""
    return _rating_items_html(scale["code"])
