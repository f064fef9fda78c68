"""The clinic's settings row."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from datetime import time as clock_time
from functools import lru_cache
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from ketamine_clinic.domain.hours import ClinicHours, HoursError
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.domain.settings import ClinicRules
from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import Chair, ClinicSettings, EventType, User

__all__ = [
    "IDLE_TIMEOUT_RANGE",
    "clinic_phone",
    "VERIFIER_ROLE_CHOICES",
    "chair_window",
    "clinic_hours",
    "clinic_rules",
    "closure_reasons",
    "do_update_clinic_hours",
    "do_update_verifier_roles",
    "do_confirm_clinic_rules",
    "do_decide_rule_proposal",
    "do_propose_clinic_rules",
    "do_update_clinic_rules",
    "do_update_clinic_settings",
    "idle_timeout_minutes",
    "is_medical_director",
    "max_rate_factor",
    "min_gap_between_doses",
    "rule_overrides",
    "forget",
    "forget_cached",
    "forget_when_saved",
    "per_request",
    "recent",
    "request_scope",
    "rules_unconfirmed",
    "settings_row",
    "two_factor_required",
    "verifier_roles",
    "vitals_interval_min",
]

IDLE_TIMEOUT_RANGE = (1, 240)


#: The settings rows (the clinic's and the ledger's) are read once per request, and a
#: server process reuses what it read for up to ``CACHE_SECONDS``: a page asks for several
#: settings (hours, rules, phone, idle timeout...) and every request of every page asked for
#: the row again (a query and about a millisecond of CPU each, decision 0048). A change made
#: through this process is seen at once (``forget_cached`` on save); one made by another
#: server process within ``CACHE_SECONDS``. Outside ``request_scope`` (the worker, the shell,
#: services called directly) every call reads the database.
T = TypeVar("T")

_scope: ContextVar[dict[str, Any] | None] = ContextVar("kc_clinic_settings_scope", default=None)

#: Per-process reads, ``key -> (time.monotonic() when read, value)``: the settings rows
#: ("clinic", "ledger") and the clinical thresholds ("rules").
_CACHE: dict[str, tuple[float, Any]] = {}
CACHE_SECONDS = 5.0


@contextmanager
def request_scope() -> Iterator[None]:
    """Within this block the settings row is read at most once (and again after a write)."""
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def forget_cached(**_: Any) -> None:
    """Drop the cached settings rows, this request's and this process's (connected to their
    models' ``post_save``; again when the transaction commits)."""
    cache = _scope.get()
    if cache is not None:
        cache.clear()
    _CACHE.clear()
    transaction.on_commit(_CACHE.clear)


def per_request(key: str, load: Callable[[], T]) -> T:
    """``load()`` once per request under ``key`` (every time outside ``request_scope``),
    from this process's copy when it is under ``CACHE_SECONDS`` old. For settings
    singletons only: the model's ``post_save`` must call ``forget_cached``. Each request
    gets its own deep copy of the row, so nothing a request changes on it (its JSON fields
    included) reaches the next; see ``recent`` for transactions."""
    cache = _scope.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = copy.deepcopy(recent(key, load))
    return cast(T, cache[key])


def recent(key: str, load: Callable[[], T], *, keep: Callable[[T], bool] | None = None) -> T:
    """``load()``, or this process's result of it under ``key`` when under
    ``CACHE_SECONDS`` old; only results ``keep`` accepts are kept (all by default). Inside a
    transaction it is always ``load()``, and not kept: a check that decides a write reads
    the database, and what a transaction reads may yet roll back. The caller drops the key
    when it changes what ``load`` reads (``forget``, ``forget_when_saved``)."""
    if transaction.get_connection().in_atomic_block:
        return load()
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return cast(T, hit[1])
    value = load()
    if keep is None or keep(value):
        _CACHE[key] = (now, value)
    return value


def forget(prefix: str) -> None:
    """Drop this process's ``recent`` results whose key starts with ``prefix``, now and again
    when the current transaction commits (a reader in between would keep the old answer)."""

    def drop() -> None:
        for key in [k for k in list(_CACHE) if k.startswith(prefix)]:
            _CACHE.pop(key, None)

    drop()
    transaction.on_commit(drop)


def forget_when_saved(prefix: str, *models: type[Any]) -> None:
    """``forget(prefix)`` whenever a row of one of ``models`` is saved or deleted."""
    for model in models:
        for name, signal in (("save", post_save), ("delete", post_delete)):
            uid = f"kc_forget:{prefix}:{model._meta.label}:{name}"
            signal.connect(lambda **_: forget(prefix), sender=model, weak=False, dispatch_uid=uid)


# any save of the row (this module's updates, a fixture, the admin) is read afresh
post_save.connect(forget_cached, sender=ClinicSettings, dispatch_uid="kc_clinic_settings_forget")


def _row() -> ClinicSettings:
    return per_request("clinic", lambda: ClinicSettings.objects.filter(singleton=1).first() or ClinicSettings())


def settings_row() -> ClinicSettings:
    """The clinic's settings row (read once per request; see ``request_scope``)."""
    return _row()


def idle_timeout_minutes() -> int:
    """The clinic's idle timeout, else ``KC_IDLE_TIMEOUT_MINUTES`` (default 15)."""
    value = _row().idle_timeout_minutes
    return int(value) if value else int(settings.KC_IDLE_TIMEOUT_MINUTES)


PHONE_PATTERN = re.compile(r"^\+?[0-9 ().-]{7,30}$")


def clinic_phone() -> str:
    """The clinic's phone number for patients ('' until the admin sets it)."""
    return _row().clinic_phone


def two_factor_required() -> bool:
    """The clinic setting: staff must use a TOTP second factor (default off)."""
    return bool(_row().require_two_factor)


def do_update_clinic_settings(
    *,
    clinic_name: str,
    idle_timeout_minutes: int,
    require_two_factor: bool | None = None,
    care_team_only: bool | None = None,
    clinic_phone: str | None = None,
    acting_user: User | None,
) -> ClinicSettings:
    if acting_user is not None and not can(acting_user.role, Action.MANAGE_SETTINGS):
        raise NotAllowed("Only an administrator may change clinic settings.")
    low, high = IDLE_TIMEOUT_RANGE
    if not low <= idle_timeout_minutes <= high:
        raise InvalidInput(f"idle timeout must be from {low} to {high} minutes", field="idle_timeout_minutes")
    if not clinic_name.strip() or len(clinic_name) > 120:
        raise InvalidInput("clinic name must be 1 to 120 characters", field="clinic_name")
    if clinic_phone and not PHONE_PATTERN.match(clinic_phone.strip()):
        raise InvalidInput(
            "clinic phone: 7 to 30 digits, spaces, brackets, dots or dashes, optionally starting with +",
            field="clinic_phone",
        )
    with transaction.atomic():
        row = ClinicSettings.objects.select_for_update().filter(singleton=1).first() or ClinicSettings()
        old = {
            "clinic_name": row.clinic_name,
            "idle_timeout_minutes": row.idle_timeout_minutes,
            "require_two_factor": row.require_two_factor,
            "care_team_only": row.care_team_only,
            "clinic_phone": row.clinic_phone,
        }
        row.clinic_name = clinic_name.strip()
        row.idle_timeout_minutes = idle_timeout_minutes
        if require_two_factor is not None:
            row.require_two_factor = require_two_factor
        if care_team_only is not None:
            row.care_team_only = care_team_only
        if clinic_phone is not None:
            row.clinic_phone = clinic_phone.strip()
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


def rule_overrides() -> dict[str, float]:
    """The clinic's clinical thresholds that differ from the cited defaults. Read at most
    every few seconds per process, so a page that applies many rules runs one query; a
    change made here is seen at once, one made by another server process within twice
    ``CACHE_SECONDS`` (this cache over the settings row's own)."""
    now = time.monotonic()
    hit = _CACHE.get("rules")
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return dict(hit[1])
    values = {k: float(v) for k, v in (_row().rule_overrides or {}).items()}
    _CACHE["rules"] = (now, values)
    return dict(values)


def is_medical_director(user: User | None) -> bool:
    return bool(user and user.is_active and user.role == "prescriber" and user.is_medical_director)


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not 10 <= len(reason) <= 300:
        raise InvalidInput("reason must be 10 to 300 characters: say why the thresholds change", field="reason")
    return reason


def _validated(values: dict[str, float]) -> dict[str, float]:
    """The overrides ``values`` mean (values equal to a default drop out); one value out of
    its range saves nothing [S1]."""
    from ketamine_clinic.domain.settings import SETTINGS, ClinicRules, SettingError

    try:
        ClinicRules().with_(**values)
    except SettingError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    return {k: float(v) for k, v in values.items() if float(v) != SETTINGS[k].default}


def _apply(row: ClinicSettings, overrides: dict[str, float], *, reason: str, acting_user: User | None) -> None:
    old = dict(row.rule_overrides or {})
    row.rule_overrides = overrides
    row.updated_at = timezone.now()
    row.save()
    audit.record(
        EventType.SETTINGS_CHANGED, actor=acting_user, subject=row, old=old, new={**overrides, "reason": reason}
    )
    _CACHE.clear()
    transaction.on_commit(_CACHE.clear)


def do_update_clinic_rules(values: dict[str, float], *, reason: str = "", acting_user: User | None) -> ClinicSettings:
    """Change clinical thresholds now: the medical director, with a reason (or the system
    itself, ``acting_user=None``, e.g. set-up). An administrator proposes instead
    (``do_propose_clinic_rules``). Each value is checked against its allowed range; one
    bad value saves nothing. A value equal to the default removes the override."""
    if acting_user is not None:
        if not is_medical_director(acting_user):
            raise NotAllowed("Only the medical director changes clinical thresholds; an administrator proposes them.")
        reason = _check_reason(reason)
    overrides = _validated(values)
    with transaction.atomic():
        row = ClinicSettings.objects.select_for_update().filter(singleton=1).first() or _row()
        _apply(row, overrides, reason=reason or "set-up", acting_user=acting_user)
    return row


def do_propose_clinic_rules(values: dict[str, float], *, reason: str, acting_user: User) -> ClinicSettings:
    """The administrator (or the medical director) proposes new thresholds with a reason;
    nothing changes until the medical director approves."""
    if not (can(acting_user.role, Action.MANAGE_SETTINGS) or is_medical_director(acting_user)):
        raise NotAllowed("Only an administrator or the medical director may propose clinical thresholds.")
    overrides = _validated(values)
    reason = _check_reason(reason)
    with transaction.atomic():
        row = ClinicSettings.objects.select_for_update().filter(singleton=1).first() or _row()
        row.pending_rules, row.pending_reason, row.pending_by, row.pending_at = (
            overrides,
            reason,
            acting_user,
            timezone.now(),
        )
        row.save()
        audit.record(
            EventType.SETTINGS_PROPOSED,
            actor=acting_user,
            subject=row,
            old=dict(row.rule_overrides or {}),
            new={**overrides, "reason": reason},
        )
    return row


def do_decide_rule_proposal(*, approve: bool, reason: str, acting_user: User) -> ClinicSettings:
    """The medical director approves (applies) or declines the pending proposal, with a reason."""
    if not is_medical_director(acting_user):
        raise NotAllowed("Only the medical director decides on clinical thresholds.")
    reason = _check_reason(reason)
    with transaction.atomic():
        row = ClinicSettings.objects.select_for_update().filter(singleton=1).first()
        if row is None or row.pending_rules is None:
            raise Conflict("There is no proposal waiting.", field="proposal")
        proposal = dict(row.pending_rules)
        if approve:
            _apply(row, _validated(proposal), reason=reason, acting_user=acting_user)
        row.pending_rules, row.pending_reason, row.pending_by, row.pending_at = None, "", None, None
        row.save()
        audit.record(
            EventType.SETTINGS_PROPOSAL_DECIDED,
            actor=acting_user,
            subject=row,
            new={"approved": approve, "proposal": proposal, "reason": reason},
        )
    return row


def do_confirm_clinic_rules(*, reason: str, acting_user: User) -> ClinicSettings:
    """The medical director confirms the thresholds in force, UNCONFIRMED defaults
    included, before the first clinical use (until then every page shows a banner) [S1]."""
    if not is_medical_director(acting_user):
        raise NotAllowed("Only the medical director confirms the clinical thresholds.")
    reason = _check_reason(reason)
    with transaction.atomic():
        row = ClinicSettings.objects.select_for_update().filter(singleton=1).first() or _row()
        row.rules_confirmed_at, row.rules_confirmed_by = timezone.now(), acting_user
        row.save()
        audit.record(
            EventType.SETTINGS_CONFIRMED,
            actor=acting_user,
            subject=row,
            new={"overrides": dict(row.rule_overrides or {}), "reason": reason},
        )
    return row


def rules_unconfirmed() -> bool:
    """Whether the medical director has yet to confirm the clinical thresholds."""
    return _row().rules_confirmed_at is None


def clinic_rules() -> ClinicRules:
    """The clinic's thresholds: the cited defaults with the admin's overrides."""
    return _rules_for(tuple(sorted(rule_overrides().items())))


@lru_cache(maxsize=32)
def _rules_for(overrides: tuple[tuple[str, float], ...]) -> ClinicRules:
    """One checked ``ClinicRules`` per set of overrides (it is immutable): the Today board
    asks for a rule on every row, and each build validated every threshold."""
    return ClinicRules().with_(**dict(overrides))


def max_rate_factor() -> float:
    return clinic_rules().rate_allowance_factor


def min_gap_between_doses() -> timedelta:
    """The clinic's minimum time between two doses (setting ``min_hours_between_infusions``,
    [S41]); esketamine's twice-weekly label schedule [S32] keeps the same floor. Opening a
    session, rescheduling and moving a visit all read it here."""
    return timedelta(hours=clinic_rules().min_hours_between_infusions)


def vitals_interval_min(*, dosing: bool = False) -> int:
    """Minutes between readings: the dosing interval while the dose runs, else after it [S6][S7]."""
    r = clinic_rules()
    return int(r.vitals_every_dosing_min if dosing else r.vitals_every_min)


def clinic_hours() -> ClinicHours:
    """The clinic's booking calendar (admin setting): hours, open weekdays, closure dates.
    Course planning, boosters, rescheduling and the calendar all read it here [S1]."""
    row = _row()
    return ClinicHours(
        opens=row.opens_at,
        closes=row.closes_at,
        days=frozenset(int(d) for d in row.open_days),
        closures=frozenset(date.fromisoformat(c["date"]) for c in row.closures or []),
    )


def closure_reasons() -> dict[date, str]:
    return {date.fromisoformat(c["date"]): c.get("reason", "") for c in _row().closures or []}


def chair_window(chair: Chair) -> tuple[clock_time, clock_time]:
    """The hours ``chair`` can be booked: its own, inside the clinic's."""
    return clinic_hours().chair_window(chair.opens_at, chair.closes_at)


def do_update_clinic_hours(
    *,
    opens: clock_time,
    closes: clock_time,
    days: set[int],
    closures: dict[date, str],
    acting_user: User | None,
) -> ClinicSettings:
    """An administrator sets when visits are booked. Visits already booked are not moved
    (the calendar shows those that now fall outside the hours); nothing is saved when the
    hours cannot be (closing before opening, no open day) [S1]."""
    if acting_user is not None and not can(acting_user.role, Action.MANAGE_SETTINGS):
        raise NotAllowed("Only an administrator may change the clinic's hours.")
    try:
        ClinicHours(opens=opens, closes=closes, days=frozenset(days), closures=frozenset(closures))
    except HoursError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    for day, reason in closures.items():
        if len(reason) > 80:
            raise InvalidInput(
                f"the reason for closing on {day.isoformat()} must be at most 80 characters", field="closures"
            )
    with transaction.atomic():
        row = ClinicSettings.objects.select_for_update().filter(singleton=1).first() or _row()
        old: dict[str, Any] = {"opens": f"{row.opens_at:%H:%M}", "closes": f"{row.closes_at:%H:%M}"}
        old.update(days=row.open_days, closures=list(row.closures or []))
        row.opens_at, row.closes_at = opens, closes
        row.open_days = "".join(str(d) for d in sorted(days))
        row.closures = [{"date": d.isoformat(), "reason": r.strip()} for d, r in sorted(closures.items())]
        row.updated_at = timezone.now()
        row.save()
        audit.record(
            EventType.CLINIC_HOURS_CHANGED,
            actor=acting_user,
            subject=row,
            old=old,
            new={
                "opens": f"{opens:%H:%M}",
                "closes": f"{closes:%H:%M}",
                "days": row.open_days,
                "closures": row.closures,
            },
        )
    return row


#: Roles that may ever verify an order, within scope of practice: prescribers (physicians,
#: APRNs), CRNAs and RNs [S1]. The clinic chooses among them; the signer never verifies.
VERIFIER_ROLE_CHOICES = (("prescriber", "Prescribers (physicians, APRNs)"), ("crna", "CRNAs"), ("rn", "RNs"))


def verifier_roles() -> frozenset[str]:
    """The roles this clinic lets verify another clinician's order (admin setting)."""
    return frozenset(r for r in (_row().verifier_roles or "").split(",") if r)


def do_update_verifier_roles(roles: set[str], *, acting_user: User | None) -> ClinicSettings:
    """Choose which roles verify orders; at least one, each within scope of practice."""
    if acting_user is not None and not can(acting_user.role, Action.MANAGE_SETTINGS):
        raise NotAllowed("Only an administrator may change who verifies orders.")
    allowed = {code for code, _ in VERIFIER_ROLE_CHOICES}
    if not roles or not roles <= allowed:
        raise InvalidInput("verifying roles must be one or more of: prescriber, crna, rn", field="verifier_roles")
    with transaction.atomic():
        row = ClinicSettings.objects.select_for_update().filter(singleton=1).first() or _row()
        old = {"verifier_roles": row.verifier_roles}
        row.verifier_roles = ",".join(sorted(roles))
        row.updated_at = timezone.now()
        row.save()
        audit.record(
            EventType.SETTINGS_CHANGED,
            actor=acting_user,
            subject=row,
            old=old,
            new={"verifier_roles": row.verifier_roles},
        )
    return row
