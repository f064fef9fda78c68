"""The clinic's settings row."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import InvalidInput, NotAllowed
from ketamine_clinic.storage.models import ClinicSettings, EventType, User

__all__ = [
    "IDLE_TIMEOUT_RANGE",
    "do_update_clinic_rules",
    "do_update_clinic_settings",
    "idle_timeout_minutes",
    "rule_overrides",
    "two_factor_required",
]

IDLE_TIMEOUT_RANGE = (1, 240)


def _row() -> ClinicSettings:
    return ClinicSettings.objects.filter(singleton=1).first() or ClinicSettings()


def idle_timeout_minutes() -> int:
    """The clinic's idle timeout, else ``KC_IDLE_TIMEOUT_MINUTES`` (default 15)."""
    value = _row().idle_timeout_minutes
    return int(value) if value else int(settings.KC_IDLE_TIMEOUT_MINUTES)


def two_factor_required() -> bool:
    """The clinic setting: staff must use a TOTP second factor (default off)."""
    return bool(_row().require_two_factor)


def do_update_clinic_settings(
    *,
    clinic_name: str,
    idle_timeout_minutes: int,
    require_two_factor: bool | None = None,
    care_team_only: bool | None = None,
    acting_user: User | None,
) -> ClinicSettings:
    if acting_user is not None and not can(acting_user.role, Action.MANAGE_SETTINGS):
        raise NotAllowed("Only an administrator may change clinic settings.")
    low, high = IDLE_TIMEOUT_RANGE
    if not low <= idle_timeout_minutes <= high:
        raise InvalidInput(f"idle timeout must be from {low} to {high} minutes", field="idle_timeout_minutes")
    if not clinic_name.strip() or len(clinic_name) > 120:
        raise InvalidInput("clinic name must be 1 to 120 characters", field="clinic_name")
    with transaction.atomic():
        row = _row()
        old = {
            "clinic_name": row.clinic_name,
            "idle_timeout_minutes": row.idle_timeout_minutes,
            "require_two_factor": row.require_two_factor,
            "care_team_only": row.care_team_only,
        }
        row.clinic_name = clinic_name.strip()
        row.idle_timeout_minutes = idle_timeout_minutes
        if require_two_factor is not None:
            row.require_two_factor = require_two_factor
        if care_team_only is not None:
            row.care_team_only = care_team_only
        row.updated_at = timezone.now()
        row.save()
        audit.record(
            EventType.SETTINGS_CHANGED,
            actor=acting_user,
            subject=row,
            old=old,
            new={
                "clinic_name": row.clinic_name,
                "idle_timeout_minutes": idle_timeout_minutes,
                "require_two_factor": row.require_two_factor,
                "care_team_only": row.care_team_only,
            },
        )
    return row


_CACHE: dict[str, tuple[float, dict[str, float]]] = {}
CACHE_SECONDS = 5.0


def rule_overrides() -> dict[str, float]:
    """The clinic's clinical thresholds that differ from the cited defaults. Read at most
    every few seconds per process, so a page that applies many rules runs one query; a
    change made here is seen at once, one made by another server process within 5 s."""
    now = time.monotonic()
    hit = _CACHE.get("rules")
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return dict(hit[1])
    values = {k: float(v) for k, v in (_row().rule_overrides or {}).items()}
    _CACHE["rules"] = (now, values)
    return dict(values)


def do_update_clinic_rules(values: dict[str, float], *, acting_user: User | None) -> ClinicSettings:
    """Change clinical thresholds (admin). Each value is checked against its allowed range;
    one bad value saves nothing. A value equal to the default removes the override."""
    from ketamine_clinic.domain.settings import SETTINGS, ClinicRules, SettingError

    if acting_user is not None and not can(acting_user.role, Action.MANAGE_SETTINGS):
        raise NotAllowed("Only an administrator may change clinic settings.")
    try:
        ClinicRules().with_(**values)
    except SettingError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    overrides = {k: float(v) for k, v in values.items() if float(v) != SETTINGS[k].default}
    with transaction.atomic():
        row = _row()
        old = dict(row.rule_overrides or {})
        row.rule_overrides = overrides
        row.updated_at = timezone.now()
        row.save()
        audit.record(EventType.SETTINGS_CHANGED, actor=acting_user, subject=row, old=old, new=overrides)
        _CACHE.clear()
        transaction.on_commit(_CACHE.clear)
    return row
