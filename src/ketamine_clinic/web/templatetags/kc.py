from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import forms, template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
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


def _today_status(row: dict[str, Any], session_prefix: str) -> SafeString:
    session, order = row["session"], row["order"]
    if session is not None:
        return format_html(
            '<a href="{}{}/"><span class="status status-{}">{}</span></a>',
            session_prefix,
            session.pk,
            session.status,
            session.get_status_display(),
        )
    if order is not None and order.verified_at:
        return mark_safe("order verified")
    if order is not None:
        return mark_safe('<span class="warn-text">order to verify</span>')
    return mark_safe('<span class="warn-text">no order</span>')


@register.simple_tag
def today_rows(rows: list[dict[str, Any]]) -> SafeString:
    """``{% today_rows rows %}``: the Today table's rows (``outcomes.clinic_day``) built in
    Python: a network's day is a couple of hundred rows, and template tags per row were
    most of the dashboard's cost."""
    chart_prefix = reverse("patient-chart", args=[0]).removesuffix("0/")
    session_prefix = reverse("session", args=[0]).removesuffix("0/")
    out = []
    for row in rows:
        visit = row["visit"]
        start = timezone.localtime(visit.starts_at)
        day = format_html('<span class="bad-text">{}</span> ', f"{start.day} {start:%b}") if row["other_day"] else ""
        due = ""
        if row["vitals_due"]:
            due = format_html(
                '<span class="{}">{}{}</span>',
                "bad-text" if row["overdue"] else "",
                f"{timezone.localtime(row['vitals_due']):%H:%M}",
                " overdue" if row["overdue"] else "",
            )
        out.append(
            format_html(
                '<tr><td>{}{}</td><td>{}</td><td><a href="{}{}/">{}</a><br><span class="muted small">{} #{}</span></td>'
                "<td>{}</td><td>{}</td></tr>\n",
                day,
                f"{start:%H:%M}",
                visit.chair_name,
                chart_prefix,
                visit.patient_id,
                visit.patient_name,
                visit.get_phase_display(),
                visit.number,
                _today_status(row, session_prefix),
                due,
            )
        )
    return mark_safe("".join(out))  # noqa: S308 - every row is format_html output


@register.simple_tag
def flowsheet_rows(vitals: list[Any], *, amended_ids: set[int], session_id: int, may_correct: bool) -> SafeString:
    """``{% flowsheet_rows vitals ... %}``: the chair page's flowsheet rows built in Python
    (the page is reloaded after every reading, and template tags per row were a quarter of
    its cost on a long session)."""
    amend_url = reverse("session-amend-vitals", args=[session_id, 0]).removesuffix("0/amend/")
    out = []
    for v in vitals:
        classes = " ".join(
            c for c in ("amended" if v.pk in amended_ids else "", "amendment" if v.amends_id else "") if c
        )
        flags = format_html_join(
            "",
            '<span class="sev sev-{}">{}</span> {}<br>',
            ((a["severity"], a["severity"], a["message"]) for a in v.alerts),
        )
        by = v.recorded_by.display_name if v.recorded_by_id else ""
        out.append(
            format_html(
                '<tr class="{}"><td>{}{}</td><td>{}/{}</td><td>{}</td><td>{}%</td><td>{}</td><td>{}</td><td>{}{}</td>'
                "<td>{}</td></tr>\n",
                classes,
                f"{timezone.localtime(v.at):%H:%M}",
                mark_safe('<br><span class="tag">correction</span>') if v.amends_id else "",  # noqa: S308 - a constant
                v.systolic_mmhg,
                v.diastolic_mmhg,
                v.heart_rate_bpm,
                v.spo2_percent,
                "–" if v.respiratory_rate in (None, "") else v.respiratory_rate,
                flags,
                by,
                format_html('<br><span class="muted">{}</span>', v.amend_reason) if v.amend_reason else "",
                format_html('<a href="{}{}/amend/">Correct</a>', amend_url, v.pk)
                if may_correct and v.pk not in amended_ids
                else "",
            )
        )
    if not out:
        return format_html('<tr><td colspan="8">{}</td></tr>', "No readings yet.")
    return mark_safe("".join(out))  # noqa: S308 - every row is format_html output


def model_choices(spec: forms.ModelChoiceField) -> list[tuple[Any, Any]]:  # type: ignore[type-arg]
    """A model choice field's options, read once with one ordinary query and kept as this
    form's own copy of the field's choices, so rendering it reads nothing more. (Django's
    own iteration opens a server-side cursor on PostgreSQL: three round trips, and again
    each time the choices are looked at.)"""
    if not hasattr(spec, "_choices"):  # not read yet (nor set by hand)
        iterator = spec.iterator(spec)
        options: list[tuple[Any, Any]] = [("", spec.empty_label)] if spec.empty_label is not None else []
        options += [iterator.choice(obj) for obj in spec.queryset or []]
        spec.choices = options
    return list(spec._choices)  # type: ignore[attr-defined]


#: ``_field.html`` of unbound forms' fields, by everything the HTML depends on (bounded).
_FIELD_HTML: dict[tuple[Any, ...], str] = {}


@register.simple_tag
def field_html(field: Any) -> str:
    """``{% field_html field %}``: the field as ``_field.html`` renders it. A field of an
    unbound form is rendered once per process and reused (keyed by its form, name, value,
    widget attributes, label, help and choices; a model choice field's choices are read
    from the database each time, so a new lot or a changed balance is a new key): Django
    renders every widget through templates, and the chair page's forms were a fifth of its
    cost."""
    form, spec = field.form, field.field
    if form.is_bound:
        return render_to_string("_field.html", {"field": field})
    # a model choice field's options are read once (one query), rendered from that list and
    # part of the key, so the HTML always matches the options it is filed under
    if isinstance(spec, forms.ModelChoiceField):
        choices: Any = [(str(value), str(text)) for value, text in model_choices(spec)]
    else:
        choices = getattr(spec, "choices", None)
    key = (
        type(form).__module__,
        type(form).__qualname__,
        form.prefix,
        form.auto_id,
        field.name,
        repr(field.value()),
        repr(sorted(spec.widget.attrs.items())),
        str(spec.label),
        str(spec.help_text),
        spec.required,
        repr(choices),
    )
    html = _FIELD_HTML.get(key)
    if html is None:
        html = render_to_string("_field.html", {"field": field})
        if len(_FIELD_HTML) >= 1024:  # stock labels change with every draw: start afresh
            _FIELD_HTML.clear()
        _FIELD_HTML[key] = html
    return html
