"""Typed settings from the environment. The only module that reads ``os.environ``.

Every variable is ``KC_<NAME>``; a secret may instead come from a file named by
``KC_<NAME>_FILE``. Values that do not parse raise ``ConfigError`` naming the variable,
so a misconfigured server refuses to start rather than running with a surprise.

Errors::

    ConfigError (ValueError)
      a variable is malformed, or a placeholder secret is used with KC_DEBUG off
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PLACEHOLDER_AUDIT_KEY", "PLACEHOLDER_SECRET", "SETTINGS_DOC", "Config", "ConfigError", "load"]

PLACEHOLDER_SECRET = "insecure-development-only-change-me"
PLACEHOLDER_AUDIT_KEY = "insecure-development-audit-key-change-me"

#: name -> (default shown in the README, meaning). The README table is checked against it.
SETTINGS_DOC: dict[str, tuple[str, str]] = {
    "KC_DEBUG": ("0", "1 turns on Django's debug pages; never in production."),
    "KC_SECRET_KEY": (
        "(none)",
        "Django secret key; also KC_SECRET_KEY_FILE. Required when KC_DEBUG is off.",
    ),
    "KC_DATA_DIR": ("./var", "Where the SQLite database, outbox and generated secret live."),
    "KC_DATABASE_URL": (
        "sqlite in KC_DATA_DIR",
        "postgres://user:password@host:port/name to use PostgreSQL.",
    ),
    "KC_REPLICA_DATABASE_URL": (
        "(none)",
        "postgres://… of a read replica; reports and exports read from it (docs/deploy.md).",
    ),
    "KC_ALLOWED_HOSTS": ("127.0.0.1,localhost", "Comma-separated host names served."),
    "KC_HTTPS": (
        "1",
        "1 when served over TLS: secure cookies, HSTS, redirect to https. `make run` sets 0 for the loopback demo.",
    ),
    "KC_IDLE_TIMEOUT_MINUTES": ("15", "Default idle timeout before logout (clinic setting)."),
    "KC_LOGIN_FAILURE_LIMIT": ("5", "Failed logins before an account is locked."),
    "KC_LOCKOUT_MINUTES": ("30", "How long a locked account stays locked."),
    "KC_BIND": ("127.0.0.1:8000", "Address `kclinic serve` listens on."),
    "KC_WORKERS": ("2", "Web server worker processes."),
    "KC_EMAIL_HOST": ("(none)", "SMTP host; without it mail goes to KC_DATA_DIR/outbox."),
    "KC_TIME_ZONE": ("UTC", "The clinic's time zone for pages and the schedule, e.g. America/New_York."),
    "KC_PUBLIC_URL": (
        "http://<KC_BIND>",
        "The address staff open the clinic at; links in alert e-mails start with it.",
    ),
    "KC_AUDIT_KEY": (
        "(none)",
        "Key of the audit trail's per-row MAC and signed checkpoints; also KC_AUDIT_KEY_FILE. Required when "
        "KC_DEBUG is off; keep it outside the database and its backups.",
    ),
    "KC_AUDIT_CHECKPOINT_EMAIL": ("(none)", "Where `kclinic audit checkpoint --mail` sends the signed chain head."),
    "KC_DEMO": ("0", "1 allows the public demo password (`make run` sets it); never on a real clinic."),
    "KC_LOGIN_ADDRESS_LIMIT": ("30", "Failed logins from one address (any account) before the address is throttled."),
    "KC_SESSION_HOURS": (
        "12",
        "A login ends after this many hours even with activity; the cookie ends with the browser.",
    ),
    "KC_API_RATE_PER_MINUTE": ("120", "Requests one API token may make in a minute; more get 429 with Retry-After."),
}


class ConfigError(ValueError):
    """A ``KC_*`` variable is malformed or unsafe."""


@dataclass(frozen=True)
class Config:
    debug: bool
    secret_key: str
    data_dir: Path
    database_url: str | None
    allowed_hosts: tuple[str, ...]
    https: bool
    idle_timeout_minutes: int
    login_failure_limit: int
    lockout_minutes: int
    bind: str
    workers: int
    email_host: str | None
    email_from: str = "Ketamine Clinic <no-reply@localhost>"
    time_zone: str = "UTC"
    public_url: str = "http://127.0.0.1:8000"
    audit_key: str = PLACEHOLDER_AUDIT_KEY
    audit_checkpoint_email: str | None = None
    demo: bool = False
    login_address_limit: int = 30
    session_hours: int = 12
    api_rate_per_minute: int = 120
    replica_database_url: str | None = None
    db_prepared_statements: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    path = env.get(f"{name}_FILE")
    if value is None and path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from exc
    return value or None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be from {low} to {high}, got {value}")
    return value


def load(env: Mapping[str, str] | None = None) -> Config:
    """Read the configuration; raise ``ConfigError`` on anything malformed or unsafe."""
    env = os.environ if env is None else env
    debug = _bool(env, "KC_DEBUG", False)
    data_dir = Path(_get(env, "KC_DATA_DIR") or "var").resolve()
    secret = _get(env, "KC_SECRET_KEY")
    if secret is None:
        if not debug:
            raise ConfigError("KC_SECRET_KEY (or KC_SECRET_KEY_FILE) is required when KC_DEBUG=0")
        secret = PLACEHOLDER_SECRET
    if not debug and (secret == PLACEHOLDER_SECRET or len(secret) < 32):
        raise ConfigError("KC_SECRET_KEY is a placeholder or shorter than 32 characters")
    audit_key = _get(env, "KC_AUDIT_KEY")
    if audit_key is None:
        if not debug:
            raise ConfigError("KC_AUDIT_KEY (or KC_AUDIT_KEY_FILE) is required when KC_DEBUG=0")
        audit_key = PLACEHOLDER_AUDIT_KEY
    if not debug and (audit_key == PLACEHOLDER_AUDIT_KEY or len(audit_key) < 32):
        raise ConfigError("KC_AUDIT_KEY is a placeholder or shorter than 32 characters")
    if audit_key == secret:
        raise ConfigError("KC_AUDIT_KEY must differ from KC_SECRET_KEY")
    hosts = _get(env, "KC_ALLOWED_HOSTS") or "127.0.0.1,localhost"
    return Config(
        debug=debug,
        secret_key=secret,
        data_dir=data_dir,
        database_url=_get(env, "KC_DATABASE_URL"),
        allowed_hosts=tuple(h.strip() for h in hosts.split(",") if h.strip()),
        https=_bool(env, "KC_HTTPS", True),
        idle_timeout_minutes=_int(env, "KC_IDLE_TIMEOUT_MINUTES", 15, 1, 240),
        login_failure_limit=_int(env, "KC_LOGIN_FAILURE_LIMIT", 5, 2, 50),
        lockout_minutes=_int(env, "KC_LOCKOUT_MINUTES", 30, 1, 24 * 60),
        bind=_get(env, "KC_BIND") or "127.0.0.1:8000",
        workers=_int(env, "KC_WORKERS", 2, 1, 64),
        email_host=_get(env, "KC_EMAIL_HOST"),
        email_from=_email_from(_get(env, "KC_EMAIL_FROM")),
        time_zone=_time_zone(_get(env, "KC_TIME_ZONE") or "UTC"),
        public_url=_public_url(_get(env, "KC_PUBLIC_URL"), _get(env, "KC_BIND") or "127.0.0.1:8000"),
        audit_key=audit_key,
        audit_checkpoint_email=_get(env, "KC_AUDIT_CHECKPOINT_EMAIL"),
        demo=_bool(env, "KC_DEMO", False),
        login_address_limit=_int(env, "KC_LOGIN_ADDRESS_LIMIT", 30, 5, 10_000),
        session_hours=_int(env, "KC_SESSION_HOURS", 12, 1, 24 * 7),
        api_rate_per_minute=_int(env, "KC_API_RATE_PER_MINUTE", 120, 1, 100_000),
        replica_database_url=_replica(_get(env, "KC_REPLICA_DATABASE_URL"), _get(env, "KC_DATABASE_URL")),
        db_prepared_statements=_bool(env, "KC_DB_PREPARED_STATEMENTS", True),
    )


def _email_from(raw: str | None) -> str:
    """The sender of every message: an address, optionally with a display name."""
    if raw is None:
        return "Ketamine Clinic <no-reply@localhost>"
    address = raw.rsplit("<", 1)[-1].rstrip(">").strip()
    if "@" not in address or " " in address:
        raise ConfigError("KC_EMAIL_FROM must be an e-mail address, e.g. 'Riverside Clinic <care@riverside.example>'")
    return raw.strip()


def _replica(raw: str | None, primary: str | None) -> str | None:
    if raw is None:
        return None
    if primary is None:
        raise ConfigError("KC_REPLICA_DATABASE_URL needs KC_DATABASE_URL (a replica of PostgreSQL)")
    return raw


def _public_url(raw: str | None, bind: str) -> str:
    if raw is None:
        return f"http://{bind}"
    if not raw.startswith(("http://", "https://")):
        raise ConfigError("KC_PUBLIC_URL must start with http:// or https://")
    return raw.rstrip("/")


def _time_zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"KC_TIME_ZONE: unknown time zone {name!r} (use a name like Europe/Paris)") from None
    return name


def load_for_tests() -> Config:
    """The configuration the test suite runs under: ``KC_*`` from the environment over
    safe test defaults (a throwaway secret, no TLS), so ``pytest`` works with no set-up
    and CI can still point ``KC_DATABASE_URL`` at PostgreSQL."""
    defaults = {
        "KC_SECRET_KEY": "test-only-secret-key-0123456789abcdef0123456789",
        "KC_AUDIT_KEY": "test-only-audit-key-0123456789abcdef0123456789",
        "KC_DEMO": "1",  # the suite loads the demo clinic; tests of the refusal turn it off
        "KC_HTTPS": "0",
        "KC_DATA_DIR": "var/test",
    }
    return load({**defaults, **{k: v for k, v in os.environ.items() if k.startswith("KC_")}})
