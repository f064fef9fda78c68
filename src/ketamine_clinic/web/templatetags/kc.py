from __future__ import annotations

from typing import Any

from django import template

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
    return str(value).replace("_", " ")
