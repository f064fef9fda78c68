"""The desk's long lists built in Python: on a network's day the arrivals list has a
couple of hundred rows, each with its form, and template tags per row were most of the
page's cost."""

from __future__ import annotations

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ketamine_clinic.storage.models import Visit

register = template.Library()


def _state(visit: Visit, form: SafeString) -> SafeString:
    if visit.status == "no_show":
        return mark_safe("<strong>no-show</strong>")
    if visit.status == "done":
        return mark_safe("done")
    if visit.arrived_at is not None:
        return format_html("<strong>arrived {}</strong>", f"{timezone.localtime(visit.arrived_at):%H:%M}")
    return form


@register.simple_tag(takes_context=True)
def arrival_rows(context: template.Context, arrivals: list[Visit]) -> SafeString:
    """``{% arrival_rows arrivals %}``: today's arrivals, each with check-in (and no-show once
    the visit's time has come) for those not yet seen."""
    request = context["request"]
    hidden = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}"><input type="hidden" name="form_token" value="{}">',
        get_token(request),
        context.get("once_token", ""),
    )
    visit_url = reverse("desk-visit", args=[0]).removesuffix("0/")
    action_url = reverse("desk-visit-action", args=[0])
    now = context.get("now") or timezone.now()
    rows = []
    for visit in arrivals:
        no_show = (
            mark_safe(' <button class="button small-btn danger" name="op" value="no_show">No-show</button>')
            if visit.starts_at <= now
            else ""
        )
        form = format_html(
            '<form method="post" action="{}" class="inline-form">{}'
            '<button class="button small-btn" name="op" value="arrive">Check in</button>{}</form>',
            action_url.replace("/0/", f"/{visit.pk}/"),
            hidden,
            no_show,
        )
        rows.append(
            format_html(
                '<li><span class="arrival-time">{}</span> <a href="{}{}/">{}</a> · {} · {}</li>\n',
                f"{timezone.localtime(visit.starts_at):%H:%M}",
                visit_url,
                visit.pk,
                visit.patient.full_name,
                visit.chair.name,
                _state(visit, form),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every row is format_html output
