"""Navigation for the user's role, shown by the base layout."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.web.labels import ROLE_LABELS

_NAV: tuple[tuple[str, str, Action], ...] = (
    ("My tasks", "tasks", Action.VIEW_DEMOGRAPHICS),
    ("Today", "clinic-home", Action.VIEW_CHART),
    ("Patients", "patient-list", Action.VIEW_CHART),
    ("Week", "clinic-week", Action.VIEW_CHART),
    ("Alerts", "alert-list", Action.VIEW_CHART),
    ("Reports", "reports-outcomes", Action.VIEW_DASHBOARD),
    ("On call", "on-call", Action.MANAGE_ON_CALL),
    ("Stock", "ledger-home", Action.VIEW_LEDGER),
    ("Front desk", "desk-home", Action.MANAGE_SCHEDULE),
    ("Requests", "desk-requests", Action.MANAGE_SCHEDULE),
    ("My care", "me-home", Action.VIEW_OWN_RESULTS),
    ("Users", "admin-users", Action.MANAGE_USERS),
    ("Care teams", "admin-care-teams", Action.MANAGE_USERS),
    ("Settings", "admin-settings", Action.MANAGE_SETTINGS),
    ("Ledger settings", "admin-ledger-settings", Action.MANAGE_SETTINGS),
    ("Practice", "admin-practice", Action.MANAGE_SETTINGS),
    ("Audit trail", "admin-audit", Action.VIEW_AUDIT),
    ("Chairs", "admin-chairs", Action.MANAGE_SETTINGS),
    ("Hours", "admin-hours", Action.MANAGE_SETTINGS),
    ("Jobs", "admin-jobs", Action.MANAGE_SETTINGS),
    ("API tokens", "admin-tokens", Action.MANAGE_USERS),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"nav_items": []}
    role = getattr(user, "role", "")
    items: list[dict[str, Any]] = [{"label": label, "url": url} for label, url in _items_for(role)]
    # the longest matching prefix is the current section (/clinic/patients/ beats /clinic/)
    matches = [i for i in items if request.path.startswith(i["url"])]
    current = max(matches, key=lambda i: len(i["url"]), default=None)
    for item in items:
        item["active"] = item is current
    _flag_discrepancies(items)
    from ketamine_clinic.services.clinic import is_medical_director, rules_unconfirmed

    return {
        "nav_items": items,
        "role_label": ROLE_LABELS.get(role, role),
        "rules_unconfirmed": role != "patient" and rules_unconfirmed(),
        "is_medical_director": is_medical_director(user),
        "can_search": bool(role) and role != "patient" and can(role, Action.VIEW_DEMOGRAPHICS),
        "can_chart": bool(role) and can(role, Action.VIEW_CHART),
    }


@lru_cache(maxsize=32)
def _items_for(role: str) -> tuple[tuple[str, str], ...]:
    """The menu of ``role`` as (label, address): the same on every page, so built once per
    process (each address is a URL reversal)."""
    return tuple((label, reverse(name)) for label, name, action in _NAV if role and can(role, action))


def _flag_discrepancies(items: list[dict[str, Any]]) -> None:
    """An open stock-count discrepancy shows on the ledger's nav item until it is resolved."""
    ledger_url = _ledger_url()
    item = next((i for i in items if i["url"] == ledger_url), None)
    if item is None:
        return
    from ketamine_clinic.services.ledger import open_discrepancy_count

    count = open_discrepancy_count()
    if count:
        item["label"] = f"{item['label']} · {count} discrepanc{'y' if count == 1 else 'ies'}"


@lru_cache(maxsize=1)
def _ledger_url() -> str:
    return reverse("ledger-home")


def once(request: HttpRequest) -> dict[str, Any]:
    """A fresh one-time token for the forms of this page (``services.once``)."""
    import uuid

    return {"once_token": uuid.uuid4().hex}
