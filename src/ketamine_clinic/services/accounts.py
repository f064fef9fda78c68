"""Users: creation, roles, activation and passwords, each change audited."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction

from ketamine_clinic.domain.policy import ROLES, Action, Role, can
from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import EventType, User

__all__ = [
    "do_change_role",
    "do_create_user",
    "do_set_active",
    "do_record_session_event",
    "do_set_password",
    "do_unlock_account",
    "do_update_user",
    "is_locked_out",
    "locked_user_ids",
]


def _require_admin(acting_user: User | None) -> None:
    # None means the command line run by the server's operator.
    if acting_user is not None and not can(acting_user.role, Action.MANAGE_USERS):
        raise NotAllowed("Only an administrator may manage users.")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of: {', '.join(ROLES)}", field="role")


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="password") from None


def do_create_user(
    username: str,
    role: str,
    password: str,
    *,
    first_name: str = "",
    last_name: str = "",
    credentials: str = "",
    email: str = "",
    acting_user: User | None,
) -> User:
    """Create an active user with ``role``. Raises ``InvalidInput`` / ``Conflict``."""
    _require_admin(acting_user)
    username = username.strip()
    if not username or len(username) > 150:
        raise InvalidInput("username must be 1 to 150 characters", field="username")
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="username") from None
    _check_role(role)
    _check_password(password, User(username=username, first_name=first_name, last_name=last_name, email=email))
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict(f"A user named {username!r} already exists.", field="username")
        user = User(
            username=username,
            role=role,
            first_name=first_name,
            last_name=last_name,
            credentials=credentials,
            email=email,
        )
        user.set_password(password)
        user.save()
        audit.record(
            EventType.USER_CREATED,
            actor=acting_user,
            subject=user,
            new={"username": username, "role": role},
        )
    return user


def do_change_role(user: User, role: str, *, acting_user: User | None) -> User:
    _require_admin(acting_user)
    return _change_role(user, role, acting_user)


def _keep_an_admin(user: User, *, role: str, active: bool) -> None:
    """Refuse a change that would leave the clinic without an active administrator.
    The active admins are locked first, so two admins demoting each other at once cannot
    both succeed."""
    if user.role != Role.ADMIN or not user.is_active or (role == Role.ADMIN and active):
        return
    admins = list(User.objects.select_for_update().filter(role=Role.ADMIN, is_active=True).values_list("pk", flat=True))
    if [pk for pk in admins if pk != user.pk] == []:
        raise Conflict("This is the last active administrator: make another administrator first.", field="role")


def _change_role(user: User, role: str, acting_user: User | None) -> User:
    _check_role(role)
    if acting_user is not None and acting_user.pk == user.pk:
        raise NotAllowed("Nobody may change their own role; ask another administrator.")
    with transaction.atomic():
        _keep_an_admin(user, role=role, active=user.is_active)
        old = user.role
        user.role = role
        user.save(update_fields=["role"])
        audit.record(
            EventType.USER_ROLE_CHANGED,
            actor=acting_user,
            subject=user,
            old={"role": old},
            new={"role": role},
        )
    return user


def do_set_active(user: User, active: bool, *, acting_user: User | None) -> User:
    _require_admin(acting_user)
    return _set_active(user, active, acting_user)


def _set_active(user: User, active: bool, acting_user: User | None) -> User:
    if acting_user is not None and acting_user.pk == user.pk and not active:
        raise Conflict("You cannot deactivate your own account.", field="is_active")
    with transaction.atomic():
        _keep_an_admin(user, role=user.role, active=active)
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(
            EventType.USER_REACTIVATED if active else EventType.USER_DEACTIVATED,
            actor=acting_user,
            subject=user,
            new={"is_active": active},
        )
    return user


def do_update_user(
    user: User, *, role: str, is_active: bool, is_medical_director: bool | None = None, acting_user: User | None
) -> User:
    """Change role, activation and the medical-director flag together: all saved, or none.
    Only an active prescriber may be the medical director."""
    _require_admin(acting_user)
    with transaction.atomic():
        if role != user.role:
            _change_role(user, role, acting_user)
        if is_active != user.is_active:
            _set_active(user, is_active, acting_user)
        if is_medical_director is not None and is_medical_director != user.is_medical_director:
            if is_medical_director and user.role != Role.PRESCRIBER:
                raise InvalidInput("only a prescriber can be the medical director", field="is_medical_director")
            user.is_medical_director = is_medical_director
            user.save(update_fields=["is_medical_director"])
            audit.record(
                EventType.USER_ROLE_CHANGED,
                actor=acting_user,
                subject=user,
                new={"is_medical_director": is_medical_director},
            )
    return user


def do_set_password(user: User, password: str, *, acting_user: User | None) -> User:
    _require_admin(acting_user)
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(EventType.USER_PASSWORD_SET, actor=acting_user, subject=user)
    return user


def do_record_session_event(
    event_type: EventType, *, user: User | None, known_account: bool = True, address: str = ""
) -> None:
    """Audit a login, logout, failed or throttled login, or idle logout. What was typed
    is never a parameter: a failed login names its account only when there is one."""
    new: dict[str, object] = {} if known_account else {"known_account": False}
    if address:
        new["address"] = address
    with transaction.atomic():
        audit.record(event_type, actor=user, subject=user, new=new)


def _lock_key(user: User) -> str:
    from ketamine_clinic.services.passwords import login_key

    return login_key(user.username)


def is_locked_out(user: User) -> bool:
    """Whether failed logins have locked ``user``'s account (django-axes, by account;
    docs/decisions/0004-lockout-by-account.md)."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.utils import timezone

    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    return bool(
        AccessAttempt.objects.filter(
            username=_lock_key(user), attempt_time__gte=since, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
        ).exists()
    )


def locked_user_ids() -> set[int]:
    """The ids of the accounts locked by failed logins now."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.utils import timezone

    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    keys = AccessAttempt.objects.filter(
        attempt_time__gte=since, failures_since_start__gte=settings.AXES_FAILURE_LIMIT, username__startswith="user-"
    ).values_list("username", flat=True)
    return {int(k.removeprefix("user-")) for k in keys if k.removeprefix("user-").isdigit()}


def do_unlock_account(user: User, *, acting_user: User | None) -> int:
    """An administrator clears the failed logins that locked ``user`` out (after checking
    who asked); returns how many lock records were removed. Audited."""
    from axes.models import AccessAttempt

    _require_admin(acting_user)
    with transaction.atomic():
        removed, _ = AccessAttempt.objects.filter(username=_lock_key(user)).delete()
        audit.record(EventType.ACCOUNT_UNLOCKED, actor=acting_user, subject=user, new={"lock_records_removed": removed})
    return int(removed)
